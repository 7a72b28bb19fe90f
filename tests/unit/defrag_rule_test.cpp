// The defrag rule, gates, leader hand-off choice, deadlines, window and the
// records kept in etcd: tables of cases over plain ClusterViews.
#include <catch2/catch.hpp>

#include "etcd_warden/jobs/defrag_rule.hpp"
#include "unit/member_views.hpp"

using namespace etcd_warden;
using namespace etcd_warden::jobs;
using namespace std::chrono_literals;

namespace {

using etcd_warden::testing::answering_member;

// Three healthy members, m1 leader; m2 has 600 of 1000 MiB free.
ClusterView healthy() {
  ClusterView c;
  c.members = {answering_member(1, 1, Bytes::mib(1000), Bytes::mib(900)),
               answering_member(2, 1, Bytes::mib(1000), Bytes::mib(400)),
               answering_member(3, 1, Bytes::mib(1000), Bytes::mib(900))};
  return c;
}

DefragPolicy policy() {
  DefragPolicy p;
  p.min_free = Bytes::mib(256);
  p.min_free_ratio = 0.3;
  p.max_quota_usage = 0.8;
  p.quota = Bytes::gib(8);
  p.max_raft_lag = 100;
  p.disk_margin = Bytes::mib(256);
  return p;
}

const auto kPlenty = std::optional<Bytes>(Bytes::gib(100));

}  // namespace

TEST_CASE("defrag rule: free bytes and ratio, or quota usage", "[defrag][rule]") {
  struct Case {
    const char* what;
    Bytes size, in_use;
    std::optional<Bytes> quota;
    bool needed;
    const char* says;
  };
  const auto c = GENERATE(values<Case>({
      {"both thresholds met", Bytes::mib(1000), Bytes::mib(400), Bytes::gib(8), true,
       ">= min_free 256MiB and 30%"},
      {"exactly at the ratio threshold",
       Bytes::mib(1000),
       Bytes::mib(700),
       {},
       true,
       ">= min_free"},
      {"exactly at the byte threshold", Bytes::mib(512), Bytes::mib(256), {}, true, ">= min_free"},
      {"free bytes but ratio too low", Bytes::gib(10), Bytes::mib(9000), Bytes::gib(100), false,
       "ratio < min_free_ratio 30%"},
      {"ratio but too few bytes", Bytes::mib(100), Bytes::mib(10), Bytes::gib(8), false,
       "< min_free 256MiB"},
      {"nothing free", Bytes::mib(100), Bytes::mib(100), Bytes::gib(8), false, "free=0B"},
      {"quota pressure with something to reclaim", Bytes::mib(7000), Bytes::mib(6900),
       Bytes::gib(8), true, "quota usage 85% >= max_quota_usage 80%"},
      {"quota pressure, under 1% of quota to gain", Bytes::mib(7000), Bytes::mib(6990),
       Bytes::gib(8), false, "would reclaim under 1%"},
      {"quota unknown: only the free rule",
       Bytes::mib(7000),
       Bytes::mib(6900),
       {},
       false,
       "< min_free"},
  }));
  INFO(c.what);
  MemberView m = answering_member(1, 1, c.size, c.in_use);
  DefragPolicy p = policy();
  p.quota = c.quota;
  const Verdict v = defrag_needed(m, p);
  INFO(v.reason);
  CHECK(v.ok == c.needed);
  CHECK_THAT(v.reason, Catch::Contains(c.says));
}

TEST_CASE("cluster gates: every member healthy, one leader, no CORRUPT, small lag",
          "[defrag][rule]") {
  struct Case {
    const char* what;
    std::function<void(ClusterView&)> change;
    bool ok;
    const char* says;
  };
  const auto c = GENERATE(values<Case>({
      {"all fine", [](ClusterView&) {}, true, "all 3 voting members healthy"},
      {"a learner that is down does not count",
       [](ClusterView& v) {
         v.members[2].is_learner = true;
         v.members[2].answered = false;
       },
       true, "all 2 voting members healthy"},
      {"a learner far behind does not count",
       [](ClusterView& v) {
         v.members[2].is_learner = true;
         v.members[2].raft_index = 1;
         v.members[0].raft_index = 5000;
         v.members[1].raft_index = 5000;
       },
       true, "healthy"},
      {"a learner that knows no leader yet does not count",
       [](ClusterView& v) {
         v.members[2].is_learner = true;
         v.members[2].leader_id = 0;
       },
       true, "healthy"},
      {"one member stopped",
       [](ClusterView& v) {
         v.members[2].answered = false;
         v.members[2].error = "Status: unreachable (connection refused)";
       },
       false, "member m3 is unhealthy (Status: unreachable"},
      {"no leader",
       [](ClusterView& v) {
         for (auto& m : v.members) m.leader_id = 0;
       },
       false, "no agreed leader"},
      {"members disagree on the leader (election)",
       [](ClusterView& v) { v.members[1].leader_id = 2; }, false, "no agreed leader"},
      {"CORRUPT alarm",
       [](ClusterView& v) {
         v.alarms.push_back({2, AlarmKind::corrupt});
       },
       false, "CORRUPT alarm raised"},
      {"a member lags within max_raft_lag", [](ClusterView& v) { v.members[2].raft_index = 1; },
       true, "healthy"},
      {"a member lags too far", [](ClusterView& v) { v.members[0].raft_index = 500; }, false,
       "member m2 is 400 raft entries behind (max_raft_lag 100)"},
      {"empty member list", [](ClusterView& v) { v.members.clear(); }, false, "no member list"},
  }));
  INFO(c.what);
  ClusterView v = healthy();
  c.change(v);
  const Verdict g = cluster_gates(v, policy());
  INFO(g.reason);
  CHECK(g.ok == c.ok);
  CHECK_THAT(g.reason, Catch::Contains(c.says));
}

TEST_CASE("disk gate: room for the in-use size plus the margin", "[defrag][rule]") {
  const MemberView m = answering_member(2, 1, Bytes::mib(1000), Bytes::mib(400));
  const auto p = policy();
  CHECK(disk_gate(m, Bytes::mib(656), p, "/var/lib/etcd").ok);
  const Verdict short_by_one = disk_gate(m, Bytes{Bytes::mib(656).value - 1}, p, "/var/lib/etcd");
  CHECK_FALSE(short_by_one.ok);
  CHECK_THAT(short_by_one.reason,
             Catch::StartsWith("not enough free disk on /var/lib/etcd: 656MiB free, the copy "
                               "needs 400MiB + margin 256MiB"));
  const Verdict unknown = disk_gate(m, std::nullopt, p, "/nope");
  CHECK_FALSE(unknown.ok);
  CHECK_THAT(unknown.reason, Catch::Contains("free disk space of m2 unknown (/nope)"));

  // Kept input (issue 18): the largest margin wrapped "in use + margin" to
  // 400MiB - 1 byte, so the gate passed with any free space.
  auto huge = policy();
  huge.disk_margin = Bytes{UINT64_MAX};
  CHECK_FALSE(disk_gate(m, Bytes{UINT64_MAX - 1}, huge, "/var/lib/etcd").ok);
}

TEST_CASE("hand-off target: the most caught-up healthy voting follower", "[defrag][rule]") {
  ClusterView v = healthy();
  // With the rule: a member that needs no defrag first (m3 does not, m2 does).
  CHECK(choose_transferee(v, 1, nullptr) == 2u);
  const auto p = policy();
  CHECK(choose_transferee(v, 1, &p) == 3u);
  v.members[1].raft_index = 100;
  v.members[2].raft_index = 101;
  CHECK(choose_transferee(v, 1) == 3u);
  v.members[2].raft_index = 100;
  CHECK(choose_transferee(v, 1) == 2u);  // a tie: the lowest ID
  v.members[1].is_learner = true;        // learners never lead
  CHECK(choose_transferee(v, 1) == 3u);
  v.members[2].answered = false;
  CHECK(choose_transferee(v, 1) == std::nullopt);
}

TEST_CASE("decide_defrag: the order of the checks and the leader hand-off", "[defrag][rule]") {
  using Kind = DefragVerdict::Kind;
  struct Case {
    const char* what;
    std::uint64_t self;
    std::function<void(ClusterView&)> change;
    std::optional<Bytes> free_disk;
    bool in_window;
    Kind kind;
    const char* says;
    std::uint64_t transferee = 0;
    bool leader_done_waiting = false;
  };
  auto fragment = [](std::uint64_t id) {
    return [id](ClusterView& v) { v.members[id - 1].db_in_use = Bytes::mib(300); };
  };
  const auto c = GENERATE_COPY(values<Case>({
      {"follower with free pages", 2, [](ClusterView&) {}, kPlenty, true, Kind::defrag,
       "free=600MiB"},
      {"not needed", 3, [](ClusterView&) {}, kPlenty, true, Kind::skip, "not needed"},
      {"outside the window", 2, [](ClusterView&) {}, kPlenty, false, Kind::skip,
       "outside the defrag window"},
      {"another member down", 2, [](ClusterView& v) { v.members[0].answered = false; }, kPlenty,
       true, Kind::skip, "member m1 is unhealthy"},
      {"NOSPACE belongs to the alarms job", 2,
       [](ClusterView& v) {
         v.alarms.push_back({1, AlarmKind::nospace});
       },
       kPlenty, true, Kind::skip, "NOSPACE alarm raised"},
      {"disk too small", 2, [](ClusterView&) {}, Bytes::mib(500), true, Kind::skip,
       "not enough free disk on the data dir: 500MiB free"},
      {"leader hands off first to the most caught-up follower", 1,
       [fragment](ClusterView& v) {
         fragment(1)(v);
         v.members[1].db_in_use = Bytes::mib(1000);  // m2 already done
         v.members[2].raft_index = 101;
       },
       kPlenty, true, Kind::move_leader_first, "free=700MiB", 3},
      {"leader goes last while a follower still needs a defrag", 1,
       [fragment](ClusterView& v) {
         fragment(1)(v);
         fragment(3)(v);
       },
       kPlenty, true, Kind::leader_waits, "waiting for m2,m3 to be defragmented first"},
      {"leader hands off to a follower already done", 1,
       [fragment](ClusterView& v) {
         fragment(1)(v);
         v.members[1].db_in_use = Bytes::mib(1000);  // m2 done, but behind
         v.members[1].raft_index = 99;
         v.members[2].raft_index = 101;
         v.members[2].db_in_use = Bytes::mib(300);  // m3 still to do...
       },
       kPlenty, true, Kind::move_leader_first, "free=700MiB", 2, true},  // ...leader waited enough
      {"the only voter besides learners is defragmented in place", 1,
       [fragment](ClusterView& v) {
         fragment(1)(v);
         v.members[1].is_learner = true;
         v.members[2].is_learner = true;
       },
       kPlenty, true, Kind::defrag_in_place, "its clients stall", 0, false},
      {"a single-member cluster's leader is defragmented in place", 1,
       [fragment](ClusterView& v) {
         fragment(1)(v);
         v.members.resize(1);
       },
       kPlenty, true, Kind::defrag_in_place, "m1 is the only voting member"},
      {"a single member in place still respects the window", 1,
       [fragment](ClusterView& v) {
         fragment(1)(v);
         v.members.resize(1);
       },
       kPlenty, false, Kind::skip, "outside the defrag window"},
      {"a single member in place still needs disk for the copy", 1,
       [fragment](ClusterView& v) {
         fragment(1)(v);
         v.members.resize(1);
       },
       Bytes::mib(100), true, Kind::skip, "not enough free disk"},
      {"two members: the leader hands off to the other voter", 1,
       [fragment](ClusterView& v) {
         fragment(1)(v);
         v.members.resize(2);
         v.members[1].db_in_use = Bytes::mib(1000);
       },
       kPlenty, true, Kind::move_leader_first, "free=700MiB", 2},
      {"two members, the other down: no defrag (never in place while another voter exists)", 1,
       [fragment](ClusterView& v) {
         fragment(1)(v);
         v.members.resize(2);
         v.members[1].answered = false;
       },
       kPlenty, true, Kind::skip, "member m2 is unhealthy", 0, true},
      {"two members, the other a learner: in place", 1,
       [fragment](ClusterView& v) {
         fragment(1)(v);
         v.members.resize(2);
         v.members[1].is_learner = true;
       },
       kPlenty, true, Kind::defrag_in_place, "only voting member"},
      {"a learner is never defragmented", 2,
       [](ClusterView& v) { v.members[1].is_learner = true; }, kPlenty, true, Kind::skip,
       "learner: not defragmented (etcd refuses Defragment on a learner"},
      {"the leader does not wait for a learner", 1,
       [fragment](ClusterView& v) {
         fragment(1)(v);
         v.members[2].is_learner = true;  // m2 still needs one, m3 is a fragmented learner
         fragment(3)(v);
         v.members[1].db_in_use = Bytes::mib(1000);
       },
       kPlenty, true, Kind::move_leader_first, "free=700MiB", 2},
      {"own member not listed", 9, [](ClusterView&) {}, kPlenty, true, Kind::skip,
       "own member 9 not in the member list"},
  }));
  INFO(c.what);
  ClusterView v = healthy();
  c.change(v);
  LocalFacts local;
  local.free_disk = c.free_disk;
  local.in_window = c.in_window;
  local.leader_done_waiting = c.leader_done_waiting;
  const DefragVerdict d = decide_defrag(v, c.self, policy(), local);
  INFO(d.reason);
  CHECK(d.kind == c.kind);
  CHECK_THAT(d.reason, Catch::Contains(c.says));
  if (c.kind == Kind::move_leader_first) CHECK(d.transferee == c.transferee);
}

TEST_CASE("decide_defrag: a skip carries a code the job acts on, not only words",
          "[defrag][rule]") {
  using Why = DefragVerdict::Why;
  const auto why = [](std::uint64_t self, std::optional<Bytes> free, bool in_window) {
    LocalFacts local;
    local.free_disk = free;
    local.in_window = in_window;
    return decide_defrag(healthy(), self, policy(), local).why;
  };
  CHECK(why(3, kPlenty, true) == Why::not_needed);
  CHECK(why(2, Bytes::mib(500), true) == Why::not_enough_disk);
  CHECK(why(2, std::nullopt, true) == Why::free_disk_unknown);
  CHECK(why(2, kPlenty, false) == Why::other);  // outside the window
  CHECK(why(2, kPlenty, true) == Why::other);   // not a skip at all
}

TEST_CASE("defrag deadline scales with the database size", "[defrag][rule]") {
  CHECK(defrag_deadline(Bytes::mib(10), 5s) == 120s);
  CHECK(defrag_deadline(Bytes::gib(1), 5s) == 120s);
  CHECK(defrag_deadline(Bytes{Bytes::gib(1).value + 1}, 5s) == 180s);
  CHECK(defrag_deadline(Bytes::gib(8), 5s) == 540s);
  CHECK(defrag_deadline(Bytes{0}, 10min) == 10min);  // never below the floor
}

TEST_CASE("in-flight marker: round trip and when it counts as finished", "[defrag][rule]") {
  const DefragMarker m{0x8e9e05c52164694dULL, Bytes::mib(900), 1000, 1360, "m2"};
  const std::string text = encode(m);
  CHECK(text == "member=8e9e05c52164694d size_before=943718400 started=1000 until=1360 by=m2");
  const auto back = parse_marker(text);
  REQUIRE(back);
  CHECK(back->member_id == m.member_id);
  CHECK(back->size_before == m.size_before);
  CHECK(back->until_unix == 1360);
  CHECK(back->by == "m2");
  CHECK_FALSE(parse_marker("member=zz size_before=1 started=1 until=2"));
  CHECK_FALSE(parse_marker("garbage"));

  struct Case {
    std::optional<Bytes> size;
    std::optional<bool> inflight;
    std::int64_t now;
    MarkerState state;
  };
  const auto c = GENERATE(values<Case>({
      {Bytes::mib(900), std::nullopt, 1100, MarkerState::running},
      {Bytes::mib(400), std::nullopt, 1100, MarkerState::finished},  // file rewritten
      {Bytes::mib(900), false, 1100, MarkerState::finished},         // etcd says none in flight
      {Bytes::mib(900), true, 1100, MarkerState::running},
      {std::nullopt, std::nullopt, 1100, MarkerState::running},  // member not answering
      {std::nullopt, std::nullopt, 1361, MarkerState::expired},
  }));
  CHECK(marker_state(m, c.size, c.inflight, c.now) == c.state);
}

TEST_CASE("disk reports: round trip and age", "[defrag][rule]") {
  const DiskReport r{Bytes::gib(3), 5000};
  CHECK(encode(r) == "free=3221225472 at=5000");
  // The URL and data dir travel escaped: a space cannot split the record.
  const DiskReport full{Bytes::gib(1), 7, "https://10.0.0.2:2379", "/srv/etcd data/100%"};
  CHECK(encode(full) ==
        "free=1073741824 at=7 url=https://10.0.0.2:2379 data_dir=/srv/etcd%20data/100%25");
  const auto full_back = parse_disk_report(encode(full));
  REQUIRE(full_back);
  CHECK(full_back->client_url == full.client_url);
  CHECK(full_back->data_dir == full.data_dir);
  CHECK(parse_disk_report("free=1 at=2 data_dir=%4")->data_dir.empty());  // cut escape: dropped
  const auto back = parse_disk_report(encode(r));
  REQUIRE(back);
  CHECK(back->free == Bytes::gib(3));
  CHECK(usable_report(back, 5000 + 3600) == Bytes::gib(3));
  CHECK_FALSE(usable_report(back, 5000 + 25 * 3600));
  CHECK_FALSE(usable_report(std::nullopt, 5000));
  CHECK_FALSE(parse_disk_report("free=abc at=1"));
}

TEST_CASE("defrag round: one turn per voting member, the leader last", "[defrag][rule]") {
  using Kind = DefragVerdict::Kind;
  // Every member has free pages: compaction keeps freeing them while the
  // round goes on, which once bought early followers a second turn.
  ClusterView v = healthy();
  for (auto& m : v.members) m.db_in_use = Bytes::mib(300);
  const auto p = policy();
  LocalFacts local;
  local.free_disk = kPlenty;
  const std::int64_t now = 10'000;
  const auto max_age = round_max_age(std::chrono::minutes(10));
  CHECK(max_age == std::chrono::minutes(100));
  CHECK(round_max_age(std::chrono::seconds(2)) == std::chrono::hours(1));

  // No round yet: followers go, the leader waits for both.
  CHECK(round_in_force(std::nullopt, v, now, max_age) == std::nullopt);
  CHECK(decide_defrag(v, 2, p, local).kind == Kind::defrag);
  CHECK(decide_defrag(v, 1, p, local).kind == Kind::leader_waits);

  // m2 had its turn: it waits although it needs another defrag; the leader
  // still waits for m3 only.
  auto round = round_in_force(with_turn(std::nullopt, 2, now), v, now, max_age);
  REQUIRE(round);
  CHECK(round->started_unix == now);
  auto m2 = decide_defrag(v, 2, p, local, &*round);
  CHECK(m2.kind == Kind::skip);
  CHECK_THAT(m2.reason, Catch::Contains("m2 already had its turn in this defrag round"));
  CHECK(decide_defrag(v, 3, p, local, &*round).kind == Kind::defrag);
  auto leader = decide_defrag(v, 1, p, local, &*round);
  CHECK(leader.kind == Kind::leader_waits);
  CHECK_THAT(leader.reason, Catch::Contains("waiting for m3 to"));

  // m3 done too: the leader goes now, handing off to a member that had its
  // turn (m2 and m3 both; the most caught-up, then the lowest ID).
  round = round_in_force(with_turn(round, 3, now + 60), v, now + 60, max_age);
  REQUIRE(round);
  CHECK(round->started_unix == now);
  leader = decide_defrag(v, 1, p, local, &*round);
  CHECK(leader.kind == Kind::move_leader_first);
  CHECK(leader.transferee == 2u);
  CHECK(decide_defrag(v, 3, p, local, &*round).kind == Kind::skip);

  // Everyone had a turn: the round is over, the next defrag starts a new one.
  const auto all = with_turn(round, 1, now + 120);
  CHECK(round_in_force(all, v, now + 120, max_age) == std::nullopt);
  CHECK(decide_defrag(v, 2, p, local, nullptr).kind == Kind::defrag);

  // Still in force while one has not had its turn, even if it needs none
  // now; over when it is too old.
  ClusterView rest = v;
  rest.members[0].db_in_use = Bytes::mib(1000);
  rest.members[2].db_in_use = Bytes::mib(1000);
  CHECK(round_in_force(with_turn(std::nullopt, 2, now), rest, now, max_age).has_value());
  CHECK(decide_defrag(rest, 2, p, local, &*round).kind == Kind::skip);
  CHECK(round_in_force(with_turn(std::nullopt, 2, now), v, now + max_age.count() + 1, max_age) ==
        std::nullopt);
  // A learner is no one the round waits for.
  ClusterView with_learner = v;
  with_learner.members[2].is_learner = true;
  const auto r2 = with_turn(std::nullopt, 2, now);
  const auto r21 = with_turn(r2, 1, now);
  CHECK(round_in_force(r21, with_learner, now, max_age) == std::nullopt);
}

TEST_CASE("defrag round record: round trip, unreadable text refused", "[defrag][rule]") {
  DefragRound r{1234, {0x8e9e05c52164694dULL, 0x2}};
  CHECK(encode(r) == "started=1234 done=2,8e9e05c52164694d");
  const auto back = parse_round(encode(r));
  REQUIRE(back);
  CHECK(back->started_unix == 1234);
  CHECK(back->done == r.done);
  CHECK(parse_round("started=5 done=")->done.empty());
  CHECK_FALSE(parse_round("started=5"));
  CHECK_FALSE(parse_round("started=x done=1"));
  CHECK_FALSE(parse_round("started=5 done=1,zz"));
  CHECK_FALSE(parse_round("started=5 done=1,,2"));
}

TEST_CASE("leader plan: hand off, in place only without another voter, else refuse",
          "[defrag][rule]") {
  using K = LeaderPlan::Kind;
  ClusterView v = healthy();
  CHECK(plan_leader_defrag(v, 1).kind == K::hand_off);
  v.members[1].answered = false;
  v.members[2].answered = false;
  const auto refused = plan_leader_defrag(v, 1);
  CHECK(refused.kind == K::refuse);
  CHECK_THAT(refused.reason, Catch::Contains("no healthy voting follower"));
  v.members[1].is_learner = true;
  v.members[2].is_learner = true;
  CHECK(plan_leader_defrag(v, 1).kind == K::in_place);
  CHECK(other_voters(v, 1) == 0);
  v.members.resize(1);
  const auto alone = plan_leader_defrag(v, 1);
  CHECK(alone.kind == K::in_place);
  CHECK_THAT(alone.reason, Catch::Contains("its clients stall until the defrag ends"));
}
