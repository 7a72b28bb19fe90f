// The restore drill's decisions, pure: whether an etcd build can restore a
// snapshot another one took, how much free space the restore needs, and what
// the throwaway member's answers say (revision, key count, hash).
//
// The live cluster can vouch for a restored snapshot only where it still has
// the history: HashKV and a count at the snapshot's revision are compared
// when the live members have not compacted past it (and, for the hash, when
// their compact revision is the snapshot's: HashKV covers what compaction
// kept). Otherwise the check says it compared nothing, and why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_warden/util/bytes.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::drill {

struct EtcdVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  // See util/bytes.hpp: clang-tidy 14 and the 0 of a synthesized <=>.
  auto operator<=>(const EtcdVersion&) const = default;  // NOLINT(modernize-use-nullptr)
};
std::string to_string(const EtcdVersion& v);  // "3.4.23"

// What `etcd --version` prints ("etcd Version: 3.4.23\nGit SHA: ..."), or a
// bare "3.5.16" (a sidecar's etcd_version); nullopt when neither.
std::optional<EtcdVersion> parse_etcd_version(std::string_view text);

// etcdutl took over `snapshot restore` in 3.5 (etcdctl's is deprecated
// there and gone in 3.6); 3.4 has only etcdctl's.
bool restores_with_etcdutl(const EtcdVersion& v);

// An error naming both versions when `tool` cannot restore what `taken_by`
// wrote: older than 3.4 (the oldest the drill knows), an older minor than the
// snapshot's (etcd does not open data of a newer minor), or more than one
// minor newer (etcd upgrades one minor at a time). `taken_by` unknown: only
// the first rule.
util::Status check_can_restore(const EtcdVersion& tool, const std::optional<EtcdVersion>& taken_by);

// etcd's WAL preallocates its first segment at this size.
inline constexpr Bytes kWalSegment = Bytes::mib(64);

struct SpaceNeed {
  Bytes total;
  std::string breakdown;  // "64 MiB database + 64 MiB WAL + 256 MiB margin"
};
// The restored database, its decompressed copy when the snapshot is
// compressed (the restore reads a plain file), the WAL, and the margin.
SpaceNeed space_needed(Bytes db_bytes, bool compressed, Bytes margin);
// An error when `free` is below the need: "... has 40 MiB free, the drill
// needs 330 MiB (...)".
util::Status check_space(const std::string& dir, Bytes free, const SpaceNeed& need);

// One checked property of the restored member: ok or not, and a line for the
// report ("1234, as the snapshot's sidecar says").
struct Check {
  bool ok = true;
  std::string line;
};

// The sidecar's revision is the one before streaming; the file holds at
// least that one (etcd 3.4 sends no revision with the stream).
Check check_revision(std::int64_t restored, std::int64_t sidecar_revision);

// Exact when the live cluster can still count at the snapshot's revision;
// else only an empty restore of a non-empty cluster is refused.
Check check_key_count(std::int64_t restored, std::int64_t revision,
                      std::optional<std::int64_t> live_at_revision,
                      std::optional<std::int64_t> live_now);

// One live member's answer to HashKV at the snapshot's revision.
struct LiveHash {
  std::string member;  // label
  bool answered = false;
  std::uint32_t hash = 0;
  std::int64_t compact_revision = 0;
  bool compacted_past = false;  // it answered ErrCompacted
  std::string error;            // why it did not answer, when not compacted
};

struct HashCheck {
  bool ok = true;
  bool compared = false;  // at least one live member's hash was compared
  std::string line;       // "matches m1, m2, m3 at revision 1234 (hash 3735928559)"
};

// `restored_hash` nullopt: the restored member could not hash at `revision`
// (it is its compact revision, which etcd 3.4 refuses).
HashCheck check_hash(std::int64_t revision, std::optional<std::uint32_t> restored_hash,
                     std::int64_t restored_compact, const std::vector<LiveHash>& live);

}  // namespace etcd_warden::drill
