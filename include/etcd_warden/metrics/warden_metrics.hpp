// Every metric the warden exports, named in one place (the user's contract:
// docs/metrics.md; renaming one breaks their dashboards and alerts). Jobs set values through this
// object; the Exposer serves the registry from its own threads (prometheus-cpp metrics are
// thread-safe), so a scrape never touches the event loop.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "etcd_warden/sched/job_result.hpp"

namespace etcd_warden::metrics {

class WardenMetrics {
 public:
  WardenMetrics();

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // Job bookkeeping: runs by result, duration, last success time.
  void job_finished(const std::string& job, sched::Outcome outcome, double seconds,
                    double wall_now_seconds);

  prometheus::Gauge& etcd_up;
  prometheus::Gauge& member_db_size_bytes;
  prometheus::Gauge& member_db_size_in_use_bytes;
  prometheus::Gauge& member_quota_bytes;
  prometheus::Gauge& member_is_leader;
  prometheus::Gauge& paused;
  prometheus::Family<prometheus::Gauge>& alarm_active;  // {type}
  prometheus::Gauge& alarm(const std::string& type) { return alarm_active.Add({{"type", type}}); }

  // Filled in by the later jobs. These are families, not gauges: a series
  // appears only once a job has set it, so "no tuning yet" never reads as
  // verdict 0 (ok) and "no snapshot yet" never as a 0-byte snapshot.
  // Set with set(family, value[, labels]).
  prometheus::Family<prometheus::Gauge>& snapshot_last_size_bytes;
  prometheus::Family<prometheus::Gauge>& snapshot_last_revision;
  // etcd_warden_snapshot_recheck_total{result="ok"|"failed"}, both from 0.
  void snapshot_rechecked(bool ok);
  prometheus::Counter& defrag_reclaimed_bytes_total;
  prometheus::Family<prometheus::Gauge>& defrag_last_duration_seconds;
  prometheus::Family<prometheus::Gauge>& compaction_last_revision;
  prometheus::Family<prometheus::Gauge>& disk_fsync_p99_seconds;  // {source}
  prometheus::Family<prometheus::Gauge>& peer_rtt_p99_seconds;
  prometheus::Family<prometheus::Gauge>& tuning_heartbeat_seconds;         // {kind}
  prometheus::Family<prometheus::Gauge>& tuning_election_timeout_seconds;  // {kind}
  prometheus::Family<prometheus::Gauge>& tuning_verdict;
  // From the leader's warden's last conclusive check, on every warden.
  prometheus::Family<prometheus::Gauge>& consistency_mismatch;
  prometheus::Family<prometheus::Gauge>& consistency_last_check;
  // The last successful restore drill (also in <snapshot.dir>/.drill.json).
  prometheus::Family<prometheus::Gauge>& drill_last_success;
  prometheus::Family<prometheus::Gauge>& drill_duration_seconds;

  // Uploads to snapshot.upload targets, by target: the counters from 0 for
  // both results (declare_upload_target), the last success's time, size and
  // duration (absent, 0 and 0 until then).
  void declare_upload_target(const std::string& target);
  void snapshot_uploaded(const std::string& target, bool ok);
  prometheus::Family<prometheus::Gauge>& upload_last_success;
  prometheus::Family<prometheus::Gauge>& upload_bytes;
  prometheus::Family<prometheus::Gauge>& upload_duration_seconds;

  // etcd_warden_certificate_expiry_timestamp_seconds{path,role}: exactly the
  // certificates of the last check; a file no longer in use loses its series.
  struct CertificateSeries {
    std::string path, role;
    double not_after_seconds = 0;
  };
  void set_certificate_expiries(const std::vector<CertificateSeries>& series);

  static void set(prometheus::Family<prometheus::Gauge>& family, double value,
                  const std::map<std::string, std::string>& labels = {}) {
    family.Add(labels).Set(value);
  }

  // Creates the job's series at 0 for every result, so the first failure is
  // an increase that alert rules can see.
  void declare_job(const std::string& job);
  void set_last_success(const std::string& job, double unix_seconds);

 private:
  explicit WardenMetrics(const std::shared_ptr<prometheus::Registry>& registry);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& snapshot_recheck_total_;
  prometheus::Family<prometheus::Counter>& upload_total_;
  prometheus::Family<prometheus::Counter>& job_runs_total_;
  prometheus::Family<prometheus::Histogram>& job_duration_seconds_;
  prometheus::Family<prometheus::Gauge>& job_last_success_;
  prometheus::Family<prometheus::Gauge>& certificate_expiry_;
  std::vector<prometheus::Gauge*> certificate_series_;
};

// The HTTP endpoint. nullptr and an error when the address cannot be bound.
// The /metrics server's threads and its per-read timeout (docs/metrics.md).
inline constexpr int kServerThreads = 8;
inline constexpr int kRequestTimeoutMs = 2000;

struct ExposerResult {
  std::unique_ptr<prometheus::Exposer> exposer;
  std::string error;
  unsigned short port = 0;
};
ExposerResult expose(const std::string& listen,
                     const std::shared_ptr<prometheus::Registry>& registry);

}  // namespace etcd_warden::metrics
