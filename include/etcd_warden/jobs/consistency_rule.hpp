// The consistency check's decisions, pure: at which revision to ask every
// voting member for HashKV, what their answers say (match, a mismatch and
// which member is the odd one out, or nothing to conclude), and the record
// the leader's warden keeps in etcd so that every warden shows the verdict.
//
// HashKV(rev) hashes the key space up to rev, but what it covers below the
// compact revision depends on that compaction; answers are compared only
// when their compact_revision agrees (etcd's own corruption checker does the
// same). At exactly the compact revision, etcd 3.5 answers from hashes kept in
// memory at compaction and 3.4 refuses; so the check asks above it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcd_warden::jobs {

// What one voting member answered.
struct MemberHash {
  std::uint64_t member_id = 0;
  std::string name;  // label(): the name, or the ID in hex
  std::uint32_t hash = 0;
  std::int64_t compact_revision = 0;  // -1 or 0: never compacted
};

// The revision to hash: the lowest one every voting member has applied
// (so none answers "future revision"), above the compact revision when it is
// known, at least 1. nullopt when there is nothing to hash (an empty store,
// or one compacted right to its end).
std::optional<std::int64_t> hash_revision(std::int64_t lowest_applied,
                                          std::optional<std::int64_t> compacted);

struct ConsistencyVerdict {
  enum class Kind { match, mismatch, inconclusive };
  Kind kind = Kind::inconclusive;
  std::int64_t revision = 0;
  // The members whose hash differs from the majority's; empty on a match.
  // With no strict majority (two members, or three different hashes) every
  // member outside the largest group is listed and `majority` is false.
  std::vector<std::uint64_t> odd;
  bool majority = true;
  // One line: "3 members agree at revision 1234 (hash 3b2f...)",
  // "m3 differs at revision 1234: hash 905605177, m1 and m2 have 146223240",
  // "compact revisions differ (m1 1200, m3 1100): compared nothing".
  std::string summary;
};

ConsistencyVerdict judge_hashes(std::int64_t revision, const std::vector<MemberHash>& answers);

// The record under <prefix>consistency: the leader's warden writes it after
// each conclusive check; every warden reads it for STATUS= and the metric,
// and the defrag job is held while it says mismatch (a defrag must not
// rewrite the evidence).
struct ConsistencyRecord {
  std::int64_t checked_unix = 0;
  std::int64_t revision = 0;
  bool mismatch = false;
  std::vector<std::uint64_t> odd;
  std::string summary;  // the verdict's
  std::string by;       // the writing warden's member
};
std::string encode(const ConsistencyRecord& record);
std::optional<ConsistencyRecord> parse_consistency(std::string_view text);

// "CONSISTENCY MISMATCH at revision 1234: m3 differs ..." for STATUS= while a
// record says mismatch; "" otherwise.
std::string consistency_alert(const std::optional<ConsistencyRecord>& record);

}  // namespace etcd_warden::jobs
