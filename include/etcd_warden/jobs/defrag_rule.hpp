// When a member may be defragmented, as pure functions of a ClusterView: the
// rule that says a defrag pays, the gates that say it is safe right now, whom
// a leader hands off to, the round that gives each member one turn, and how
// long a defrag may take. No clock, socket or file here; jobs/defrag_job.cpp
// does the I/O, jobs/defrag_records.hpp holds the records kept in etcd.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/jobs/defrag_records.hpp"
#include "etcd_warden/jobs/member_view.hpp"

namespace etcd_warden::jobs {

// The defrag rule's thresholds. No defaults of its own: defrag_policy() builds
// it from the config (config.hpp holds the one set of defaults).
struct DefragPolicy {
  Bytes min_free;
  double min_free_ratio = 0;
  double max_quota_usage = 0;
  std::optional<Bytes> quota;      // unknown: the quota part of the rule is off
  std::uint64_t max_raft_lag = 0;  // entries behind the most advanced member
  Bytes disk_margin;               // free disk beyond the copy's size
};

DefragPolicy defrag_policy(const config::DefragJob& cfg, std::optional<Bytes> quota);

// A yes/no with the words that explain it, for logs and `ctl status`.
struct Verdict {
  bool ok = false;
  std::string reason;
  static Verdict yes(std::string r) { return {true, std::move(r)}; }
  static Verdict no(std::string r) { return {false, std::move(r)}; }
};

// The rule: free pages (size - in use) >= min_free AND free ratio >=
// min_free_ratio, OR the file uses >= max_quota_usage of the quota (and the
// defrag would give back at least kQuotaMinReclaim of the quota).
inline constexpr double kQuotaMinReclaim = 0.01;
Verdict defrag_needed(const MemberView& member, const DefragPolicy& policy);

// Cluster gates, checked just before acting (invariant 2, docs/architecture.md): every voting
// member answered Status, one agreed leader, no CORRUPT alarm, and every
// voting member's raft index within max_raft_lag of the most advanced one.
// Learners do not count: they hold no vote, so a learner still catching up
// (or down) takes nothing from the quorum that a defrag's stall could cost.
Verdict cluster_gates(const ClusterView& cluster, const DefragPolicy& policy);

// bbolt's defrag writes a compacted copy beside the file: it needs about the
// in-use size, plus a margin so the filesystem never fills up. `free_disk`
// nullopt = could not be measured, which refuses too.
Verdict disk_gate(const MemberView& member, std::optional<Bytes> free_disk,
                  const DefragPolicy& policy, std::string_view where);

// The healthy voting follower to hand leadership to. With a policy, members
// that are done (had their turn in `round`, or need no defrag) come first, so
// the new leader does not have to hand off again; then the most caught-up
// (highest raft index), then the lowest ID. Learners never lead.
std::optional<std::uint64_t> choose_transferee(const ClusterView& cluster, std::uint64_t leader,
                                               const DefragPolicy* policy = nullptr,
                                               const DefragRound* round = nullptr);

// How the leader's own defrag goes. With another healthy voting member, it
// hands leadership off first. With none at all (a single-member cluster, or
// its other members are learners) the defrag in place is the only one
// possible: the member's clients stall for its duration, but no election is
// lost either, as there is no other voter to time out. Other voters that
// cannot take over (unhealthy, or following someone else) refuse.
struct LeaderPlan {
  enum class Kind { hand_off, in_place, refuse };
  Kind kind = Kind::refuse;
  std::uint64_t to = 0;  // hand_off
  std::string reason;
};
LeaderPlan plan_leader_defrag(const ClusterView& cluster, std::uint64_t leader,
                              const DefragPolicy* policy = nullptr,
                              const DefragRound* round = nullptr);
// Voting members other than `member`.
std::size_t other_voters(const ClusterView& cluster, std::uint64_t member);

// The leader goes last in a round: while a voting follower that has not had
// its turn still needs a defrag, the leader's own would cost a second
// hand-off later (the new leader would be a member still to defragment). The
// reason, or nullopt when none is left.
std::optional<std::string> leader_waits_for(const ClusterView& cluster, std::uint64_t leader,
                                            const DefragPolicy& policy,
                                            const DefragRound* round = nullptr);

// The round in force, or nullopt when `recorded` is absent or over: every
// voting member had its turn, or the round is older than `max_age`. A member
// that needs no defrag holds the round open (it costs the others at most
// max_age) rather than letting those done go again before it: that strictness
// is what makes a round cost one stall per member.
std::optional<DefragRound> round_in_force(const std::optional<DefragRound>& recorded,
                                          const ClusterView& cluster, std::int64_t now_unix,
                                          std::chrono::seconds max_age);
// How long a round may last: ten runs of the job, and at least an hour (a
// stopped warden, or a member that never needs a defrag, must not hold the
// others back for ever).
std::chrono::seconds round_max_age(config::Duration every);

// What only the warden beside the member knows.
struct LocalFacts {
  std::optional<Bytes> free_disk;  // on data_dir's filesystem; nullopt = not measured
  bool in_window = true;
  std::string_view data_dir = "the data dir";
  // The leader has waited long enough for its followers (their wardens may be
  // stopped or configured differently): it goes now.
  bool leader_done_waiting = false;
};

struct DefragVerdict {
  // leader_waits is a skip too: the leader's member needs a defrag but
  // followers go first (see leader_waits_for).
  // defrag_in_place: the leader is the only voting member (see LeaderPlan).
  enum class Kind { skip, leader_waits, defrag, move_leader_first, defrag_in_place };
  // Why a skip is a skip, for callers that act on it (the reason is for people).
  enum class Why { other, not_needed, free_disk_unknown, not_enough_disk };
  Kind kind = Kind::skip;
  std::string reason;
  std::uint64_t transferee = 0;  // move_leader_first: hand leadership to this member
  Why why = Why::other;
};

// The whole decision for the warden beside member `self`: learner, rule,
// round, window, alarms, gates, disk, leader last, then whether leadership
// must move first. `round` is the round in force (nullptr: none).
DefragVerdict decide_defrag(const ClusterView& cluster, std::uint64_t self,
                            const DefragPolicy& policy, const LocalFacts& local,
                            const DefragRound* round = nullptr);

// Why a learner is never defragmented: etcd answers every RPC but Status,
// serializable Range and the Snapshot stream with "rpc not supported for
// learner" (v3rpc interceptor, 3.4 to 3.6), Defragment included, and the
// offline `etcdutl defrag` needs etcd stopped, which the warden never does.
inline constexpr std::string_view kLearnerNotDefragmented =
    "learner: not defragmented (etcd refuses Defragment on a learner; once promoted it is "
    "defragmented like any follower)";

// How long one Defragment call may take. bbolt copies the live pages, a few
// seconds per GiB on a decent SSD; the deadline allows ~10x that on top of a
// minute, and never less than `floor` (the request timeout).
config::Duration defrag_deadline(Bytes db_size, config::Duration floor);

}  // namespace etcd_warden::jobs
