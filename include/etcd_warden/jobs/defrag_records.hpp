// The records the wardens keep in etcd under coordination.prefix, as plain
// "key=value key=value" text: the defrag in flight, the current defrag round
// and each member's report (free disk, client URL, data dir). Pure encode and
// parse; maintenance_ops.cpp reads and writes them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "etcd_warden/util/bytes.hpp"

namespace etcd_warden::jobs {

// --- A defrag in flight (key <prefix>defrag/inflight), written by the lock
// holder just before it calls Defragment and deleted once etcd answered. If
// the holder dies or gives up waiting, the record stays: the next holder does
// not start another member until the recorded one has finished.
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

// --- The defrag round (key <prefix>defrag/round): the voting members
// defragmented since the round started. A member that had its turn waits
// until every voting member had its own, so that compaction
// freeing pages again on an early member does not buy it a second stall
// before the leader's turn (see round_in_force() in defrag_rule.hpp).
struct DefragRound {
  std::int64_t started_unix = 0;
  std::set<std::uint64_t> done;
  bool had_turn(std::uint64_t member) const { return done.contains(member); }
};
std::string encode(const DefragRound& round);
std::optional<DefragRound> parse_round(std::string_view text);
// The round after `member` was defragmented: added to the round in force, or
// the first turn of a new round.
DefragRound with_turn(const std::optional<DefragRound>& in_force, std::uint64_t member,
                      std::int64_t now_unix);

// --- What a member's warden publishes about it (key <prefix>disk/<member id>):
// free space on its data-dir filesystem, so that the NOSPACE recovery, which
// may defragment other hosts' members, can check their disks too; its client
// URL, so that a learner's warden (which etcd refuses MemberList and Alarm)
// finds a voting member to ask; its data dir, for the restore plan.
struct DiskReport {
  Bytes free;
  std::int64_t at_unix = 0;
  std::string client_url;  // empty: not reported (older wardens)
  std::string data_dir;    // likewise
};
std::string encode(const DiskReport& report);
std::optional<DiskReport> parse_disk_report(std::string_view text);
// A report older than this is not trusted for free space.
inline constexpr std::chrono::hours kDiskReportMaxAge{24};
// The free space to judge a remote member by: nullopt (refuse) when the report
// is missing, unreadable or too old.
std::optional<Bytes> usable_report(const std::optional<DiskReport>& report, std::int64_t now_unix);

}  // namespace etcd_warden::jobs
