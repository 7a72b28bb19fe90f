// NOSPACE actor choice, recovery order and the CORRUPT rule: every warden
// must compute the same actor from the same member list.
#include <catch2/catch.hpp>

#include "etcd_warden/jobs/alarm_rule.hpp"
#include "unit/member_views.hpp"

using namespace etcd_warden;
using namespace etcd_warden::jobs;
using Kind = AlarmDecision::Kind;

namespace {

MemberView member(std::uint64_t id, std::uint64_t leader) {
  return etcd_warden::testing::answering_member(id, leader, Bytes::mib(16), Bytes::mib(2));
}

// IDs deliberately not in list order: the rule orders by ID, not position.
ClusterView nospace() {
  ClusterView c;
  c.members = {member(0x30, 0x20), member(0x10, 0x20), member(0x20, 0x20)};
  c.alarms = {{0x20, AlarmKind::nospace}};
  return c;
}

DefragPolicy policy() {
  DefragPolicy p = defrag_policy(etcd_warden::config::DefragJob{}, std::nullopt);
  p.max_raft_lag = 100;
  return p;
}

}  // namespace

TEST_CASE("NOSPACE actor: lowest-ID healthy voting member", "[alarms][rule]") {
  ClusterView c = nospace();
  CHECK(choose_nospace_actor(c) == 0x10u);
  c.members[1].answered = false;
  CHECK(choose_nospace_actor(c) == 0x20u);
  c.members[2].is_learner = true;
  CHECK(choose_nospace_actor(c) == 0x30u);
  c.members[0].answered = false;
  CHECK(choose_nospace_actor(c) == std::nullopt);
}

TEST_CASE("alarm decisions for each warden", "[alarms][rule]") {
  struct Case {
    const char* what;
    std::uint64_t self;
    std::function<void(ClusterView&)> change;
    Kind kind;
    const char* says;
  };
  const auto c = GENERATE(values<Case>({
      {"no alarm", 0x10, [](ClusterView& v) { v.alarms.clear(); }, Kind::none, "no alarm"},
      {"the actor recovers", 0x10, [](ClusterView&) {}, Kind::recover, "recovering as m16"},
      {"the others stand by", 0x20, [](ClusterView&) {}, Kind::stand_by,
       "m16's warden recovers (lowest-ID healthy member); standing by"},
      {"the leader stands by too", 0x30, [](ClusterView&) {}, Kind::stand_by, "standing by"},
      {"actor down: the next-lowest would act but the gates block it", 0x20,
       [](ClusterView& v) { v.members[1].answered = false; }, Kind::blocked,
       "NOSPACE recovery waits: member m16 is unhealthy"},
      {"CORRUPT wins and is never disarmed", 0x10,
       [](ClusterView& v) {
         v.alarms.push_back({0x30, AlarmKind::corrupt});
       },
       Kind::corrupt, "CORRUPT alarm on m48"},
      {"CORRUPT alone", 0x20,
       [](ClusterView& v) {
         v.alarms = {{0x30, AlarmKind::corrupt}};
       },
       Kind::corrupt, "never disarmed"},
      {"no leader", 0x10,
       [](ClusterView& v) {
         for (auto& m : v.members) m.leader_id = 0;
       },
       Kind::blocked, "no agreed leader"},
  }));
  INFO(c.what);
  ClusterView v = nospace();
  for (auto& m : v.members) m.name = "m" + std::to_string(m.id);  // m16, m32, m48
  c.change(v);
  const auto d = decide_alarms(v, c.self, policy());
  INFO(d.reason);
  CHECK(d.kind == c.kind);
  CHECK_THAT(d.reason, Catch::Contains(c.says));
}

TEST_CASE("every warden computes the same actor", "[alarms][rule]") {
  const ClusterView v = nospace();
  int actors = 0;
  for (const auto& m : v.members) {
    if (decide_alarms(v, m.id, policy()).kind == Kind::recover) ++actors;
  }
  CHECK(actors == 1);
}

TEST_CASE("recovery order: followers by ID, the leader last", "[alarms][rule]") {
  ClusterView v = nospace();  // leader 0x20
  std::set<std::uint64_t> done;
  CHECK(next_recovery_member(v, done) == 0x10u);
  done.insert(0x10);
  CHECK(next_recovery_member(v, done) == 0x30u);
  done.insert(0x30);
  CHECK(next_recovery_member(v, done) == 0x20u);
  done.insert(0x20);
  CHECK(next_recovery_member(v, done) == std::nullopt);
}

TEST_CASE("recovery order: learners are never chosen, a single member is its own last",
          "[alarms][rule]") {
  ClusterView v = nospace();       // leader 0x20
  v.members[1].is_learner = true;  // 0x10
  CHECK(next_recovery_member(v, {}) == 0x30u);
  CHECK(next_recovery_member(v, {0x30}) == 0x20u);
  CHECK(next_recovery_member(v, {0x30, 0x20}) == std::nullopt);
  // A learner's file still over the quota blocks the disarm with a way out.
  v.members[1].db_size = Bytes::mib(63);
  const auto full = disarm_headroom(v, Bytes::mib(64));
  CHECK_FALSE(full.ok);
  CHECK_THAT(full.reason, Catch::Contains("etcd refuses Defragment on a learner: promote it"));

  ClusterView one;
  one.members = {member(0x10, 0x10)};
  one.alarms = {{0x10, AlarmKind::nospace}};
  CHECK(decide_alarms(one, 0x10, policy()).kind == Kind::recover);
  CHECK(next_recovery_member(one, {}) == 0x10u);
  CHECK(next_recovery_member(one, {0x10}) == std::nullopt);
}

TEST_CASE("NOSPACE with a learner: the voters act, the learner stands by", "[alarms][rule]") {
  ClusterView v = nospace();
  v.members.push_back(member(0x05, 0x20));
  v.members.back().is_learner = true;  // lowest ID, but a learner
  v.members.back().raft_index = 1;     // and far behind: it does not block either
  CHECK(decide_alarms(v, 0x10, policy()).kind == Kind::recover);
  CHECK(decide_alarms(v, 0x05, policy()).kind == Kind::stand_by);
}

TEST_CASE(
    "recovery skips: a member already done in this alarm is copied again only with free "
    "space again",
    "[alarms][rule]") {
  ClusterView v = nospace();
  // Every member counts in a first run, however compact it looks: followers'
  // compaction may not have reached their Status yet.
  v.members[1].db_in_use = v.members[1].db_size;  // 0x10 shows nothing free
  CHECK(recovery_skips(v, {}, {}).empty());
  CHECK(next_recovery_member(v, recovery_skips(v, {}, {})) == 0x10u);
  // A retry of the same alarm: 0x10 was done and is still compact; 0x30 was
  // done but has free pages again (its compaction finished after its defrag).
  const auto skip = recovery_skips(v, {}, {0x10, 0x30});
  CHECK(skip == std::set<std::uint64_t>{0x10});
  CHECK(next_recovery_member(v, skip) == 0x30u);
  CHECK(recovery_skips(v, {0x20}, {0x10}) == std::set<std::uint64_t>{0x10, 0x20});
}

TEST_CASE("disarm only when the data fits the quota", "[alarms][rule]") {
  ClusterView v = nospace();
  CHECK(disarm_headroom(v, Bytes::mib(64)).ok);
  CHECK(disarm_headroom(v, std::nullopt).ok);
  v.members[2].db_size = Bytes::mib(62);
  const auto full = disarm_headroom(v, Bytes::mib(64));
  CHECK_FALSE(full.ok);
  CHECK_THAT(full.reason,
             Catch::Contains("m32's database is still 62MiB (97% of the 64MiB quota)"));
  CHECK_THAT(full.reason, Catch::Contains("raise --quota-backend-bytes"));
}
