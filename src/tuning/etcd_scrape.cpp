#include "etcd_warden/tuning/etcd_scrape.hpp"

namespace etcd_warden::tuning {

namespace {

constexpr double kP99 = 0.99;

std::optional<double> increase(const std::optional<EtcdScrape>& before,
                               std::optional<double> EtcdScrape::*field, const EtcdScrape& now) {
  if (!before || !((*before).*field) || !(now.*field)) return std::nullopt;
  const double was = *((*before).*field);
  const double is = *(now.*field);
  return is >= was ? is - was : is;  // a reset: etcd restarted, count from zero
}

// The worst series' p99 over the interval, or over etcd's lifetime when the
// interval saw too little.
std::optional<SeriesQuantile> p99(const std::optional<EtcdScrape>& before,
                                  std::map<LabelSet, Histogram> EtcdScrape::*field,
                                  const EtcdScrape& now, double min_observations, bool& since_start,
                                  const std::optional<ExactFigures>& same = std::nullopt) {
  static const std::map<LabelSet, Histogram> kNone;
  if (before) {
    auto q = worst_quantile((*before).*field, now.*field, kP99, same);
    if (q && q->observations >= min_observations) return q;
  }
  auto whole = worst_quantile(kNone, now.*field, kP99, same);
  if (whole) since_start = true;
  return whole;
}

}  // namespace

EtcdScrape read_etcd_scrape(const net::ParsedMetrics& metrics) {
  EtcdScrape s;
  s.wal_fsync = histograms(metrics, "etcd_disk_wal_fsync_duration_seconds");
  s.backend_commit = histograms(metrics, "etcd_disk_backend_commit_duration_seconds");
  s.peer_rtt = histograms(metrics, "etcd_network_peer_round_trip_time_seconds");
  s.leader_changes = metrics.value("etcd_server_leader_changes_seen_total");
  s.failed_proposals = metrics.value("etcd_server_proposals_failed_total");
  if (const auto v = metrics.value("etcd_server_has_leader")) s.has_leader = *v > 0;
  return s;
}

EtcdInterval measure_interval(const std::optional<EtcdScrape>& before, const EtcdScrape& now,
                              const std::optional<ExactFigures>& probe, double min_observations) {
  EtcdInterval out;
  // The probe measures the disk etcd's WAL is on, one sync at a time: it
  // helps place the WAL fsync p99 only. Backend commits and peer RTT are
  // other quantities.
  if (auto q = p99(before, &EtcdScrape::wal_fsync, now, min_observations, out.since_start, probe)) {
    out.wal_fsync_p99 = q->value;
    out.wal_fsync_observations = q->observations;
    out.wal_fsync_estimate = q->estimate;
  }
  if (auto q = p99(before, &EtcdScrape::backend_commit, now, min_observations, out.since_start)) {
    out.backend_commit_p99 = q->value;
  }
  if (auto q = p99(before, &EtcdScrape::peer_rtt, now, min_observations, out.since_start)) {
    out.peer_rtt_p99 = q->value;
  }
  out.leader_changes = increase(before, &EtcdScrape::leader_changes, now);
  out.failed_proposals = increase(before, &EtcdScrape::failed_proposals, now);
  out.has_leader = now.has_leader;
  return out;
}

}  // namespace etcd_warden::tuning
