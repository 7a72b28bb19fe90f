#include "daemon_control.hpp"

namespace etcd_warden::app {

std::filesystem::path DaemonControl::snapshot_dir() const {
  return daemon_.runtime().context.config->snapshot.dir;
}

std::vector<control::JobView> DaemonControl::job_views() const {
  const auto& runtime = daemon_.runtime();
  const auto& config = *runtime.context.config;
  const auto now = runtime.clock.now();
  const auto& scheduler = daemon_.scheduler();
  std::vector<control::JobView> views;
  for (const auto& spec : runtime.jobs.specs()) {
    control::JobView view{.name = spec.name, .enabled = spec.enabled(config)};
    if (const auto* schedule = scheduler.schedule_of(spec.name)) {
      view.running = schedule->running();
      if (view.enabled && !view.running && !scheduler.paused()) {
        view.next_in =
            std::max(config::Duration(0),
                     std::chrono::duration_cast<config::Duration>(schedule->next_due() - now));
      }
    }
    views.push_back(std::move(view));
  }
  return views;
}

}  // namespace etcd_warden::app
