#include "etcd_warden/jobs/alarm_rule.hpp"

#include <cstdio>

namespace etcd_warden::jobs {

std::optional<std::uint64_t> choose_nospace_actor(const ClusterView& c) {
  std::optional<std::uint64_t> out;
  for (const auto& m : c.members) {
    if (!m.answered || m.is_learner) continue;
    if (!out || m.id < *out) out = m.id;
  }
  return out;
}

AlarmDecision decide_alarms(const ClusterView& c, std::uint64_t self, const DefragPolicy& p) {
  using Kind = AlarmDecision::Kind;
  if (c.has_alarm(AlarmKind::corrupt)) {
    std::string on;
    for (const auto& a : c.alarms) {
      if (a.kind != AlarmKind::corrupt) continue;
      const MemberView* m = c.find(a.member_id);
      on += (on.empty() ? "" : ",") + (m != nullptr ? label(*m) : hex_id(a.member_id));
    }
    return {Kind::corrupt,
            "CORRUPT alarm on " + on +
                ": data inconsistency between members; never disarmed by the warden, an operator "
                "must restore the member (see docs/maintenance.md)"};
  }
  if (!c.has_alarm(AlarmKind::nospace)) return {Kind::none, "no alarm"};
  const auto actor = choose_nospace_actor(c);
  if (!actor) return {Kind::blocked, "NOSPACE: no healthy voting member to recover through"};
  const MemberView* a = c.find(*actor);
  if (*actor != self) {
    return {Kind::stand_by,
            "NOSPACE: " + label(*a) + "'s warden recovers (lowest-ID healthy member); standing by",
            *actor};
  }
  const Verdict gates = cluster_gates(c, p);
  if (!gates.ok) return {Kind::blocked, "NOSPACE recovery waits: " + gates.reason, *actor};
  return {Kind::recover, "NOSPACE: recovering as " + label(*a) + " (lowest-ID healthy member)",
          *actor};
}

std::set<std::uint64_t> recovery_skips(const ClusterView& c,
                                       const std::set<std::uint64_t>& done_this_run,
                                       const std::set<std::uint64_t>& done_this_alarm) {
  std::set<std::uint64_t> out = done_this_run;
  for (const auto& m : c.members) {
    if (done_this_alarm.contains(m.id) && m.free() < kRecoveryMinFree) out.insert(m.id);
  }
  return out;
}

std::optional<std::uint64_t> next_recovery_member(const ClusterView& c,
                                                  const std::set<std::uint64_t>& skip) {
  const std::uint64_t leader = c.leader_id();
  std::optional<std::uint64_t> out;
  bool leader_pending = false;
  for (const auto& m : c.members) {
    if (skip.contains(m.id) || m.is_learner) continue;  // etcd refuses Defragment on a learner
    if (m.id == leader) {
      leader_pending = true;
      continue;
    }
    if (!out || m.id < *out) out = m.id;
  }
  if (!out && leader_pending) out = leader;
  return out;
}

Verdict disarm_headroom(const ClusterView& c, std::optional<Bytes> quota) {
  if (!quota || quota->value == 0) return Verdict::yes("quota unknown");
  for (const auto& m : c.members) {
    const double usage = m.db_size.as_double() / quota->as_double();
    if (usage >= kDisarmMaxUsage) {
      char pct[16];
      std::snprintf(pct, sizeof pct, "%.0f%%", 100.0 * usage);
      if (m.is_learner) {
        return Verdict::no("learner " + label(m) + "'s database is still " + to_string(m.db_size) +
                           " (" + pct + " of the " + to_string(*quota) +
                           " quota) and etcd refuses Defragment on a learner: promote it (then "
                           "it is defragmented like a follower) or remove it and add it again");
      }
      return Verdict::no("after compaction and defrag " + label(m) + "'s database is still " +
                         to_string(m.db_size) + " (" + pct + " of the " + to_string(*quota) +
                         " quota): the data itself is too large; raise --quota-backend-bytes or "
                         "delete data, then disarm with etcdctl alarm disarm");
    }
  }
  return Verdict::yes("every member below " + std::to_string(int(kDisarmMaxUsage * 100)) +
                      "% of the quota");
}

}  // namespace etcd_warden::jobs
