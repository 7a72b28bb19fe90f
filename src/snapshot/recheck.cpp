#include "etcd_warden/snapshot/recheck.hpp"

#include <algorithm>

#include "etcd_warden/snapshot/naming.hpp"

namespace etcd_warden::snapshot {

util::Result<CheckedSnapshot> check_snapshot(const std::filesystem::path& file) {
  auto verified = verify_file(file);
  if (!verified) return util::fail(verified.error());
  CheckedSnapshot out{.bytes = *std::move(verified), .sidecar = std::nullopt, .no_sidecar = {}};
  const auto side = sidecar_path(file);
  std::error_code ec;
  if (!std::filesystem::exists(side, ec)) {
    out.no_sidecar = "no sidecar " + side.filename().string();
    return out;
  }
  auto info = read_sidecar(side);
  if (!info) {
    out.no_sidecar = info.error();
    return out;
  }
  const auto& b = out.bytes;
  if (info->sha256 != b.sha256) {
    return util::fail(file.string() + ": sha256 " + b.sha256 + " differs from its sidecar's " +
                      info->sha256);
  }
  if (info->db_bytes != b.db_bytes) {
    return util::fail(file.string() + ": database of " + std::to_string(b.db_bytes.value) +
                      " bytes, its sidecar says " + std::to_string(info->db_bytes.value));
  }
  if (info->file_bytes != b.file_bytes) {
    return util::fail(file.string() + ": " + std::to_string(b.file_bytes.value) +
                      " bytes, its sidecar says " + std::to_string(info->file_bytes.value));
  }
  out.sidecar = *std::move(info);
  return out;
}

util::Status record_check(const std::filesystem::path& file, SnapshotInfo info,
                          const util::Result<CheckedSnapshot>& outcome, sched::WallTime now) {
  if (outcome) {
    info.verified_at = now;
    info.recheck_failed.clear();
  } else {
    info.recheck_failed = format_rfc3339(now) + ": " + outcome.error();
  }
  return write_sidecar(sidecar_path(file), info);
}

std::vector<const SnapshotEntry*> due_for_recheck(const std::vector<SnapshotEntry>& entries,
                                                  sched::WallTime now, config::Duration every) {
  std::vector<const SnapshotEntry*> due;
  for (const auto& e : entries) {
    if (!e.info) continue;
    if (e.modified_after_check || (e.verified() && now - e.info->verified_at > every)) {
      due.push_back(&e);
    }
  }
  std::stable_sort(due.begin(), due.end(), [](const SnapshotEntry* a, const SnapshotEntry* b) {
    return a->info->verified_at < b->info->verified_at;
  });
  return due;
}

std::vector<RecheckResult> recheck_due(const std::vector<std::filesystem::path>& dirs,
                                       sched::WallTime now, config::Duration every) {
  std::vector<RecheckResult> out;
  for (const auto& dir : dirs) {
    auto listed = list_snapshots(dir);
    if (!listed) continue;
    for (const SnapshotEntry* e : due_for_recheck(*listed, now, every)) {
      const auto checked = check_snapshot(e->path);
      RecheckResult r{.path = e->path, .error = checked ? "" : checked.error(), .record_error = {}};
      if (checked && !checked->sidecar) {
        // Removed or replaced while we read: the next run looks again.
        continue;
      }
      if (auto recorded = record_check(e->path, *e->info, checked, now); !recorded) {
        r.record_error = recorded.error();
      }
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace etcd_warden::snapshot
