// What `GetStatusJson`, `ListSnapshots` and `ctl ... -o json` return: the
// status board and the snapshot catalog as JSON. Pure functions of plain data
// and a "now", so the shape is unit-tested without a bus. IDs are hex strings
// (as etcdctl prints them and the snapshot sidecar stores them); times are
// RFC 3339 UTC; absent values are null. Nothing secret is on the board, and
// nothing here adds any.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "etcd_warden/sched/clock.hpp"
#include "etcd_warden/snapshot/catalog.hpp"
#include "etcd_warden/status/status_board.hpp"
#include "etcd_warden/util/hex_id.hpp"

namespace etcd_warden::control {

// What the scheduler knows about a job, next to its last result on the board.
struct JobView {
  std::string name;
  bool enabled = true;
  bool running = false;
  // Until the next scheduled run; nullopt when none is scheduled (paused,
  // disabled, running, stopping).
  std::optional<std::chrono::milliseconds> next_in;
};

// "starting" (no poll yet), "degraded" (etcd unreachable), "alarm" (an etcd
// alarm is active) or "ok". Pausing is reported separately.
std::string health(const status::StatusBoard& board);

// {"version", "health", "status_line", "member": {...}, "jobs": [...],
//  "paused", "paused_until", "config_problem"}; see docs/control.md.
std::string status_json(const status::StatusBoard& board, const std::vector<JobView>& jobs,
                        sched::WallTime now, const std::string& version);

// [{"file", "path", "member", "revision", "taken_at", "age_seconds",
//   "file_bytes", "compression", "verified", "problem", "sha256"}], newest first.
std::string snapshots_json(const std::vector<snapshot::SnapshotEntry>& entries,
                           sched::WallTime now);

// Member IDs are spelt as etcdctl does (util/hex_id.hpp).
using etcd_warden::hex_id;

}  // namespace etcd_warden::control
