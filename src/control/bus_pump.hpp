// Internal to src/control: an sd-bus connection served on an Asio loop. The
// bus socket is waited on with Asio (readable, writable while sd-bus has
// queued output; with sdbus-c++ 2.x also its event fd, readable when
// messages wait in its queue) together with sd-bus's own timeout; then sd-bus processes
// what is pending, a batch at a time so timers, jobs and the watchdog get
// their turn. Everything runs on the loop thread: no second thread, no locks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "etcd_warden/asio.hpp"

namespace sdbus {
class IConnection;
}

namespace etcd_warden::control {

class BusPump : public std::enable_shared_from_this<BusPump> {
 public:
  // `on_lost` runs on the loop, once, when sd-bus reports the connection
  // broken, just before the pump closes it: the owner drops its objects.
  BusPump(asio::io_context& io, std::unique_ptr<sdbus::IConnection> connection,
          std::function<void(const std::string&)> on_lost);
  ~BusPump();
  BusPump(const BusPump&) = delete;
  BusPump& operator=(const BusPump&) = delete;

  // Starts serving: posted to the loop, so it may be called from any thread.
  void start();
  // A reply or signal was sent outside the pump: make sure a write wait
  // covers what sd-bus could not write at once.
  void after_send();
  // Stops waiting and closes the connection; queued callbacks become no-ops.
  void close();

  sdbus::IConnection* connection() const { return connection_.get(); }

 private:
  void pump();
  void arm();
  void post_pump();
  void lost(const std::string& why);

  asio::io_context& io_;
  std::unique_ptr<sdbus::IConnection> connection_;
  std::function<void(const std::string&)> on_lost_;
  asio::posix::stream_descriptor fd_;        // sd-bus's socket: watched, never owned
  asio::posix::stream_descriptor event_fd_;  // 2.x's event fd (closed: none); not owned
  asio::steady_timer timer_;                 // sd-bus's own timeouts (method calls, auth)
  bool read_armed_ = false;
  bool write_armed_ = false;
  bool event_armed_ = false;
  bool pump_posted_ = false;
};

}  // namespace etcd_warden::control
