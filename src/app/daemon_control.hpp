// Internal to src/app: the daemon as the control interface sees it
// (control/controlled_daemon.hpp), answered from the runtime and scheduler.
#pragma once

#include "etcd_warden/app/daemon.hpp"
#include "etcd_warden/control/controlled_daemon.hpp"

namespace etcd_warden::app {

class DaemonControl final : public control::ControlledDaemon {
 public:
  explicit DaemonControl(Daemon& daemon) : daemon_(daemon) {}

  asio::io_context& loop() override { return daemon_.runtime().io; }
  asio::thread_pool& blocking_pool() override { return daemon_.runtime().blocking; }
  std::filesystem::path snapshot_dir() const override;
  const status::StatusBoard& board() const override { return daemon_.board(); }
  std::vector<control::JobView> job_views() const override;
  std::string job_names() const override { return daemon_.runtime().jobs.names(); }
  sched::WallTime wall_now() const override { return daemon_.runtime().clock.wall_now(); }
  sched::Scheduler::RunNow run_now(const std::string& job) override { return daemon_.run_now(job); }
  void pause(std::optional<config::Duration> duration) override { daemon_.pause(duration); }
  void resume() override { daemon_.resume(); }

 private:
  Daemon& daemon_;
};

}  // namespace etcd_warden::app
