// Integrity check of a snapshot file on disk, plain or zstd-compressed
// (recognised by the zstd magic number, not by the name; one zstd frame, as our
// writer makes): the database must be followed by etcd's 32-byte sha256
// trailer, and the trailer must match. This is the check `etcdctl snapshot
// restore` does, run before anyone needs the file. The database must also be
// the bbolt file etcd can open: both meta pages valid, and exactly the pages
// they declare (a trailer computed over junk or over a cut database passes
// the hash, not this).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "etcd_warden/util/bytes.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::snapshot {

// A snapshot file whose trailer matched and whose database checked out. The
// error otherwise: "<path>: truncated: ...", "<path>: sha256 trailer mismatch:
// file says X, content hashes to Y", "<path>: not a bbolt database: ...",
// "<path>: zstd: <reason>", or an open/read error.
struct VerifiedSnapshot {
  Bytes db_bytes;      // database bytes (decompressed, trailer excluded)
  std::string sha256;  // hex sha256 of the database content
  bool compressed = false;
  Bytes file_bytes;             // size on disk
  std::uint32_t page_size = 0;  // bbolt page size the database declares
  std::uint64_t pages = 0;      // its pages: db_bytes / page_size
};
using VerifyResult = util::Result<VerifiedSnapshot>;

// Streams through the file with flat memory. Never throws for a bad file.
VerifyResult verify_file(const std::filesystem::path& file);

// Writes the plain snapshot (database + trailer, what etcdctl reads) to `out`,
// created exclusively with mode 0600 and fsynced. The trailer is checked on the
// way; on any error `out` is removed.
util::Status decompress_to(const std::filesystem::path& in, const std::filesystem::path& out);

}  // namespace etcd_warden::snapshot
