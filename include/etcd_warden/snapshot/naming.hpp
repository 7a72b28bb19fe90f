// Snapshot file names: what a person sees in `ls` and what the catalog and
// retention recognise as ours. Anything that does not parse (partials, sidecars,
// files a human dropped in the directory) is never touched by retention.
//
//   etcd-<member>-r<revision, 12+ digits>-<YYYYMMDDTHHMMSSZ>.db[.zst]
//   etcd-m1-r000000001234-20261123T120102Z.db.zst
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/sched/clock.hpp"

namespace etcd_warden::snapshot {

using config::Compression;

struct SnapshotName {
  std::string member;  // sanitized: [A-Za-z0-9._-]+
  std::int64_t revision = 0;
  sched::WallTime taken;  // whole seconds, UTC
  Compression compression = Compression::none;

  bool operator==(const SnapshotName&) const = default;
};

// Member names are sanitized (any other byte becomes '_', empty becomes
// "unnamed", at most 100 characters) so the name is always one safe path
// component. A negative revision is written as 0; sub-seconds are dropped.
std::string snapshot_file_name(std::string_view member, std::int64_t revision,
                               sched::WallTime taken, Compression compression);
std::string sanitize_member_name(std::string_view member);

// The inverse of snapshot_file_name; nullopt for any other name.
std::optional<SnapshotName> parse_snapshot_file_name(std::string_view file_name);

// Where a file is written before it is complete: ".<name>.partial", hidden and
// never parsed as a snapshot. Shared by the writer, the sidecar and the cleanup.
std::string partial_file_name(std::string_view final_name);

// The JSON sidecar that describes a snapshot: "<snapshot file>.json".
std::filesystem::path sidecar_path(const std::filesystem::path& snapshot_file);

}  // namespace etcd_warden::snapshot
