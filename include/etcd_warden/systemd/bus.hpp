// Which bus to talk on, as `control.bus` and `ctl --bus` spell it: "system",
// "session", or a D-Bus address ("unix:path=/run/x.sock"). Shared by the
// daemon's service and `ctl`, so both always mean the same bus.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace sdbus {
class IConnection;
}

namespace etcd_warden::systemd {

// "the system bus", "the session bus", "bus unix:path=/x": for messages.
std::string describe_bus(std::string_view spec);

// A connection to the bus, not yet owning any name. Throws sdbus::Error when
// the bus cannot be reached (no socket, refused, authentication failed).
std::unique_ptr<sdbus::IConnection> open_bus(const std::string& spec);

}  // namespace etcd_warden::systemd
