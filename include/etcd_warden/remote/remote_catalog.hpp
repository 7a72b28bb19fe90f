// What a bucket holds for one member, from a listing: the pure half of remote
// retention, `snapshot list` and the clean-up of crashed uploads. No I/O.
//
// Layout under a target's prefix, one pair per snapshot:
//   <prefix><snapshot file name>        the snapshot, as written locally
//   <prefix><snapshot file name>.json   its sidecar, uploaded only after the
//                                       object was checked (HEAD: size, sha256)
// so an object counts as verified exactly when its sidecar is listed beside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_warden/objstore/s3_protocol.hpp"
#include "etcd_warden/sched/clock.hpp"
#include "etcd_warden/snapshot/naming.hpp"
#include "etcd_warden/snapshot/retention.hpp"

namespace etcd_warden::remote {

std::string object_key(std::string_view prefix, std::string_view file_name);
std::string sidecar_key(std::string_view object_key);

struct RemoteEntry {
  std::string key;
  std::string file;  // the snapshot's file name
  snapshot::SnapshotName name;
  std::uint64_t size = 0;
  bool verified = false;  // its sidecar is there
};

// Our snapshots under `prefix`, newest first (time taken, then revision);
// only `member`'s (sanitized name) unless it is empty. Keys that are not
// snapshot names (other tools' objects, sidecars) are left out.
std::vector<RemoteEntry> remote_entries(std::span<const objstore::ObjectEntry> listing,
                                        std::string_view prefix, std::string_view member);

// decide_retention's view of them.
std::vector<snapshot::RetentionCandidate> retention_candidates(
    std::span<const RemoteEntry> entries);

struct StaleUpload {
  std::string key;
  std::string upload_id;
  std::optional<sched::WallTime> initiated;  // nullopt: the server did not say
};

// The unfinished multipart uploads to abort: snapshot names of `member`
// under `prefix`, begun longer than `timeout` ago (no upload of ours lives
// past its deadline, so a younger one may be another process's, still
// running), and never `current_key`. One without a start time is left alone.
std::vector<StaleUpload> stale_uploads(std::span<const StaleUpload> pending,
                                       std::string_view prefix, std::string_view member,
                                       std::string_view current_key, sched::WallTime now,
                                       std::chrono::milliseconds timeout);

}  // namespace etcd_warden::remote
