// Which snapshots to delete: a pure decision on plain data (no filesystem, no
// clock), so every rule is a table-driven unit test.
//
// Rules (invariant 1 in docs/architecture.md: a failed snapshot never costs a good one):
//  1. Verified snapshots, newest first: the first `keep_last` are kept, the
//     rest are deleted ("beyond keep_last").
//  2. A verified snapshot older than `max_age` (now - taken > max_age) is
//     deleted even within keep_last ("older than max_age").
//  3. The newest verified snapshot is never deleted, whatever keep_last
//     (0 acts as 1) and max_age say: an old backup beats none.
//  4. Unverified snapshots (no or mismatching sidecar, failed verify) never
//     count toward keep_last. One is deleted only when it is older than the
//     newest verified snapshot ("superseded"); one that is as new or newer, or
//     any when nothing is verified, is left for a person to look at.
// "Newest" orders by time taken, then by name. Deletions are listed in input order.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/sched/clock.hpp"

namespace etcd_warden::snapshot {

struct RetentionCandidate {
  std::string name;  // file name; identifies the snapshot in the verdict
  sched::WallTime taken;
  bool verified = false;
};

// No defaults of its own: retention_policy() builds it from the config.
struct RetentionPolicy {
  unsigned keep_last = 0;  // the newest verified snapshot is kept even at 0
  std::optional<std::chrono::milliseconds> max_age;
};

RetentionPolicy retention_policy(const config::SnapshotJob& cfg);

enum class DeleteReason { beyond_keep_last, older_than_max_age, unverified_superseded };

struct Deletion {
  std::string name;
  DeleteReason why;
  std::string reason;  // for the log: "beyond keep_last=3 (5th newest verified)"
};

std::vector<Deletion> decide_retention(std::span<const RetentionCandidate> snapshots,
                                       const RetentionPolicy& policy, sched::WallTime now);

}  // namespace etcd_warden::snapshot
