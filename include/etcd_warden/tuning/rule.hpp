// The tuning rule: do the member's heartbeat-interval and election-timeout
// fit the latency measured on its disk and network, and what should they be?
// Pure, table-tested (tests/unit/tuning_rule_test.cpp); docs/tuning.md says
// why each threshold is what it is and shows the rule held against a real
// cluster with slowed disks.
//
//   worst = max(fsync p99 of the probe, WAL fsync p99 of etcd, peer RTT p99)
//   recommended heartbeat = max(100ms, 1.5 × worst), rounded up to 50ms
//   recommended election  = 10 × recommended heartbeat, within 1s..50s
//   critical: worst ≥ election / 2, or etcd's own limits broken
//             (election < 5 × heartbeat, election > 50s), or no setting can
//             cover worst (it needs a heartbeat above 5s)
//   warn:     heartbeat < 1.5 × worst; election < 10 × heartbeat; election
//             more than 3 × the recommended one (and 2s more): slow failover;
//             or no latency measured at all
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcd_warden::tuning {

using Millis = std::chrono::milliseconds;

enum class Verdict { ok = 0, warn = 1, critical = 2 };
std::string_view to_string(Verdict v);  // "ok", "warn", "critical"

// p99s in seconds over the last interval; absent when not measured.
struct Measurements {
  // The warden's own probe on the data-dir filesystem: exact, the nearest
  // rank over syncs it timed itself (fsync_probe.cpp), used as measured.
  std::optional<double> probe_fsync_p99;
  // etcd_disk_wal_fsync_duration_seconds: estimate_quantile()'s p99, placed
  // inside its doubling bucket with the interval's _sum (histogram.hpp).
  std::optional<double> wal_fsync_p99;
  std::optional<double> backend_commit_p99;  // etcd_disk_backend_commit_duration_seconds
  std::optional<double> peer_rtt_p99;      // etcd_network_peer_round_trip_time_seconds, worst peer
  std::optional<double> leader_changes;    // etcd_server_leader_changes_seen_total, increase
  std::optional<double> failed_proposals;  // etcd_server_proposals_failed_total, increase
  std::optional<bool> has_leader;          // etcd_server_has_leader
};

// One row of `etcd-warden job tuning`, in the spirit of `etcdctl check perf`.
// `info` rows show a measurement against etcd's hardware guidance; they do
// not change the verdict (raising timeouts is the answer to a slow disk, and
// a disk that is slow but covered must not warn forever).
enum class RowStatus { pass, warn, fail, info };
std::string_view to_string(RowStatus s);  // "PASS", "WARN", "FAIL", "INFO"

struct Row {
  std::string check;  // "heartbeat covers disk and network latency"
  RowStatus status = RowStatus::pass;
  std::string measured;  // "100ms vs 1.5 × 180ms"
  std::string detail;    // what it means or what to do
};

struct RuleParams {
  double margin = 1.5;              // heartbeat ≥ margin × worst latency
  Millis min_heartbeat{100};        // etcd's default: never recommend below it
  Millis step{50};                  // recommendations are rounded up to this
  int election_factor = 10;         // etcd's docs: election ≈ 10 × heartbeat
  Millis min_election{1000};        // etcd's default
  Millis max_election{50000};       // etcd refuses more
  int etcd_min_factor = 5;          // etcd refuses election < 5 × heartbeat
  double conservative_factor = 3;   // election this much above the recommendation…
  Millis conservative_slack{2000};  // …and at least this much longer: slow failover
};

struct Advice {
  Verdict verdict = Verdict::ok;
  Millis heartbeat{0}, election{0};                          // current
  Millis recommended_heartbeat{0}, recommended_election{0};  // what the rule asks for
  std::optional<double> worst;  // seconds: the latency the recommendation covers
  std::string worst_what;       // "WAL fsync p99", "fsync probe p99", "peer RTT p99"
  std::vector<Row> rows;
  std::string summary;  // one line for logs, STATUS= and ctl
};

Advice assess(Millis heartbeat, Millis election, const Measurements& m,
              const RuleParams& params = {});

// "1.04s", "180ms", "0.42ms": latencies as people read them.
std::string format_seconds(double seconds);
// "100ms", "1s", "1.5s", "16s": etcd's millisecond settings, short.
std::string format_millis(Millis ms);

}  // namespace etcd_warden::tuning
