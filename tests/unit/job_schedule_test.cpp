#include <catch2/catch.hpp>

#include "etcd_warden/sched/job_schedule.hpp"

using namespace etcd_warden;
using namespace std::chrono_literals;
using sched::Outcome;

namespace {

config::Schedule every(config::Duration e, config::Duration jitter = 0ms) {
  return {e, jitter, {}, {}};
}

}  // namespace

TEST_CASE("first run waits a random part of the jitter, within bounds", "[sched]") {
  sched::ManualClock clock;
  for (double r : {0.0, 0.5, 0.999}) {
    sched::FixedRandom random(r);
    sched::JobSchedule s(every(10min, 1min), clock, random);
    const auto wait = s.next_due() - clock.now();
    CHECK(wait >= 0ms);
    CHECK(wait <= 1min);
    CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count() ==
          Approx(60000 * r).margin(1));
  }
}

TEST_CASE("after success the next run is every plus jitter", "[sched]") {
  sched::ManualClock clock;
  sched::FixedRandom random(0.0);
  sched::JobSchedule s(every(5min, 30s), clock, random);
  REQUIRE(s.due());
  REQUIRE(s.try_start());
  clock.advance(2s);
  random.set(1.0);
  s.finish(Outcome::success);
  CHECK(s.next_due() - clock.now() == 5min + 30s);
  CHECK_FALSE(s.due());
  clock.advance(5min + 29s);
  CHECK_FALSE(s.due());
  clock.advance(1s);
  CHECK(s.due());
}

TEST_CASE("a skip is not a failure: normal interval, failure count reset", "[sched]") {
  sched::ManualClock clock;
  sched::FixedRandom random(0.0);
  sched::JobSchedule s(every(1min), clock, random);
  REQUIRE(s.try_start());
  s.finish(Outcome::failure);
  REQUIRE(s.consecutive_failures() == 1);
  clock.advance(1h);
  REQUIRE(s.try_start());
  s.finish(Outcome::skipped);
  CHECK(s.consecutive_failures() == 0);
  CHECK(s.next_due() - clock.now() == 1min);
}

TEST_CASE("never two runs of the same job at once", "[sched]") {
  sched::ManualClock clock;
  sched::FixedRandom random(0.0);
  sched::JobSchedule s(every(1s), clock, random);
  REQUIRE(s.try_start());
  clock.advance(1h);  // long past due while running
  CHECK_FALSE(s.due());
  CHECK_FALSE(s.try_start());
  s.request_now();
  CHECK_FALSE(s.try_start());
  s.finish(Outcome::success);
  CHECK_FALSE(s.due());  // finish() scheduled the next run 1s ahead
  clock.advance(1s);
  CHECK(s.due());
  CHECK(s.try_start());
}

TEST_CASE("failures back off exponentially up to the cap", "[sched]") {
  // every 6h: retry from 10s, doubling, capped at 5min (the defaults).
  const auto s = every(6h);
  const auto retry = sched::effective_retry(s);
  CHECK(retry.initial == 10s);
  CHECK(retry.max == 5min);
  // random01 = 1.0 means factor 1.0 (no shortening)
  CHECK(sched::delay_after(s, Outcome::failure, 1, 1.0) == 10s);
  CHECK(sched::delay_after(s, Outcome::failure, 2, 1.0) == 20s);
  CHECK(sched::delay_after(s, Outcome::failure, 3, 1.0) == 40s);
  CHECK(sched::delay_after(s, Outcome::failure, 5, 1.0) == 160s);
  CHECK(sched::delay_after(s, Outcome::failure, 6, 1.0) == 5min);
  CHECK(sched::delay_after(s, Outcome::failure, 1000, 1.0) == 5min);  // no overflow
  // jittered down by at most 20%
  CHECK(sched::delay_after(s, Outcome::failure, 3, 0.0) == 32s);
}

TEST_CASE("a fast poll backs off past its interval, to 30s", "[sched]") {
  const auto s = every(1s);
  const auto retry = sched::effective_retry(s);
  CHECK(retry.initial == 1s);
  CHECK(retry.max == 30s);
  CHECK(sched::delay_after(s, Outcome::failure, 1, 1.0) == 1s);
  CHECK(sched::delay_after(s, Outcome::failure, 5, 1.0) == 16s);
  CHECK(sched::delay_after(s, Outcome::failure, 6, 1.0) == 30s);
}

TEST_CASE("explicit retry bounds win over the defaults", "[sched]") {
  config::Schedule s{10min, 0ms, 2s, 8s};
  CHECK(sched::delay_after(s, Outcome::failure, 1, 1.0) == 2s);
  CHECK(sched::delay_after(s, Outcome::failure, 3, 1.0) == 8s);
  CHECK(sched::delay_after(s, Outcome::failure, 9, 1.0) == 8s);
}

TEST_CASE("the scheduled clock drives the state machine: failure streak then recovery", "[sched]") {
  sched::ManualClock clock;
  sched::FixedRandom random(1.0);
  sched::JobSchedule s(every(1min), clock, random);
  std::vector<config::Duration> waits;
  for (int i = 0; i < 4; ++i) {
    REQUIRE(s.try_start());
    s.finish(Outcome::failure);
    waits.push_back(std::chrono::duration_cast<config::Duration>(s.next_due() - clock.now()));
    clock.advance(s.next_due() - clock.now());
  }
  CHECK(waits == std::vector<config::Duration>{10s, 20s, 40s, 60s});
  REQUIRE(s.try_start());
  s.finish(Outcome::success);
  CHECK(s.consecutive_failures() == 0);
  CHECK(s.next_due() - clock.now() == 1min);
}

TEST_CASE("reschedule moves the next run to the new interval", "[sched]") {
  sched::ManualClock clock;
  sched::FixedRandom random(0.0);
  sched::JobSchedule s(every(1h), clock, random);
  REQUIRE(s.try_start());
  s.finish(Outcome::success);
  clock.advance(2min);
  s.reschedule(every(5min));
  CHECK(s.next_due() - clock.now() == 3min);
  s.reschedule(every(1min));
  CHECK(s.due());
}
