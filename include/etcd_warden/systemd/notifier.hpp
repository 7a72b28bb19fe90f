// sd_notify(3) for a Type=notify service: READY, STATUS, WATCHDOG, RELOADING,
// STOPPING. Without NOTIFY_SOCKET (run by hand) every call is a no-op.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace etcd_warden::systemd {

class Notifier {
 public:
  void ready() { send("READY=1"); }
  void stopping() { send("STOPPING=1"); }
  void watchdog() { send("WATCHDOG=1"); }
  // RELOADING=1 with MONOTONIC_USEC, as systemd 253+ expects for Type=notify-reload.
  void reloading();
  // Sends STATUS= only when the line changed; returns true when it sent.
  bool status(const std::string& line);
  // The watchdog interval systemd asked for (WATCHDOG_USEC), if any.
  static std::optional<std::chrono::microseconds> watchdog_interval();

 private:
  void send(const std::string& message);
  std::string last_status_;
};

}  // namespace etcd_warden::systemd
