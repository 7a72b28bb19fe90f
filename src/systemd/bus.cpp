#include "etcd_warden/systemd/bus.hpp"

#include <sdbus-c++/IConnection.h>

namespace etcd_warden::systemd {

std::string describe_bus(std::string_view spec) {
  if (spec == "system") return "the system bus";
  if (spec == "session") return "the session bus";
  return "bus " + std::string(spec);
}

std::unique_ptr<sdbus::IConnection> open_bus(const std::string& spec) {
  if (spec == "system") return sdbus::createSystemBusConnection();
  if (spec == "session") return sdbus::createSessionBusConnection();
  // A bus daemon at a given address (tests, or a private bus): a normal bus
  // client that says Hello and may own names, like the session bus.
  return sdbus::createSessionBusConnectionWithAddress(spec);
}

}  // namespace etcd_warden::systemd
