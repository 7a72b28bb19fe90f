// What is in a snapshot directory: the snapshots we wrote (names that
// parse_snapshot_file_name accepts, nothing else), with their sidecars, and
// the partial files an interrupted run left behind.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "etcd_warden/sched/clock.hpp"
#include "etcd_warden/snapshot/naming.hpp"
#include "etcd_warden/snapshot/sidecar.hpp"
#include "etcd_warden/util/bytes.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::snapshot {

struct SnapshotEntry {
  std::filesystem::path path;
  SnapshotName name;
  Bytes file_bytes;
  sched::WallTime mtime;
  std::optional<SnapshotInfo> info;  // the sidecar, when present and readable
  // Why the snapshot does not count as verified: sidecar missing, unreadable,
  // or describing another file (name, size or revision differ); a re-check
  // that failed; the file modified after the sidecar was written, or the
  // sidecar written well after the check it records. Empty if verified.
  std::string problem;
  // Only the last two: the bytes may still be the ones the sidecar
  // describes, and a re-check (recheck.hpp) can tell.
  bool modified_after_check = false;

  // The sidecar is written only after the bytes were checked against its
  // sha256, so a sidecar that matches the file marks a verified snapshot.
  bool verified() const { return info.has_value() && problem.empty(); }
};

// Newest first (time taken, then revision). A missing directory is an empty
// list; an unreadable one is an error (so retention never acts on half a list).
util::Result<std::vector<SnapshotEntry>> list_snapshots(const std::filesystem::path& dir);

// ".<snapshot or sidecar name>.partial" files that no running writer holds
// (writers keep an flock on theirs). Best effort: an unreadable dir gives none.
std::vector<std::filesystem::path> stale_partials(const std::filesystem::path& dir);

struct CleanupResult {
  std::vector<std::filesystem::path> removed;
  std::vector<Bytes> removed_bytes;  // the size of each, for the log
  std::vector<std::string> errors;   // one line each, naming the path
  // "removed stale partial PATH (SIZE)" for removed[i].
  std::string removed_note(std::size_t i) const;
};
// For start-up: removes what stale_partials finds, each while holding its
// lock, so a writer that starts meanwhile is never touched.
CleanupResult remove_stale_partials(const std::filesystem::path& dir);

}  // namespace etcd_warden::snapshot
