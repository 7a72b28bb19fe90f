// The tuning rule on a table of situations from the seeds and etcd's docs:
// what verdict, what recommendation, which row says why.
#include <catch2/catch.hpp>

#include <string>

#include "etcd_warden/tuning/rule.hpp"

using namespace etcd_warden::tuning;
using namespace std::chrono_literals;

namespace {

struct Case {
  const char* name;
  Millis heartbeat, election;
  Measurements m;
  Verdict verdict;
  Millis recommended_heartbeat, recommended_election;
  const char* row;  // a row that must carry a non-pass status ("" for none)
};

Measurements disk(double probe, double wal, double rtt) {
  Measurements m;
  m.probe_fsync_p99 = probe;
  m.wal_fsync_p99 = wal;
  m.peer_rtt_p99 = rtt;
  return m;
}

bool has_problem_row(const Advice& a, const std::string& check) {
  for (const auto& r : a.rows) {
    if (r.check.find(check) != std::string::npos &&
        (r.status == RowStatus::warn || r.status == RowStatus::fail)) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("the rule on a table of situations", "[tuning][rule]") {
  const Case cases[] = {
      {"fast SSD, etcd defaults", 100ms, 1000ms, disk(0.0008, 0.002, 0.0003), Verdict::ok, 100ms,
       1000ms, ""},
      {"seed 000: sync 1.04s against the defaults", 100ms, 1000ms, disk(0.9, 1.04, 0.001),
       Verdict::critical, 1600ms, 16000ms, "half the election timeout"},
      {"high peer RTT 150ms", 100ms, 1000ms, disk(0.001, 0.003, 0.150), Verdict::warn, 250ms,
       2500ms, "heartbeat covers"},
      {"conservative 5000/250 on a fast disk", 250ms, 5000ms, disk(0.001, 0.004, 0.0005),
       Verdict::warn, 100ms, 1000ms, "failover"},
      {"seed 000's 5000/250 on the disk it was meant for (150ms)", 250ms, 5000ms,
       disk(0.120, 0.150, 0.001), Verdict::ok, 250ms, 2500ms, ""},
      {"the seed's recommendation applied to a 1.04s disk", 1600ms, 16000ms, disk(0.9, 1.04, 0.001),
       Verdict::ok, 1600ms, 16000ms, ""},
      {"election below 10 x heartbeat", 200ms, 1000ms, disk(0.001, 0.002, 0.0003), Verdict::warn,
       100ms, 1000ms, "10 x heartbeat"},
      {"etcd's own limit broken: election < 5 x heartbeat", 500ms, 1000ms,
       disk(0.001, 0.002, 0.0003), Verdict::critical, 100ms, 1000ms, "5 x heartbeat"},
      {"nothing can cover a 4s sync", 100ms, 1000ms, disk(0.5, 4.0, 0.001), Verdict::critical,
       5000ms, 50000ms, "covered at all"},
      {"nothing measured", 100ms, 1000ms, Measurements{}, Verdict::warn, 100ms, 1000ms,
       "heartbeat covers"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      const auto a = assess(c.heartbeat, c.election, c.m);
      INFO(a.summary);
      CHECK(a.verdict == c.verdict);
      CHECK(a.recommended_heartbeat == c.recommended_heartbeat);
      CHECK(a.recommended_election == c.recommended_election);
      // The recommendation itself is never critical, unless no value can be.
      if (std::string(c.row) != "covered at all") {
        CHECK(assess(a.recommended_heartbeat, a.recommended_election, c.m).verdict !=
              Verdict::critical);
      }
      if (std::string(c.row).empty()) {
        for (const auto& r : a.rows) {
          INFO(r.check << ": " << r.measured);
          CHECK(r.status != RowStatus::warn);
          CHECK(r.status != RowStatus::fail);
        }
      } else {
        CHECK(has_problem_row(a, c.row));
      }
      if (c.verdict != Verdict::ok) {
        CHECK(a.summary.find(std::string(to_string(c.verdict))) == 0);
      }
    }
  }
}

TEST_CASE("recommendations of a measured latency pass the rule they come from", "[tuning][rule]") {
  // Every coverable latency from 0.1ms to 3s: the recommended values are ok
  // (not warn, not critical) against that same latency.
  for (double worst = 0.0001; worst < 3.3; worst *= 1.37) {
    const auto m = disk(worst, worst / 2, worst / 3);
    const auto first = assess(100ms, 1000ms, m);
    const auto again = assess(first.recommended_heartbeat, first.recommended_election, m);
    INFO("worst " << worst << ": " << again.summary);
    CHECK(again.verdict == Verdict::ok);
    CHECK(again.recommended_heartbeat == first.recommended_heartbeat);
    CHECK(first.recommended_election == first.recommended_heartbeat * 10);
    CHECK(first.recommended_heartbeat.count() % 50 == 0);
  }
}

TEST_CASE("the slow disk rows are information, not the verdict", "[tuning][rule]") {
  // 40ms WAL fsync, well covered by 250/2500: over etcd's 10ms guidance, but
  // the timeouts fit, so the verdict is ok and the row says INFO.
  const auto a = assess(250ms, 2500ms, disk(0.030, 0.040, 0.001));
  CHECK(a.verdict == Verdict::ok);
  bool info = false;
  for (const auto& r : a.rows)
    info = info || (r.status == RowStatus::info && r.check.find("WAL") != std::string::npos);
  CHECK(info);
}

TEST_CASE("format_millis and format_seconds", "[tuning][rule]") {
  CHECK(format_millis(100ms) == "100ms");
  CHECK(format_millis(1000ms) == "1s");
  CHECK(format_millis(1500ms) == "1.5s");
  CHECK(format_millis(16000ms) == "16s");
  CHECK(format_millis(1250ms) == "1250ms");
  CHECK(format_seconds(1.04) == "1.04s");
  CHECK(format_seconds(0.18) == "180ms");
  CHECK(format_seconds(0.00042) == "0.42ms");
}
