// The daemon's D-Bus control interface (io.etcdwarden.Warden1 at
// /io/etcdwarden/Warden1, names in control/names.hpp), served on the
// daemon's own io_context: the bus fd is waited on with Asio and every
// method runs on the loop thread, like the jobs (no second thread, no locks).
//
//   GetStatus() -> a{sv}          GetStatusJson() -> s      ListSnapshots() -> s (JSON)
//   RunJob(s name)                Pause(t seconds; 0 = until resumed)      Resume()
//   signal JobFinished(s job, s result, s summary, d seconds)
//
// Which callers may use which method is the bus policy's business
// (packaging/dbus/io.etcdwarden.Warden1.conf), not the daemon's.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "etcd_warden/control/controlled_daemon.hpp"
#include "etcd_warden/sched/job_result.hpp"

namespace etcd_warden::control {

class ControlService {
 public:
  // Connects to `bus` (`control.bus`: "system", "session" or an address),
  // publishes the object and owns the name. Blocking (sd-bus waits up to its
  // method timeout for a hung bus), so it may run on the blocking pool:
  // `daemon` is only called from the loop, once the loop serves the bus.
  // When it fails (no system bus in a container, the name taken by another
  // warden, a policy refusing it) it logs one warning and returns nullptr:
  // the daemon runs on without control.
  static std::unique_ptr<ControlService> start(ControlledDaemon& daemon, const std::string& bus);

  // Releases the name and closes the connection; callbacks still queued on
  // the loop become no-ops. On the loop.
  ~ControlService();
  ControlService(const ControlService&) = delete;
  ControlService& operator=(const ControlService&) = delete;

  // Emits JobFinished. Called by the daemon on the loop after each run.
  void job_finished(const std::string& job, const sched::JobResult& result,
                    std::chrono::nanoseconds took);

  // False once the bus connection was lost.
  bool connected() const;

  struct State;  // the object and the method handlers; shared with queued callbacks

 private:
  explicit ControlService(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace etcd_warden::control
