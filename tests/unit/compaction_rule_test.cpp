// Which revision compaction picks, in revision mode and in periodic mode
// (sampling revisions on a manual clock).
#include <catch2/catch.hpp>

#include "etcd_warden/jobs/compaction_rule.hpp"

using namespace etcd_warden;
using namespace etcd_warden::jobs;
using namespace std::chrono_literals;
using Kind = CompactionDecision::Kind;

TEST_CASE("revision mode keeps the last N revisions", "[compaction][rule]") {
  struct Case {
    std::int64_t current;
    std::uint64_t retention;
    std::int64_t last;
    Kind kind;
    std::int64_t revision;
    const char* says;
  };
  const auto c = GENERATE(values<Case>({
      {15000, 10000, 0, Kind::compact, 5000, "revision 15000, keeping the last 10000"},
      {10000, 10000, 0, Kind::skip, 0, "nothing to compact yet"},
      {42, 10000, 0, Kind::skip, 0, "nothing to compact yet"},
      {15000, 10000, 5000, Kind::skip, 5000, "already compacted to 5000"},
      {15001, 10000, 5000, Kind::compact, 5001, ""},
      {2, 1, 0, Kind::compact, 1, ""},
      {100, UINT64_MAX, 0, Kind::skip, 0, "nothing to compact yet"},  // no overflow
  }));
  const auto d = decide_revision_compaction(c.current, c.retention, c.last);
  INFO(d.reason);
  CHECK(d.kind == c.kind);
  CHECK(d.revision == c.revision);
  CHECK_THAT(d.reason, Catch::Contains(c.says));
}

TEST_CASE("periodic mode compacts to the revision current T ago", "[compaction][rule]") {
  sched::ManualClock clock;
  RevisionSamples samples;
  const auto retention = 1h;
  // One sample every 5 minutes, 100 revisions apart.
  std::int64_t rev = 1000;
  auto tick = [&] {
    samples.add(clock.now(), rev);
    rev += 100;
    clock.advance(5min);
  };
  for (int i = 0; i < 12; ++i) tick();  // 0..55 min
  {
    const auto d = decide_periodic_compaction(samples, clock.now() - 5min, retention, 0);
    CHECK(d.kind == Kind::skip);
    CHECK_THAT(d.reason, Catch::Contains("not watched for 1h yet (first sample 55m ago)"));
  }
  tick();  // the sample at 60 min; now = 65 min
  {
    // At 65 min the newest sample at least 1 h old is the one at 5 min.
    const auto d = decide_periodic_compaction(samples, clock.now(), retention, 0);
    CHECK(d.kind == Kind::compact);
    CHECK(d.revision == 1100);
    CHECK_THAT(d.reason, Catch::Contains("revision 1100 was current at least 1h ago"));
    // Asked again with nothing new: already done.
    const auto again = decide_periodic_compaction(samples, clock.now(), retention, 1100);
    CHECK(again.kind == Kind::skip);
  }
  // Pruning keeps what later decisions need and drops the rest.
  samples.prune(clock.now() - retention);
  CHECK(samples.size() == 12);  // 5..60 min
  CHECK(decide_periodic_compaction(samples, clock.now(), retention, 0).revision == 1100);
  for (int i = 0; i < 24; ++i) tick();
  samples.prune(clock.now() - retention);
  CHECK(samples.size() == 12);  // the one exactly 1 h old, and the 11 after it
  CHECK(decide_periodic_compaction(samples, clock.now(), retention, 0).revision ==
        samples.at_or_before(clock.now() - retention));
}

TEST_CASE("revision samples: ordering and lookups", "[compaction][rule]") {
  sched::ManualClock clock;
  RevisionSamples s;
  CHECK_FALSE(s.at_or_before(clock.now()));
  CHECK_FALSE(s.oldest());
  const auto t0 = clock.now();
  s.add(t0, 10);
  clock.advance(1s);
  s.add(clock.now(), 20);
  s.add(t0, 5);  // out of order: ignored
  CHECK(s.size() == 2);
  CHECK(s.at_or_before(t0) == 10);
  CHECK(s.at_or_before(t0 - 1ms) == std::nullopt);
  CHECK(s.at_or_before(clock.now()) == 20);
  s.prune(clock.now() + 1h);
  CHECK(s.size() == 1);
  CHECK(s.at_or_before(clock.now()) == 20);
}
