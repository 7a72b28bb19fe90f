// What the alarms job does, as pure functions of a ClusterView. Under NOSPACE
// etcd refuses Put, Txn and LeaseGrant, so the lease lock cannot be taken;
// instead one warden is chosen by a rule every warden computes alike from
// MemberList: the warden of the lowest-ID healthy voting member acts, the
// others stand by. Because the cluster gates require every member to answer,
// any warden that may act sees the same healthy set and so the same actor
// (docs/maintenance.md explains why this stays safe).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "etcd_warden/jobs/defrag_rule.hpp"
#include "etcd_warden/jobs/member_view.hpp"

namespace etcd_warden::jobs {

// The lowest-ID member that answered Status and is not a learner (a learner
// cannot serve the compaction or the write check).
std::optional<std::uint64_t> choose_nospace_actor(const ClusterView& cluster);

struct AlarmDecision {
  enum class Kind {
    none,      // no alarm
    corrupt,   // CORRUPT raised: report loudly, never disarm, no maintenance
    stand_by,  // NOSPACE, and another warden is the actor
    blocked,   // NOSPACE, this warden is the actor, but a gate says not now
    recover,   // NOSPACE, this warden acts
  };
  Kind kind = Kind::none;
  std::string reason;
  std::uint64_t actor = 0;
};

AlarmDecision decide_alarms(const ClusterView& cluster, std::uint64_t self,
                            const DefragPolicy& policy);

// A member this recovery already defragmented is copied again on a retry
// only if it has at least this much free space again.
inline constexpr Bytes kRecoveryMinFree = Bytes::mib(1);

// The members a recovery run skips: those done in this run, and those done in
// an earlier run of the same alarm that are still compact.
std::set<std::uint64_t> recovery_skips(const ClusterView& cluster,
                                       const std::set<std::uint64_t>& done_this_run,
                                       const std::set<std::uint64_t>& done_this_alarm);

// The next member to defragment in a recovery run, one at a time: voting
// followers in ID order, the leader last (in place when it is the only
// voter), skipping those in `skip`. Learners are never chosen: etcd refuses
// Defragment on a learner.
// nullopt when every member is done.
std::optional<std::uint64_t> next_recovery_member(const ClusterView& cluster,
                                                  const std::set<std::uint64_t>& skip);

// Disarming while the data alone still fills the quota would only let a few
// writes in before etcd raises NOSPACE again: every member's file must stay
// under kDisarmMaxUsage of the quota (when the quota is known).
inline constexpr double kDisarmMaxUsage = 0.95;
Verdict disarm_headroom(const ClusterView& cluster, std::optional<Bytes> quota);

}  // namespace etcd_warden::jobs
