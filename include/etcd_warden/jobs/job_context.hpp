// What every job may use, owned by the daemon. `config` and `etcd` are
// replaced on a good SIGHUP; a job copies the shared_ptrs it needs at the start
// of a run, so a reload never changes them under a running job.
#pragma once

#include <functional>
#include <memory>

#include "etcd_warden/asio.hpp"
#include "etcd_warden/config/config.hpp"
#include "etcd_warden/etcd/client.hpp"
#include "etcd_warden/metrics/warden_metrics.hpp"
#include "etcd_warden/sched/clock.hpp"
#include "etcd_warden/status/status_board.hpp"

namespace etcd_warden::jobs {

struct JobContext {
  asio::any_io_executor executor;
  const sched::Clock& clock;
  metrics::WardenMetrics& metrics;
  status::StatusBoard& board;
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<etcd::Client> etcd;
  // Blocking work (fsync, file writes, compression) goes here, never on the loop.
  asio::thread_pool* blocking = nullptr;
  // Called after a job changed what the STATUS= line shows while it runs
  // (board.activity); the daemon sends the line at once. Empty: nobody listens.
  std::function<void()> status_changed{};
};

}  // namespace etcd_warden::jobs
