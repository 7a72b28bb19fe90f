// Checking a snapshot's bytes against its sidecar, and recording the answer.
// "Verified" means the bytes were checked against the sha256 the sidecar holds:
// when written, by `snapshot verify`, or by the scheduled re-check that finds
// the bit rot, the truncation or the edit that came later. The answer goes into
// the sidecar (verified_at, recheck_failed), which the catalog, restore-plan
// and retention read. All of it blocks on file I/O: run it on the blocking pool.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/sched/clock.hpp"
#include "etcd_warden/snapshot/catalog.hpp"
#include "etcd_warden/snapshot/sidecar.hpp"
#include "etcd_warden/snapshot/verify.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::snapshot {

struct CheckedSnapshot {
  VerifiedSnapshot bytes;
  // The sidecar these bytes agree with, or why there is none to compare with
  // ("no sidecar X.json", or its read error): the bytes are sound, but nothing
  // says they are the snapshot that was taken.
  std::optional<SnapshotInfo> sidecar;
  std::string no_sidecar;
};

// verify_file, then the sidecar, when there is one, must describe these bytes:
// the same sha256, database size and file size. A sidecar that cannot be read
// is not an error here (see no_sidecar). Errors name the file:
// "<file>: sha256 X differs from its sidecar's Y".
util::Result<CheckedSnapshot> check_snapshot(const std::filesystem::path& file);

// Writes the outcome into `info` and the sidecar beside `file`: on success
// verified_at = now and any earlier failure cleared; on failure
// recheck_failed = "<now>: <why>", which makes the catalog stop counting the
// snapshot as verified (restore-plan, retention, `snapshot list`).
util::Status record_check(const std::filesystem::path& file, SnapshotInfo info,
                          const util::Result<CheckedSnapshot>& outcome, sched::WallTime now);

// Pure: the snapshots due a re-check, most overdue first. Due: verified and
// last checked more than `every` ago, or modified after their sidecar (the
// bytes may be the same). A failed re-check is not retried: it stays failed
// until someone runs `snapshot verify`.
std::vector<const SnapshotEntry*> due_for_recheck(const std::vector<SnapshotEntry>& entries,
                                                  sched::WallTime now, config::Duration every);

struct RecheckResult {
  std::filesystem::path path;
  std::string error;         // empty: the bytes still match
  std::string record_error;  // the sidecar could not be updated
};

// Lists each of `dirs`, re-checks what is due there, and records each result.
// An unlistable directory is skipped (its error comes with the next snapshot
// run's retention).
std::vector<RecheckResult> recheck_due(const std::vector<std::filesystem::path>& dirs,
                                       sched::WallTime now, config::Duration every);

}  // namespace etcd_warden::snapshot
