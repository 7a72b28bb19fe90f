#include "etcd_warden/app/daemon.hpp"

#include <spdlog/spdlog.h>

#include <csignal>

#include "daemon_control.hpp"
#include "etcd_warden/config/loader.hpp"
#include "etcd_warden/config/units.hpp"
#include "etcd_warden/control/control_service.hpp"
#include "etcd_warden/systemd/logging.hpp"
#include "etcd_warden/util/build_info.hpp"
#include "etcd_warden/util/offload.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::app {

namespace {

// Long enough for a running status poll or lock release to finish; short
// enough that systemd's stop (TimeoutStopSec) is never reached.
constexpr auto kShutdownGrace = std::chrono::seconds(4);

}  // namespace

Daemon::Daemon(const std::shared_ptr<const config::Config>& config,
               std::filesystem::path config_path)
    : config_path_(std::move(config_path)),
      runtime_(config),
      scheduler_(runtime_.io.get_executor(), runtime_.clock, runtime_.random,
                 [this](const std::string& n, const sched::JobResult& r,
                        std::chrono::nanoseconds t) { on_job_finished(n, r, t); }),
      signals_(runtime_.io, SIGTERM, SIGINT, SIGHUP),
      watchdog_timer_(runtime_.io),
      pause_timer_(runtime_.io),
      shutdown_timer_(runtime_.io),
      control_view_(std::make_unique<DaemonControl>(*this)) {
  runtime_.context.status_changed = [this] { refresh_status(); };
}

Daemon::~Daemon() = default;

int Daemon::run() {
  const auto& cfg = *runtime_.context.config;
  if (!cfg.metrics.listen.empty()) {
    auto exposed = metrics::expose(cfg.metrics.listen, runtime_.metrics.registry());
    if (!exposed.exposer) {
      spdlog::error("{}", exposed.error);
      return 1;
    }
    exposer_ = std::move(exposed.exposer);
    exposer_listen_ = cfg.metrics.listen;
    spdlog::info("metrics listening on {} (port {})", cfg.metrics.listen, exposed.port);
  }

  for (const auto& spec : runtime_.jobs.specs()) {
    runtime_.metrics.declare_job(spec.name);
    if (spec.on_start) spec.on_start();
    scheduler_.add(spec.name, spec.schedule(cfg), spec.run);
    scheduler_.set_enabled(spec.name, spec.enabled(cfg));
  }
  scheduler_.start();
  wait_for_signals();
  observe_job_finished(
      [this](const std::string& n, const sched::JobResult& r, std::chrono::nanoseconds t) {
        if (control_) control_->job_finished(n, r, t);
      });
  start_control();  // never fatal: without a bus the daemon runs on without control
  if (auto interval = systemd::Notifier::watchdog_interval()) start_watchdog(*interval);

  spdlog::info("etcd-warden {} started config={} endpoints={} jobs={}", build::kVersion,
               config_path_.string(), cfg.etcd.endpoints.size(), runtime_.jobs.names());
  refresh_status();
  notifier_.ready();

  runtime_.io.run();
  spdlog::info("etcd-warden stopped");
  return 0;
}

void Daemon::wait_for_signals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      reload();
      wait_for_signals();
    } else {
      shutdown();
    }
  });
}

void Daemon::start_watchdog(std::chrono::microseconds interval) {
  // Half the interval, as sd_watchdog_enabled(3) advises. The ping comes from
  // the loop itself, so a blocked loop means no ping and systemd restarts us.
  watchdog_timer_.expires_after(interval / 2);
  watchdog_timer_.async_wait([this, interval](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    notifier_.watchdog();
    start_watchdog(interval);
  });
}

void Daemon::on_job_finished(const std::string& name, const sched::JobResult& result,
                             std::chrono::nanoseconds took) {
  const auto now = runtime_.clock.wall_now();
  const double seconds = std::chrono::duration<double>(took).count();
  runtime_.metrics.job_finished(name, result.outcome, seconds, sched::unix_seconds_exact(now));

  auto& record = runtime_.board.jobs[name];
  const bool changed = record.outcome != result.outcome || record.summary != result.summary;
  const bool first = record.finished_at == sched::WallTime{};
  record.outcome = result.outcome;
  record.summary = result.summary;
  record.finished_at = now;
  record.seconds = seconds;
  record.consecutive_failures =
      result.outcome == sched::Outcome::failure ? record.consecutive_failures + 1 : 0;
  if (result.outcome == sched::Outcome::success) record.last_success = now;

  // The status job polls often and reports its own state changes; the alarms
  // job polls as often, so only a changed result is news. Other jobs are rare
  // and each run is an event worth a line.
  const bool news =
      name == "status"   ? changed && result.outcome != sched::Outcome::success && !first
      : name == "alarms" ? changed && !(first && result.outcome == sched::Outcome::success)
                         : true;
  if (news) {
    const auto level =
        result.outcome == sched::Outcome::failure ? spdlog::level::warn : spdlog::level::info;
    spdlog::log(level, "job={} result={} took={:.3f}s {}", name, sched::to_string(result.outcome),
                seconds, result.summary);
  }
  refresh_status();
  for (const auto& observer : job_observers_) observer(name, result, took);
}

void Daemon::start_control() {
  control_.reset();  // first: the new connection may want the same name
  control_ = control::ControlService::start(*control_view_, runtime_.context.config->control.bus);
}

void Daemon::refresh_status() {
  notifier_.status(status::format_status_line(runtime_.board, runtime_.clock.wall_now()));
}

void Daemon::reload() {
  // A SIGHUP during a reload is not lost: one more reload follows, so the
  // file read last is the one in force.
  if (reloading_) {
    reload_again_ = true;
    return;
  }
  reloading_ = true;
  asio::co_spawn(runtime_.io, reload_until_settled(), [this](const std::exception_ptr& e) {
    reloading_ = false;
    if (!e) return;
    std::string problem = "unknown error";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      problem = x.what();
    } catch (...) {
    }
    spdlog::error("reload failed, keeping the previous configuration: {}", problem);
    // Said in STATUS and `ctl status` too, as for a config the loader refused.
    runtime_.board.config_problem = problem;
    refresh_status();
    notifier_.ready();
  });
}

// Everything that may block (reading the file and the TLS files it names,
// connecting to D-Bus, whose calls wait up to 25 s on a hung bus) runs on the
// blocking pool; the loop goes on running jobs and pinging the watchdog.
Task<void> Daemon::reload_until_settled() {
  do {
    reload_again_ = false;
    notifier_.reloading();
    spdlog::info("reload requested config={}", config_path_.string());
    auto read = offload(runtime_.blocking, runtime_.io.get_executor(), [path = config_path_] {
      return config::load_file(path, config::ReferencedFiles::checked);
    });
    auto loaded = co_await std::move(read);
    if (stopping_) co_return;
    std::string problem;
    if (!loaded.ok()) {
      for (const auto& e : loaded.errors) spdlog::error("{}", e.to_string());
      problem = loaded.errors.front().to_string();
      if (loaded.errors.size() > 1)
        problem += " (+" + std::to_string(loaded.errors.size() - 1) + " more)";
    } else {
      auto applying = apply(std::make_shared<const config::Config>(std::move(*loaded.config)));
      const util::Status applied = co_await std::move(applying);
      if (stopping_) co_return;
      if (!applied) problem = applied.error();
    }
    if (problem.empty()) {
      spdlog::info("reload done");
    } else {
      spdlog::error("reload failed, keeping the previous configuration: {}", problem);
    }
    runtime_.board.config_problem = problem;
    refresh_status();
    notifier_.ready();
  } while (reload_again_ && !stopping_);
}

Task<util::Status> Daemon::apply(std::shared_ptr<const config::Config> next) {
  const auto previous = runtime_.context.config;
  const auto loop = runtime_.io.get_executor();
  std::shared_ptr<etcd::Client> client = runtime_.context.etcd;
  if (!(next->etcd == previous->etcd)) {
    // Creating a client reads its TLS and password files.
    auto create = offload(runtime_.blocking, loop,
                          [next, loop] { return etcd::Client::create(next->etcd, loop); });
    auto made = co_await std::move(create);
    if (!made) co_return util::fail(made.error());
    client = *std::move(made);
  }
  if (stopping_) co_return util::fail("stopping");
  if (next->metrics.listen != exposer_listen_) {
    exposer_
        .reset();  // free the old address first: the new one may be the same port on another host
    if (!next->metrics.listen.empty()) {
      auto exposed = metrics::expose(next->metrics.listen, runtime_.metrics.registry());
      if (!exposed.exposer) {
        // Put the old endpoint back so the warden stays observable.
        auto back = metrics::expose(exposer_listen_, runtime_.metrics.registry());
        exposer_ = std::move(back.exposer);
        co_return util::fail(exposed.error);
      }
      exposer_ = std::move(exposed.exposer);
    }
    exposer_listen_ = next->metrics.listen;
  }
  const bool control_changed = !(next->control == previous->control);
  runtime_.context.etcd = std::move(client);
  runtime_.context.config = next;
  systemd::set_log_level(next->log.level);
  for (const auto& spec : runtime_.jobs.specs()) {
    scheduler_.reschedule(spec.name, spec.schedule(*next));
    scheduler_.set_enabled(spec.name, spec.enabled(*next));
  }
  // A changed bus, or one that was missing or lost: (re)connect on reload.
  if (control_changed || !control_ || !control_->connected()) {
    control_.reset();  // first: the new connection may want the same name
    auto connect = offload(runtime_.blocking, loop, [this, bus = next->control.bus] {
      return control::ControlService::start(*control_view_, bus);
    });
    auto started = co_await std::move(connect);
    // Stopped meanwhile: the name must stay released, as shutdown left it.
    if (!stopping_) control_ = std::move(started);
  }
  co_return util::ok();
}

void Daemon::pause(std::optional<config::Duration> duration) {
  scheduler_.set_paused(true);
  runtime_.board.paused = true;
  runtime_.metrics.paused.Set(1);
  pause_timer_.cancel();
  if (duration) {
    runtime_.board.paused_until = runtime_.clock.wall_now() + *duration;
    pause_timer_.expires_after(*duration);
    pause_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) resume();
    });
  } else {
    runtime_.board.paused_until.reset();
  }
  spdlog::info("maintenance paused{}",
               duration ? " for " + config::format_duration(*duration) : "");
  refresh_status();
}

void Daemon::resume() {
  pause_timer_.cancel();
  scheduler_.set_paused(false);
  runtime_.board.paused = false;
  runtime_.board.paused_until.reset();
  runtime_.metrics.paused.Set(0);
  spdlog::info("maintenance resumed");
  refresh_status();
}

void Daemon::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  notifier_.stopping();
  spdlog::info("stopping: no new runs; cancelling etcd calls in flight");
  scheduler_.stop();
  runtime_.context.etcd->cancel_all();
  runtime_.jobs.cancel_in_flight();
  signals_.cancel();
  watchdog_timer_.cancel();
  pause_timer_.cancel();
  control_.reset();  // the name goes at once: ctl now says "not running"
  // Running jobs see their calls cancelled and clean up (a partial snapshot is
  // removed, a lock's lease revoked). If one still hangs, stop the loop anyway.
  shutdown_timer_.expires_after(kShutdownGrace);
  shutdown_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (!scheduler_.idle())
      spdlog::warn("stopping: a job did not finish within {}s; leaving it", kShutdownGrace.count());
    runtime_.io.stop();
  });
  // When everything else is done, only the grace timer keeps the loop alive.
  asio::co_spawn(
      runtime_.io,
      [this]() -> Task<void> {
        asio::steady_timer poll(runtime_.io);
        while (!scheduler_.idle() || runtime_.context.etcd->in_flight() > 0) {
          poll.expires_after(std::chrono::milliseconds(20));
          co_await poll.async_wait(asio::use_awaitable);
        }
        shutdown_timer_.cancel();
      },
      asio::detached);
}

}  // namespace etcd_warden::app
