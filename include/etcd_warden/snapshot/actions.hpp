// The blocking steps of the snapshot job around the writer: free-space
// preflight, copies to other directories, retention, and the hook. All run on
// the blocking pool; each returns one-line errors naming the path.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "etcd_warden/sched/clock.hpp"
#include "etcd_warden/snapshot/retention.hpp"
#include "etcd_warden/snapshot/sidecar.hpp"
#include "etcd_warden/util/bytes.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::snapshot {

struct Preflight {
  std::string insufficient;        // not enough room: the reason, for a skip
  std::vector<std::string> notes;  // stale partials removed, modes tightened
};

// Makes `dir` (0700), removes stale partials when `cleanup` is set, and checks
// that its filesystem has room for `needed` bytes. The error: the directory
// cannot be made or examined.
util::Result<Preflight> preflight(const std::filesystem::path& dir, Bytes needed, bool cleanup);

// Space a snapshot of a database of `db_size` may need: the database (zstd
// output is smaller, but not by a known amount), 10% and 16 MiB for the
// filesystem's own overhead and the sidecar.
Bytes space_needed(Bytes db_size);

// Copies a verified snapshot and its sidecar into `dir` atomically: a private
// partial file (locked, file_io.hpp), fsync, verification of the copy, rename
// (never over an existing file), fsync of the dir, then the sidecar.
util::Status copy_snapshot(const std::filesystem::path& file, const SnapshotInfo& info,
                           const std::filesystem::path& dir);

struct RetentionOutcome {
  std::vector<std::string> deleted;  // "name (reason)"
  std::vector<std::string> errors;
};
// Applies decide_retention() to `dir`; deletes snapshot files with their sidecars.
RetentionOutcome apply_retention(const std::filesystem::path& dir, const RetentionPolicy& policy,
                                 sched::WallTime now);

struct HookOutcome {
  int exit_code = 0;  // -1 when it could not start, -signal when killed
  bool timed_out = false;
  std::string error;
  std::chrono::milliseconds took{0};
};
// Runs `command` with /bin/sh -c, the snapshot described in ETCD_WARDEN_SNAPSHOT_*
// environment variables, stdin from /dev/null, killed after `timeout` (by
// `clock`, which must be safe to read from the blocking pool).
HookOutcome run_hook(const std::string& command, const std::filesystem::path& file,
                     const SnapshotInfo& info, std::chrono::milliseconds timeout,
                     const sched::Clock& clock);

}  // namespace etcd_warden::snapshot
