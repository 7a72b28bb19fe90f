#include "etcd_warden/systemd/notifier.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

namespace etcd_warden::systemd {

void Notifier::send(const std::string& message) {
  // unset_environment=0: children (hooks) must not inherit NOTIFY_SOCKET, but
  // we keep it for our own later calls; hooks get a cleaned environment.
  sd_notify(0, message.c_str());
}

void Notifier::reloading() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const long long usec = static_cast<long long>(ts.tv_sec) * 1000000LL + ts.tv_nsec / 1000;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

bool Notifier::status(const std::string& line) {
  if (line == last_status_) return false;
  last_status_ = line;
  send("STATUS=" + line);
  return true;
}

std::optional<std::chrono::microseconds> Notifier::watchdog_interval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) return std::chrono::microseconds(usec);
  return std::nullopt;
}

}  // namespace etcd_warden::systemd
