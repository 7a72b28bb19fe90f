// The tuning job: discovers the member's heartbeat-interval and
// election-timeout, measures disk and network latency (own fsync probe and
// etcd's histograms over the interval since the previous run), and says
// whether they fit (tuning/rule.hpp). Read-only: it never changes etcd. It
// needs no gRPC at all, so it still answers when the cluster has no leader.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "etcd_warden/jobs/job_context.hpp"
#include "etcd_warden/sched/job_result.hpp"
#include "etcd_warden/tuning/discovery.hpp"
#include "etcd_warden/tuning/etcd_scrape.hpp"
#include "etcd_warden/tuning/fsync_probe.hpp"
#include "etcd_warden/tuning/rule.hpp"

namespace etcd_warden::jobs {

// Everything one run found, for `etcd-warden job tuning`'s table.
struct TuningReport {
  tuning::Discovered discovered;
  std::optional<tuning::ProbeResult> probe;  // absent when tuning.probe is off
  std::string probe_dir;
  std::string metrics_url;    // empty when etcd's metrics are not read
  std::string metrics_error;  // why they could not be read
  std::optional<tuning::EtcdInterval> etcd;
  std::string window;  // "over the last 15m", "since etcd started (…)"
  tuning::Advice advice;
};

class TuningJob {
 public:
  explicit TuningJob(JobContext& context) : context_(context) {}
  Task<sched::JobResult> run();

  // The table, current vs recommended and the lines to set; nothing before
  // the first run.
  void print_report(std::ostream& out) const;

 private:
  void publish(const TuningReport& report);

  JobContext& context_;
  std::optional<tuning::EtcdScrape> previous_scrape_;
  std::optional<sched::WallTime> previous_scrape_at_;
  std::optional<tuning::Verdict> last_verdict_;
  std::vector<std::string> last_notes_;
  std::optional<TuningReport> last_;
};

}  // namespace etcd_warden::jobs
