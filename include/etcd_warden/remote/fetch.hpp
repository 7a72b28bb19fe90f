// Reading a target back: what it holds (`snapshot list`), and a snapshot
// downloaded and checked before anyone restores from it (`snapshot fetch`).
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_warden/remote/remote_catalog.hpp"
#include "etcd_warden/remote/upload.hpp"
#include "etcd_warden/snapshot/sidecar.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::remote {

// Every member's snapshots under the target's prefix, newest first.
util::Result<std::vector<RemoteEntry>> list_remote(const Target& target);

struct Fetched {
  std::filesystem::path file;  // the snapshot, 0600, beside its sidecar
  snapshot::SnapshotInfo info;
};

// Downloads `name` (a snapshot file name under the target's prefix) into
// `dest`: a directory (the file keeps its name) or a file path that does not
// exist yet. The sidecar is read first and must be ours (its checksum); the
// object goes to a hidden partial (0600), is checked against the sidecar's
// sizes and sha256 and etcd's own trailer (verify_file), fsynced, and only
// then renamed into place (never over an existing file), with the sidecar
// beside it. On any error nothing is left behind.
util::Result<Fetched> fetch_snapshot(const Target& target, std::string_view name,
                                     const std::filesystem::path& dest,
                                     const std::atomic<bool>* stop);

}  // namespace etcd_warden::remote
