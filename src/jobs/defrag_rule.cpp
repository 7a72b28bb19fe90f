#include "etcd_warden/jobs/defrag_rule.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace etcd_warden::jobs {

namespace {

std::string percent(double ratio) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100.0 * ratio);
  return buf;
}

double ratio(Bytes part, Bytes whole) {
  return whole.value == 0 ? 0.0 : part.as_double() / whole.as_double();
}

}  // namespace

DefragPolicy defrag_policy(const config::DefragJob& cfg, std::optional<Bytes> quota) {
  DefragPolicy p;
  p.min_free = cfg.min_free;
  p.min_free_ratio = cfg.min_free_ratio;
  p.max_quota_usage = cfg.max_quota_usage;
  p.quota = quota;
  p.max_raft_lag = cfg.max_raft_lag;
  p.disk_margin = cfg.disk_margin;
  return p;
}

Verdict defrag_needed(const MemberView& m, const DefragPolicy& p) {
  const Bytes free = m.free();
  const double free_ratio = ratio(free, m.db_size);
  const std::string sizes =
      "db=" + to_string(m.db_size) + " free=" + to_string(free) + " (" + percent(free_ratio) + ")";
  // Quota pressure first: it is the reason that matters most when both hold.
  // A defrag that would give back less than 1% of the quota is not worth a
  // full copy of the file, however full the quota is.
  bool quota_pressed = false;
  if (p.quota && p.quota->value > 0) {
    const double usage = ratio(m.db_size, *p.quota);
    quota_pressed = usage >= p.max_quota_usage;
    if (quota_pressed && ratio(free, *p.quota) >= kQuotaMinReclaim) {
      return Verdict::yes(sizes + ", quota usage " + percent(usage) + " >= max_quota_usage " +
                          percent(p.max_quota_usage) + " of " + to_string(*p.quota));
    }
  }
  if (free.value > 0 && free >= p.min_free && free_ratio >= p.min_free_ratio) {
    return Verdict::yes(sizes + " >= min_free " + to_string(p.min_free) + " and " +
                        percent(p.min_free_ratio));
  }
  std::string why = "not needed: " + sizes;
  if (free < p.min_free || free.value == 0) {
    why += " < min_free " + to_string(p.min_free);
  } else {
    why += ", ratio < min_free_ratio " + percent(p.min_free_ratio);
  }
  if (quota_pressed) why += "; quota usage is high but a defrag would reclaim under 1% of it";
  return Verdict::no(why);
}

Verdict cluster_gates(const ClusterView& c, const DefragPolicy& p) {
  if (c.members.empty()) return Verdict::no("no member list");
  std::size_t voters = 0;
  for (const auto& m : c.members) {
    if (m.is_learner) continue;
    ++voters;
    if (!m.answered) {
      return Verdict::no("member " + label(m) + " is unhealthy (" +
                         (m.error.empty() ? std::string("no answer to Status") : m.error) + ")");
    }
  }
  if (c.has_alarm(AlarmKind::corrupt)) {
    return Verdict::no("CORRUPT alarm raised: no maintenance until an operator has acted");
  }
  if (c.leader_id() == 0) return Verdict::no("the cluster has no agreed leader");
  const std::uint64_t top = c.max_raft_index();
  for (const auto& m : c.members) {
    if (m.is_learner) continue;
    const std::uint64_t lag = top - std::min(top, m.raft_index);
    if (lag > p.max_raft_lag) {
      return Verdict::no("member " + label(m) + " is " + std::to_string(lag) +
                         " raft entries behind (max_raft_lag " + std::to_string(p.max_raft_lag) +
                         ")");
    }
  }
  return Verdict::yes("all " + std::to_string(voters) + " voting members healthy and caught up");
}

Verdict disk_gate(const MemberView& m, std::optional<Bytes> free_disk, const DefragPolicy& p,
                  std::string_view where) {
  const Bytes needed = m.db_in_use + p.disk_margin;
  if (!free_disk) {
    return Verdict::no("free disk space of " + label(m) + " unknown (" + std::string(where) +
                       "); not defragmenting without room for the copy");
  }
  if (*free_disk < needed) {
    return Verdict::no("not enough free disk on " + std::string(where) + ": " +
                       to_string(*free_disk) + " free, the copy needs " + to_string(m.db_in_use) +
                       " + margin " + to_string(p.disk_margin));
  }
  return Verdict::yes("disk " + to_string(*free_disk) + " free >= " + to_string(needed));
}

std::optional<std::uint64_t> choose_transferee(const ClusterView& c, std::uint64_t leader,
                                               const DefragPolicy* policy,
                                               const DefragRound* round) {
  const MemberView* best = nullptr;
  auto done = [policy, round](const MemberView& m) {
    if (round != nullptr && round->had_turn(m.id)) return true;
    return policy != nullptr && !defrag_needed(m, *policy).ok;
  };
  // Whether m is a better choice than `than`, in the order the header gives.
  auto better = [&done](const MemberView& m, const MemberView& than) {
    if (done(m) != done(than)) return done(m);
    return m.raft_index > than.raft_index || (m.raft_index == than.raft_index && m.id < than.id);
  };
  for (const auto& m : c.members) {
    if (m.id == leader || m.is_learner || !m.answered || m.leader_id != leader) continue;
    if (best == nullptr || better(m, *best)) best = &m;
  }
  if (best == nullptr) return std::nullopt;
  return best->id;
}

std::size_t other_voters(const ClusterView& c, std::uint64_t member) {
  return static_cast<std::size_t>(
      std::count_if(c.members.begin(), c.members.end(),
                    [member](const MemberView& m) { return m.id != member && !m.is_learner; }));
}

LeaderPlan plan_leader_defrag(const ClusterView& c, std::uint64_t leader,
                              const DefragPolicy* policy, const DefragRound* round) {
  using Kind = LeaderPlan::Kind;
  const MemberView* me = c.find(leader);
  const std::string who = me != nullptr ? label(*me) : hex_id(leader);
  if (const auto to = choose_transferee(c, leader, policy, round)) return {Kind::hand_off, *to, ""};
  if (other_voters(c, leader) == 0) {
    return {Kind::in_place, 0,
            who +
                " is the only voting member: nobody to hand leadership to, so it is "
                "defragmented in place and its clients stall until the defrag ends"};
  }
  return {Kind::refuse, 0, who + " is leader and has no healthy voting follower to hand off to"};
}

std::optional<std::string> leader_waits_for(const ClusterView& c, std::uint64_t leader,
                                            const DefragPolicy& p, const DefragRound* round) {
  std::string waiting;
  for (const auto& m : c.members) {
    if (m.id == leader || m.is_learner || !m.answered) continue;
    if (round != nullptr && round->had_turn(m.id)) continue;
    if (!defrag_needed(m, p).ok) continue;
    waiting += (waiting.empty() ? "" : ",") + label(m);
  }
  if (waiting.empty()) return std::nullopt;
  return "the leader goes last in a round: waiting for " + waiting + " to be defragmented first";
}

std::optional<DefragRound> round_in_force(const std::optional<DefragRound>& recorded,
                                          const ClusterView& c, std::int64_t now_unix,
                                          std::chrono::seconds max_age) {
  if (!recorded) return std::nullopt;
  if (now_unix - recorded->started_unix > max_age.count()) return std::nullopt;
  for (const auto& m : c.members) {
    if (!m.is_learner && !recorded->had_turn(m.id)) return recorded;  // someone is still to go
  }
  return std::nullopt;
}

std::chrono::seconds round_max_age(config::Duration every) {
  return std::max<std::chrono::seconds>(
      std::chrono::hours(1), std::chrono::duration_cast<std::chrono::seconds>(10 * every));
}

DefragVerdict decide_defrag(const ClusterView& c, std::uint64_t self, const DefragPolicy& p,
                            const LocalFacts& local, const DefragRound* round) {
  using Kind = DefragVerdict::Kind;
  const MemberView* me = c.find(self);
  if (me == nullptr) return {Kind::skip, "own member " + hex_id(self) + " not in the member list"};
  if (!me->answered) return {Kind::skip, "own member " + label(*me) + " does not answer Status"};
  const Verdict need = defrag_needed(*me, p);
  if (me->is_learner) {
    return {Kind::skip, std::string(kLearnerNotDefragmented) + "; " + need.reason};
  }
  if (!need.ok) return {Kind::skip, need.reason, 0, DefragVerdict::Why::not_needed};
  if (round != nullptr && round->had_turn(self)) {
    return {Kind::skip, label(*me) +
                            " already had its turn in this defrag round; it waits until every "
                            "voting member had its own (" +
                            need.reason + ")"};
  }
  if (!local.in_window) return {Kind::skip, "outside the defrag window (" + need.reason + ")"};
  if (c.has_alarm(AlarmKind::nospace)) {
    return {Kind::skip, "NOSPACE alarm raised: the alarms job recovers the cluster"};
  }
  const Verdict gates = cluster_gates(c, p);
  if (!gates.ok) return {Kind::skip, gates.reason};
  const Verdict disk = disk_gate(*me, local.free_disk, p, local.data_dir);
  if (!disk.ok) {
    return {Kind::skip, disk.reason, 0,
            local.free_disk ? DefragVerdict::Why::not_enough_disk
                            : DefragVerdict::Why::free_disk_unknown};
  }
  if (c.leader_id() == self) {
    if (!local.leader_done_waiting) {
      if (auto wait = leader_waits_for(c, self, p, round)) return {Kind::leader_waits, *wait};
    }
    const LeaderPlan plan = plan_leader_defrag(c, self, &p, round);
    switch (plan.kind) {
      case LeaderPlan::Kind::hand_off:
        return {Kind::move_leader_first, need.reason, plan.to};
      case LeaderPlan::Kind::in_place:
        return {Kind::defrag_in_place, need.reason + "; " + plan.reason};
      case LeaderPlan::Kind::refuse:
        return {Kind::skip, plan.reason};
    }
  }
  return {Kind::defrag, need.reason};
}

config::Duration defrag_deadline(Bytes db_size, config::Duration floor) {
  const double gib = db_size.as_double() / static_cast<double>(Bytes::gib(1).value);
  const auto per_gib = std::chrono::seconds(60);
  const auto d = std::chrono::seconds(60) +
                 std::chrono::seconds(static_cast<std::int64_t>(std::ceil(gib)) * per_gib.count());
  return std::max<config::Duration>(floor, d);
}

}  // namespace etcd_warden::jobs
