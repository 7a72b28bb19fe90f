// The parts every mode that talks to etcd needs (the daemon and `job NAME`):
// the loop, clock, metrics, status board, blocking pool, etcd client and the
// job table, wired once.
#pragma once

#include <memory>
#include <string>

#include "etcd_warden/app/job_table.hpp"
#include "etcd_warden/asio.hpp"
#include "etcd_warden/jobs/job_context.hpp"

namespace etcd_warden::app {

class Runtime {
 public:
  // Throws std::runtime_error with a one-line message when the etcd client
  // cannot be built (unreadable TLS or password file, bad endpoint).
  explicit Runtime(const std::shared_ptr<const config::Config>& config);
  ~Runtime();

  asio::io_context io;
  sched::SystemClock clock;
  sched::DefaultRandom random;
  metrics::WardenMetrics metrics;
  status::StatusBoard board;
  asio::thread_pool blocking{2};
  jobs::JobContext context;
  JobTable jobs;
};

}  // namespace etcd_warden::app
