// What the tuning check reads from etcd's /metrics, and the interval
// arithmetic: p99s over bucket deltas between two scrapes, counter
// increases. Works when the cluster is in trouble (no leader, Status timing
// out): /metrics still answers, and that is when the numbers matter most.
#pragma once

#include <map>
#include <optional>

#include "etcd_warden/net/prom_text.hpp"
#include "etcd_warden/tuning/histogram.hpp"

namespace etcd_warden::tuning {

struct EtcdScrape {
  std::map<LabelSet, Histogram> wal_fsync;       // etcd_disk_wal_fsync_duration_seconds
  std::map<LabelSet, Histogram> backend_commit;  // etcd_disk_backend_commit_duration_seconds
  std::map<LabelSet, Histogram> peer_rtt;        // etcd_network_peer_round_trip_time_seconds{To}
  std::optional<double> leader_changes;          // etcd_server_leader_changes_seen_total
  std::optional<double> failed_proposals;        // etcd_server_proposals_failed_total
  std::optional<bool> has_leader;                // etcd_server_has_leader
};

EtcdScrape read_etcd_scrape(const net::ParsedMetrics& metrics);

struct EtcdInterval {
  // Seconds, estimate_quantile()'s: placed inside their buckets with _sum.
  std::optional<double> wal_fsync_p99, backend_commit_p99, peer_rtt_p99;
  std::optional<QuantileEstimate> wal_fsync_estimate;      // how the WAL p99 was placed
  std::optional<double> leader_changes, failed_proposals;  // increases; absent without `before`
  std::optional<bool> has_leader;
  double wal_fsync_observations = 0;
  // Too few observations in the interval (an idle member barely syncs): the
  // p99 is taken over etcd's whole lifetime instead, and this says so.
  bool since_start = false;
};

// The interval from `before` (nullopt: none, e.g. the first run) to `now`.
// A histogram with fewer than `min_observations` new observations falls back
// to its counts since etcd started. `probe`: the fsync probe's exact figures
// on the data-dir filesystem, which help place the WAL fsync p99 inside its
// bucket (estimate_quantile()); the rule also uses the probe's p99 as is.
EtcdInterval measure_interval(const std::optional<EtcdScrape>& before, const EtcdScrape& now,
                              const std::optional<ExactFigures>& probe = std::nullopt,
                              double min_observations = 20);

}  // namespace etcd_warden::tuning
