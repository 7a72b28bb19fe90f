// What the D-Bus control interface may ask of the daemon, and nothing more.
// The daemon (app/) implements it, so control/ never sees the daemon's
// runtime, scheduler or job table, and the layering stays one-way:
// app -> control, never back. Every call is made on the loop thread.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "etcd_warden/asio.hpp"
#include "etcd_warden/config/config.hpp"
#include "etcd_warden/control/status_json.hpp"
#include "etcd_warden/sched/clock.hpp"
#include "etcd_warden/sched/scheduler.hpp"
#include "etcd_warden/status/status_board.hpp"

namespace etcd_warden::control {

class ControlledDaemon {
 public:
  virtual ~ControlledDaemon() = default;

  // The loop the bus is served on, and the pool file I/O runs on.
  virtual asio::io_context& loop() = 0;
  virtual asio::thread_pool& blocking_pool() = 0;

  // `snapshot.dir` of the configuration in force.
  virtual std::filesystem::path snapshot_dir() const = 0;

  virtual const status::StatusBoard& board() const = 0;
  virtual std::vector<JobView> job_views() const = 0;
  virtual std::string job_names() const = 0;  // "status, compaction, ..." for messages
  virtual sched::WallTime wall_now() const = 0;

  virtual sched::Scheduler::RunNow run_now(const std::string& job) = 0;
  // nullopt: until resumed.
  virtual void pause(std::optional<config::Duration> duration) = 0;
  virtual void resume() = 0;
};

}  // namespace etcd_warden::control
