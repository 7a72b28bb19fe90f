#include "etcd_warden/metrics/warden_metrics.hpp"

#include "etcd_warden/util/build_info.hpp"

namespace etcd_warden::metrics {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

prometheus::Family<prometheus::Gauge>& gauge_family(prometheus::Registry& r,
                                                    const std::string& name,
                                                    const std::string& help) {
  return BuildGauge().Name(name).Help(help).Register(r);
}

prometheus::Gauge& gauge(prometheus::Registry& r, const std::string& name,
                         const std::string& help) {
  return gauge_family(r, name, help).Add({});
}

}  // namespace

// Members are initialised in declaration order; registry_ is declared last
// but must exist first, so it is built by a helper that the first member uses.
WardenMetrics::WardenMetrics() : WardenMetrics(std::make_shared<prometheus::Registry>()) {}

WardenMetrics::WardenMetrics(const std::shared_ptr<prometheus::Registry>& r)
    : etcd_up(
          gauge(*r, "etcd_warden_etcd_up", "1 when the local etcd member answers Status, else 0")),
      member_db_size_bytes(gauge(*r, "etcd_warden_member_db_size_bytes",
                                 "Size of the local member's backend database")),
      member_db_size_in_use_bytes(
          gauge(*r, "etcd_warden_member_db_size_in_use_bytes",
                "Bytes of the local member's database in use (the rest is free pages)")),
      member_quota_bytes(
          gauge(*r, "etcd_warden_member_quota_bytes", "Backend quota of the local member")),
      member_is_leader(
          gauge(*r, "etcd_warden_member_is_leader", "1 when the local member is the raft leader")),
      paused(gauge(*r, "etcd_warden_paused", "1 while scheduled maintenance is paused")),
      alarm_active(gauge_family(*r, "etcd_warden_alarm_active",
                                "1 while an etcd alarm of this type is raised")),
      snapshot_last_size_bytes(gauge_family(*r, "etcd_warden_snapshot_last_size_bytes",
                                            "Size of the newest verified snapshot file")),
      snapshot_last_revision(gauge_family(*r, "etcd_warden_snapshot_last_revision",
                                          "Revision of the newest verified snapshot")),
      defrag_reclaimed_bytes_total(BuildCounter()
                                       .Name("etcd_warden_defrag_reclaimed_bytes_total")
                                       .Help("Bytes reclaimed by defragmenting the local member")
                                       .Register(*r)
                                       .Add({})),
      defrag_last_duration_seconds(
          gauge_family(*r, "etcd_warden_defrag_last_duration_seconds",
                       "How long the last Defragment call of this warden took")),
      compaction_last_revision(gauge_family(*r, "etcd_warden_compaction_last_revision",
                                            "Revision of the last compaction")),
      disk_fsync_p99_seconds(gauge_family(*r, "etcd_warden_disk_fsync_p99_seconds",
                                          "p99 of disk sync latency, by source (probe, etcd)")),
      peer_rtt_p99_seconds(gauge_family(*r, "etcd_warden_peer_rtt_p99_seconds",
                                        "p99 of peer round-trip time reported by etcd")),
      tuning_heartbeat_seconds(gauge_family(*r, "etcd_warden_tuning_heartbeat_seconds",
                                            "heartbeat-interval, by kind (current, recommended)")),
      tuning_election_timeout_seconds(
          gauge_family(*r, "etcd_warden_tuning_election_timeout_seconds",
                       "election-timeout, by kind (current, recommended)")),
      tuning_verdict(gauge_family(*r, "etcd_warden_tuning_verdict",
                                  "Tuning verdict: 0 ok, 1 warn, 2 critical")),
      consistency_mismatch(gauge_family(
          *r, "etcd_warden_consistency_mismatch",
          "1 while the last cross-member HashKV comparison found members that differ")),
      consistency_last_check(
          gauge_family(*r, "etcd_warden_consistency_last_check_timestamp_seconds",
                       "Unix time of the last conclusive cross-member HashKV comparison")),
      drill_last_success(
          gauge_family(*r, "etcd_warden_drill_last_success_timestamp_seconds",
                       "Unix time the last restore drill succeeded (kept across restarts)")),
      drill_duration_seconds(gauge_family(
          *r, "etcd_warden_drill_duration_seconds",
          "Seconds the last successful restore drill took from restore to a serving etcd "
          "(the measured recovery time for this database size)")),
      upload_last_success(
          gauge_family(*r, "etcd_warden_snapshot_upload_last_success_timestamp_seconds",
                       "Unix time of the last verified upload to each snapshot.upload target")),
      upload_bytes(gauge_family(*r, "etcd_warden_snapshot_upload_bytes",
                                "Bytes of the last successful upload, by target")),
      upload_duration_seconds(gauge_family(
          *r, "etcd_warden_snapshot_upload_duration_seconds",
          "Seconds the last successful upload took (send, check, sidecar), by target")),
      registry_(r),
      snapshot_recheck_total_(BuildCounter()
                                  .Name("etcd_warden_snapshot_recheck_total")
                                  .Help("Scheduled re-checks of kept snapshots against their "
                                        "sha256, by result (ok, failed)")
                                  .Register(*r)),
      upload_total_(BuildCounter()
                        .Name("etcd_warden_snapshot_upload_total")
                        .Help("Uploads of snapshots to snapshot.upload targets, by target and "
                              "result (success, failure)")
                        .Register(*r)),
      job_runs_total_(BuildCounter()
                          .Name("etcd_warden_job_runs_total")
                          .Help("Job runs by job and result (success, failure, skipped)")
                          .Register(*r)),
      job_duration_seconds_(BuildHistogram()
                                .Name("etcd_warden_job_duration_seconds")
                                .Help("How long job runs took")
                                .Register(*r)),
      job_last_success_(gauge_family(*r, "etcd_warden_job_last_success_timestamp_seconds",
                                     "Unix time of the job's last successful run")),
      certificate_expiry_(gauge_family(
          *r, "etcd_warden_certificate_expiry_timestamp_seconds",
          "Unix time when the certificate file stops being valid (its first certificate "
          "to expire), by path and role")) {
  gauge_family(*r, "etcd_warden_build_info", "Always 1; labels describe the build")
      .Add({{"version", build::kVersion}})
      .Set(1);
  for (const char* result : {"ok", "failed"}) snapshot_recheck_total_.Add({{"result", result}});
}

void WardenMetrics::set_certificate_expiries(const std::vector<CertificateSeries>& series) {
  for (auto* gauge : certificate_series_) certificate_expiry_.Remove(gauge);
  certificate_series_.clear();
  for (const auto& s : series) {
    auto& gauge = certificate_expiry_.Add({{"path", s.path}, {"role", s.role}});
    gauge.Set(s.not_after_seconds);
    certificate_series_.push_back(&gauge);
  }
}

void WardenMetrics::declare_upload_target(const std::string& target) {
  for (const char* result : {"success", "failure"}) {
    upload_total_.Add({{"target", target}, {"result", result}});
  }
  upload_bytes.Add({{"target", target}});
  upload_duration_seconds.Add({{"target", target}});
}

void WardenMetrics::snapshot_uploaded(const std::string& target, bool ok) {
  upload_total_.Add({{"target", target}, {"result", ok ? "success" : "failure"}}).Increment();
}

void WardenMetrics::snapshot_rechecked(bool ok) {
  snapshot_recheck_total_.Add({{"result", ok ? "ok" : "failed"}}).Increment();
}

void WardenMetrics::declare_job(const std::string& job) {
  for (auto outcome : {sched::Outcome::success, sched::Outcome::failure, sched::Outcome::skipped}) {
    job_runs_total_.Add({{"job", job}, {"result", std::string(sched::to_string(outcome))}});
  }
}

void WardenMetrics::set_last_success(const std::string& job, double unix_seconds) {
  job_last_success_.Add({{"job", job}}).Set(unix_seconds);
}

void WardenMetrics::job_finished(const std::string& job, sched::Outcome outcome, double seconds,
                                 double wall_now_seconds) {
  job_runs_total_.Add({{"job", job}, {"result", std::string(sched::to_string(outcome))}})
      .Increment();
  // Buckets from 1 ms (a status poll) to 1 h (a defrag or snapshot of a large DB).
  static const prometheus::Histogram::BucketBoundaries kBuckets{0.001, 0.005, 0.025, 0.1, 0.5, 1, 5,
                                                                15,    60,    300,   900, 3600};
  job_duration_seconds_.Add({{"job", job}}, kBuckets).Observe(seconds);
  if (outcome == sched::Outcome::success)
    job_last_success_.Add({{"job", job}}).Set(wall_now_seconds);
}

ExposerResult expose(const std::string& listen,
                     const std::shared_ptr<prometheus::Registry>& registry) {
  ExposerResult out;
  try {
    // civetweb serves one connection per thread and gives each request
    // request_timeout_ms per read or write. Eight threads: a few clients that
    // open a connection and send nothing (a port scan, slowloris) cannot take
    // every thread, and idle threads cost a stack each, no CPU. Two seconds:
    // a scraper sends its whole request at once; a connection that stalls
    // gives its thread back quickly (civetweb's default is 30 s).
    out.exposer = std::make_unique<prometheus::Exposer>(std::vector<std::string>{
        "listening_ports", listen, "num_threads", std::to_string(kServerThreads),
        "request_timeout_ms", std::to_string(kRequestTimeoutMs)});
    out.exposer->RegisterCollectable(registry);
    auto ports = out.exposer->GetListeningPorts();
    if (!ports.empty()) out.port = static_cast<unsigned short>(ports.front());
  } catch (const std::exception& e) {
    out.exposer.reset();
    out.error = "metrics.listen " + listen + ": cannot listen (" + e.what() + ")";
  }
  return out;
}

}  // namespace etcd_warden::metrics
