// The JSON sidecar "<snapshot>.json" written next to each snapshot once it has
// been verified: what was taken, from which member and cluster, at which
// revision, and the sha256 of the database. Its presence (and agreement with
// the file) is what marks a snapshot as verified for the catalog and retention.
//
// {"file": "etcd-m1-r000000001234-20261123T120102Z.db.zst", "member": "m1",
//  "member_id": "8e9e05c52164694d", "cluster_id": "cdf818194e3a8c32",
//  "revision": 1234, "etcd_version": "3.4.23", "taken_at": "2026-11-23T12:01:02Z",
//  "db_bytes": 20480, "file_bytes": 4711, "sha256": "…", "compression": "zstd",
//  "duration_seconds": 1.25, "verified_at": "2026-11-24T12:05:00Z"}
//
// verified_at is when the file's bytes were last checked against this sha256:
// when it was written, by `snapshot verify`, or by the scheduled re-check
// (snapshot.recheck_every). A re-check that found the bytes changed adds
// "recheck_failed": "<when>: <why>", and the snapshot stops counting as
// verified. Sidecars from before these keys read as verified at the end of
// their run (taken_at + duration_seconds). The sidecar is written right after
// that check, so the catalog does not trust one written much later (an edit).
//
// "checksum" is the sha256 of the other keys (compact JSON, keys sorted): a
// sidecar whose values were edited after it was written does not parse.
//
// IDs are hex strings (as etcdctl prints them; 64-bit integers lose precision
// in many JSON readers). Unknown keys are ignored when reading, for newer writers.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/sched/clock.hpp"
#include "etcd_warden/util/bytes.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::snapshot {

struct SnapshotInfo {
  std::string file;  // the snapshot's file name, without directory
  std::string member;
  std::uint64_t member_id = 0;
  std::uint64_t cluster_id = 0;
  std::int64_t revision = 0;
  std::string etcd_version;
  sched::WallTime taken_at;  // JSON: RFC 3339 UTC, whole seconds
  Bytes db_bytes;
  Bytes file_bytes;
  std::string sha256;  // hex, of the database (the verified trailer)
  config::Compression compression = config::Compression::none;
  std::chrono::duration<double> duration{0};  // JSON: duration_seconds
  sched::WallTime verified_at;                // bytes last checked against sha256
  std::string recheck_failed;                 // empty unless a re-check failed

  bool operator==(const SnapshotInfo&) const = default;
};

std::string to_json(const SnapshotInfo& info);  // pretty-printed, ends with '\n'
util::Result<SnapshotInfo> parse_sidecar(std::string_view json);

// Writes `sidecar` (usually sidecar_path(snapshot), naming.hpp) atomically:
// ".<name>.partial" with mode 0600, fsync, rename over any old sidecar, fsync dir.
util::Status write_sidecar(const std::filesystem::path& sidecar, const SnapshotInfo& info);
// Errors name the path: "/x/y.db.json: key 'sha256': missing".
util::Result<SnapshotInfo> read_sidecar(const std::filesystem::path& sidecar);

// "2026-11-23T12:01:02Z"; parsing also accepts fractional seconds, and only
// the years 1970 to 2200.
std::string format_rfc3339(sched::WallTime t);
std::optional<sched::WallTime> parse_rfc3339(std::string_view s);

}  // namespace etcd_warden::snapshot
