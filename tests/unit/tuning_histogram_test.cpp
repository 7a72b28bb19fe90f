// Quantiles from etcd's histograms over the interval between two scrapes:
// bucket deltas, counter resets, the +Inf bucket, several series (peer RTT).
#include <catch2/catch.hpp>

#include <string>

#include "etcd_warden/net/prom_text.hpp"
#include "etcd_warden/tuning/etcd_scrape.hpp"
#include "etcd_warden/tuning/histogram.hpp"

using namespace etcd_warden;
using namespace etcd_warden::tuning;

namespace {

// etcd's WAL fsync histogram (buckets 1ms..8.192s, doubling) with the given
// cumulative counts for le=0.001, 0.002, 0.004, ..., +Inf (15 values).
std::string wal_fsync(const std::vector<double>& cumulative, double sum) {
  static const char* bounds[] = {"0.001", "0.002", "0.004", "0.008", "0.016",
                                 "0.032", "0.064", "0.128", "0.256", "0.512",
                                 "1.024", "2.048", "4.096", "8.192", "+Inf"};
  std::string text =
      "# HELP etcd_disk_wal_fsync_duration_seconds The latency distributions of fsync called by "
      "WAL.\n# TYPE etcd_disk_wal_fsync_duration_seconds histogram\n";
  for (std::size_t i = 0; i < 15; ++i) {
    text += std::string("etcd_disk_wal_fsync_duration_seconds_bucket{le=\"") + bounds[i] + "\"} " +
            std::to_string(cumulative.at(i)) + "\n";
  }
  text += "etcd_disk_wal_fsync_duration_seconds_sum " + std::to_string(sum) + "\n";
  text += "etcd_disk_wal_fsync_duration_seconds_count " + std::to_string(cumulative.back()) + "\n";
  return text;
}

Histogram only(const std::string& text, const char* name) {
  auto all = histograms(net::parse_prometheus_text(text), name);
  REQUIRE(all.size() == 1);
  return all.begin()->second;
}

std::vector<double> cumulative(std::vector<double> per_bucket) {
  for (std::size_t i = 1; i < per_bucket.size(); ++i) per_bucket[i] += per_bucket[i - 1];
  return per_bucket;
}

}  // namespace

TEST_CASE("quantile interpolates inside the bucket as Prometheus does", "[tuning][histogram]") {
  // 100 syncs: 90 in (1ms,2ms], 10 in (8ms,16ms].
  const auto h = only(wal_fsync(cumulative({0, 90, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 0.3),
                      "etcd_disk_wal_fsync_duration_seconds");
  REQUIRE(h.buckets.size() == 15);
  CHECK(h.count == 100);
  // rank 50 of 90 in (0.001, 0.002]: 0.001 + 0.001 * 50/90
  CHECK(*quantile(h, 0.5) == Approx(0.001 + 0.001 * 50.0 / 90.0));
  // rank 99: 9th of 10 in (0.008, 0.016]
  CHECK(*quantile(h, 0.99) == Approx(0.008 + 0.008 * 9.0 / 10.0));
  // everything in the first bucket: interpolated from 0
  const auto first = only(wal_fsync(cumulative({4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 0),
                          "etcd_disk_wal_fsync_duration_seconds");
  CHECK(*quantile(first, 0.5) == Approx(0.0005));
}

TEST_CASE("quantile in the +Inf bucket is the highest finite bound", "[tuning][histogram]") {
  const auto h = only(wal_fsync(cumulative({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 99}), 900),
                      "etcd_disk_wal_fsync_duration_seconds");
  CHECK(*quantile(h, 0.99) == Approx(8.192));
}

TEST_CASE("no observations, no quantile", "[tuning][histogram]") {
  const auto h =
      only(wal_fsync(std::vector<double>(15, 0.0), 0), "etcd_disk_wal_fsync_duration_seconds");
  CHECK_FALSE(quantile(h, 0.99).has_value());
  CHECK_FALSE(quantile(Histogram{}, 0.99).has_value());
  CHECK_FALSE(quantile(h, 1.5).has_value());
}

TEST_CASE("the interval is the bucket delta, and a counter reset starts over",
          "[tuning][histogram]") {
  // Since start: 10 000 fast syncs. In the interval: 100 more, 5 of them slow.
  const auto before =
      only(wal_fsync(cumulative({10000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 5),
           "etcd_disk_wal_fsync_duration_seconds");
  const auto now = only(wal_fsync(cumulative({10095, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0}), 9),
                        "etcd_disk_wal_fsync_duration_seconds");
  // Over etcd's lifetime the slow ones vanish; over the interval they are the p99.
  CHECK(*quantile(now, 0.99) < 0.001);
  const auto d = delta(before, now);
  CHECK(d.count == 100);
  CHECK(d.sum == Approx(4));
  CHECK(*quantile(d, 0.99) > 0.512);
  CHECK(*quantile(d, 0.99) <= 1.024);

  // etcd restarted: counts went down, so `now` is the whole interval.
  const auto restarted =
      only(wal_fsync(cumulative({30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 0.01),
           "etcd_disk_wal_fsync_duration_seconds");
  const auto after_reset = delta(now, restarted);
  CHECK(after_reset.count == 30);
  CHECK(after_reset.buckets.front().count == 30);
}

TEST_CASE("peer RTT: one series per peer, the worst peer counts", "[tuning][histogram]") {
  const std::string text =
      "etcd_network_peer_round_trip_time_seconds_bucket{To=\"a1\",le=\"0.0001\"} 0\n"
      "etcd_network_peer_round_trip_time_seconds_bucket{To=\"a1\",le=\"0.0002\"} 10\n"
      "etcd_network_peer_round_trip_time_seconds_bucket{To=\"a1\",le=\"+Inf\"} 10\n"
      "etcd_network_peer_round_trip_time_seconds_sum{To=\"a1\"} 0.0015\n"
      "etcd_network_peer_round_trip_time_seconds_count{To=\"a1\"} 10\n"
      "etcd_network_peer_round_trip_time_seconds_bucket{To=\"b2\",le=\"0.0001\"} 0\n"
      "etcd_network_peer_round_trip_time_seconds_bucket{To=\"b2\",le=\"0.0002\"} 0\n"
      "etcd_network_peer_round_trip_time_seconds_bucket{To=\"b2\",le=\"0.0512\"} 10\n"
      "etcd_network_peer_round_trip_time_seconds_bucket{To=\"b2\",le=\"+Inf\"} 10\n"
      "etcd_network_peer_round_trip_time_seconds_sum{To=\"b2\"} 0.3\n"
      "etcd_network_peer_round_trip_time_seconds_count{To=\"b2\"} 10\n";
  const auto all =
      histograms(net::parse_prometheus_text(text), "etcd_network_peer_round_trip_time_seconds");
  REQUIRE(all.size() == 2);
  const auto worst = worst_quantile({}, all, 0.99);
  REQUIRE(worst);
  CHECK(worst->labels.at("To") == "b2");
  CHECK(worst->value > 0.0002);
  CHECK(worst->value <= 0.0512);
  CHECK(worst->observations == 10);
}

TEST_CASE("a histogram without its +Inf bucket is ignored", "[tuning][histogram]") {
  const std::string text =
      "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.001\"} 3\n"
      "etcd_disk_wal_fsync_duration_seconds_count 3\n";
  CHECK(
      histograms(net::parse_prometheus_text(text), "etcd_disk_wal_fsync_duration_seconds").empty());
}

TEST_CASE("measure_interval: deltas when the interval saw enough, lifetime otherwise",
          "[tuning][histogram]") {
  const std::string counters_before =
      "etcd_server_leader_changes_seen_total 2\netcd_server_proposals_failed_total 0\n"
      "etcd_server_has_leader 1\n";
  const std::string counters_now =
      "etcd_server_leader_changes_seen_total 5\netcd_server_proposals_failed_total 7\n"
      "etcd_server_has_leader 0\n";
  const auto before = read_etcd_scrape(net::parse_prometheus_text(
      wal_fsync(cumulative({1000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 0.5) +
      counters_before));
  const auto busy = read_etcd_scrape(net::parse_prometheus_text(
      wal_fsync(cumulative({1000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 50, 0, 0, 0}), 80) + counters_now));
  const auto interval = measure_interval(before, busy);
  REQUIRE(interval.wal_fsync_p99);
  CHECK(*interval.wal_fsync_p99 > 1.024);
  CHECK(interval.wal_fsync_observations == 50);
  CHECK_FALSE(interval.since_start);
  CHECK(*interval.leader_changes == 3);
  CHECK(*interval.failed_proposals == 7);
  CHECK(*interval.has_leader == false);
  CHECK_FALSE(interval.backend_commit_p99.has_value());

  // Only 3 syncs since the previous scrape: too few for a p99; use etcd's lifetime.
  const auto idle = read_etcd_scrape(net::parse_prometheus_text(
      wal_fsync(cumulative({1003, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 0.6) +
      counters_before));
  const auto quiet = measure_interval(before, idle);
  CHECK(quiet.since_start);
  CHECK(quiet.wal_fsync_observations == 1003);
  CHECK(*quiet.leader_changes == 0);

  // No earlier scrape: lifetime p99, no counter increases.
  const auto first = measure_interval(std::nullopt, busy);
  CHECK(first.since_start);
  CHECK_FALSE(first.leader_changes.has_value());
}
