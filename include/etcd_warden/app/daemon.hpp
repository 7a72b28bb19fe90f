// `etcd-warden run`: the long-lived service. One io_context thread owns all
// state; jobs, timers, signals and sd_notify all run on it.
//   start:    READY=1 once the scheduler and metrics endpoint are up
//   SIGHUP:   RELOADING=1, re-read and validate; a bad file keeps the old config
//   SIGTERM:  STOPPING=1, stop scheduling, cancel etcd calls, exit 0 within seconds
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "etcd_warden/app/runtime.hpp"
#include "etcd_warden/metrics/warden_metrics.hpp"
#include "etcd_warden/sched/scheduler.hpp"
#include "etcd_warden/systemd/notifier.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::control {
class ControlService;
}

namespace etcd_warden::app {

class DaemonControl;

class Daemon {
 public:
  Daemon(const std::shared_ptr<const config::Config>& config, std::filesystem::path config_path);
  ~Daemon();
  // Runs until SIGTERM/SIGINT. Returns the process exit code.
  int run();

  // --- For the control interface (D-Bus): all called on the loop thread.
  sched::Scheduler::RunNow run_now(const std::string& job) { return scheduler_.run_now(job); }
  void pause(std::optional<config::Duration> duration);
  void resume();
  const status::StatusBoard& board() const { return runtime_.board; }
  Runtime& runtime() { return runtime_; }
  const Runtime& runtime() const { return runtime_; }
  const sched::Scheduler& scheduler() const { return scheduler_; }
  // Called on the loop after each job run, once the board has the result.
  void observe_job_finished(sched::FinishedFn observer) {
    job_observers_.push_back(std::move(observer));
  }

 private:
  void on_job_finished(const std::string& name, const sched::JobResult& result,
                       std::chrono::nanoseconds took);
  void wait_for_signals();
  void reload();
  Task<void> reload_until_settled();
  void shutdown();
  void start_watchdog(std::chrono::microseconds interval);
  void refresh_status();
  void start_control();
  // Puts a validated configuration in force; on failure the previous one stays.
  Task<util::Status> apply(std::shared_ptr<const config::Config> next);

  std::filesystem::path config_path_;
  Runtime runtime_;
  sched::Scheduler scheduler_;
  systemd::Notifier notifier_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string exposer_listen_;
  asio::signal_set signals_;
  asio::steady_timer watchdog_timer_;
  asio::steady_timer pause_timer_;
  asio::steady_timer shutdown_timer_;
  bool stopping_ = false;
  bool reloading_ = false;     // a reload coroutine is running
  bool reload_again_ = false;  // a SIGHUP came during it
  std::vector<sched::FinishedFn> job_observers_;
  std::unique_ptr<DaemonControl> control_view_;       // what the control service may use
  std::unique_ptr<control::ControlService> control_;  // null when the bus is unavailable
};

}  // namespace etcd_warden::app
