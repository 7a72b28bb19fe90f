// When a member may be defragmented, as pure functions of a ClusterView: the
// rule that says a defrag pays, the gates that say it is safe right now, whom
// a leader hands off to, how long a defrag may take, and the records the
// wardens leave in etcd (in-flight marker, free-disk report). No clock, socket
// or file here; jobs/defrag_job.cpp does the I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/jobs/member_view.hpp"

namespace etcd_warden::jobs {

struct DefragPolicy {
  Bytes min_free = Bytes::mib(256);
  double min_free_ratio = 0.3;
  double max_quota_usage = 0.8;
  std::optional<Bytes> quota;           // unknown: the quota part of the rule is off
  std::uint64_t max_raft_lag = 1000;    // entries behind the most advanced member
  Bytes disk_margin = Bytes::mib(256);  // free disk beyond the copy's size
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

// Cluster gates, checked just before acting (invariant 2): every member
// answered Status, one agreed leader, no CORRUPT alarm, and every member's
// raft index within max_raft_lag of the most advanced one.
Verdict cluster_gates(const ClusterView& cluster, const DefragPolicy& policy);

// bbolt's defrag writes a compacted copy beside the file: it needs about the
// in-use size, plus a margin so the filesystem never fills up. `free_disk`
// nullopt = could not be measured, which refuses too.
Verdict disk_gate(const MemberView& member, std::optional<Bytes> free_disk,
                  const DefragPolicy& policy, std::string_view where);

// The healthy voting follower to hand leadership to. With a policy, members
// that need no defrag (already done this round) come first, so the new leader
// does not have to hand off again; then the most caught-up (highest raft
// index), then the lowest ID. Learners never lead.
std::optional<std::uint64_t> choose_transferee(const ClusterView& cluster, std::uint64_t leader,
                                               const DefragPolicy* policy = nullptr);

// The leader goes last in a round: while a follower still needs a defrag, the
// leader's own would cost a second hand-off later (the new leader would be a
// member still to defragment). The reason, or nullopt when none is left.
std::optional<std::string> leader_waits_for(const ClusterView& cluster, std::uint64_t leader,
                                            const DefragPolicy& policy);

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
  enum class Kind { skip, leader_waits, defrag, move_leader_first };
  Kind kind = Kind::skip;
  std::string reason;
  std::uint64_t transferee = 0;  // move_leader_first: hand leadership to this member
};

// The whole decision for the warden beside member `self`: rule, window,
// alarms, gates, disk, leader last, then whether leadership must move first.
DefragVerdict decide_defrag(const ClusterView& cluster, std::uint64_t self,
                            const DefragPolicy& policy, const LocalFacts& local);

// How long one Defragment call may take. bbolt copies the live pages, a few
// seconds per GiB on a decent SSD; the deadline allows ~10x that on top of a
// minute, and never less than `floor` (the request timeout).
config::Duration defrag_deadline(Bytes db_size, config::Duration floor);

// --- The daily window ("01:00-05:00", may wrap past midnight).
struct TimeWindow {
  std::chrono::minutes start{0};
  std::chrono::minutes end{0};
  bool contains(std::chrono::minutes minute_of_day) const;
};
std::optional<TimeWindow> parse_window(std::string_view text);

// --- A defrag in flight, recorded in etcd (key <prefix>defrag/inflight) by the
// lock holder just before it calls Defragment and deleted once etcd answered.
// If the holder dies or gives up waiting, the record stays: the next holder
// does not start another member until the recorded one has finished.
struct DefragMarker {
  std::uint64_t member_id = 0;
  Bytes size_before;
  std::int64_t started_unix = 0;
  std::int64_t until_unix = 0;  // after this the defrag is assumed over
  std::string by;               // the warden's member name, for people
};
std::string encode(const DefragMarker& marker);
std::optional<DefragMarker> parse_marker(std::string_view text);

enum class MarkerState { running, finished, expired };
// Finished when the member's file size changed (a defrag rewrites it) or
// nothing is in flight on it (`inflight` false: its etcd_disk_defrag_inflight
// metric, or it served a read from its backend, see defrag_running());
// expired after until_unix; else running.
MarkerState marker_state(const DefragMarker& marker, std::optional<Bytes> current_size,
                         std::optional<bool> inflight, std::int64_t now_unix);

// --- Free space on a member's data-dir filesystem, published by its warden
// (key <prefix>disk/<member id>) so that the NOSPACE recovery, which may
// defragment other hosts' members, can check their disks too.
struct DiskReport {
  Bytes free;
  std::int64_t at_unix = 0;
};
std::string encode(const DiskReport& report);
std::optional<DiskReport> parse_disk_report(std::string_view text);
// A report older than this is not trusted.
inline constexpr std::chrono::hours kDiskReportMaxAge{24};
// The free space to judge a remote member by: nullopt (refuse) when the report
// is missing, unreadable or too old.
std::optional<Bytes> usable_report(const std::optional<DiskReport>& report, std::int64_t now_unix);

}  // namespace etcd_warden::jobs
