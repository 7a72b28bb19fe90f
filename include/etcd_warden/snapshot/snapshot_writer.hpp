// Writes one etcd snapshot stream to disk so that only a complete, verified,
// durable file ever appears under its final name (invariants 1 and 6, docs/architecture.md).
//
//   SnapshotWriter w(dir, snapshot_file_name(...), Compression::zstd, 3);
//   if (auto opened = w.open(); !opened) ...;     // <dir>/.<name>.partial, 0600
//   for each SnapshotResponse: if (auto wrote = w.write(blob); !wrote) ...;
//   WriteResult r = w.finish(announced_db_bytes); // trailer check, fsync, rename
//
// The whole stream (database + etcd's 32-byte sha256 trailer) goes to the file,
// so the file, once decompressed, is exactly what `etcdctl snapshot save` keeps
// and `etcdctl snapshot restore` checks. Blocking I/O: run it off the event loop.
// Any error removes the partial file; the writer is then spent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/util/bytes.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::snapshot {

// A snapshot file in place under its final name. The error otherwise: one
// line naming the path.
struct WrittenSnapshot {
  std::filesystem::path path;  // the final file
  Bytes stream_bytes;          // what etcd sent, trailer included
  Bytes db_bytes;              // the database alone (stream_bytes - 32)
  Bytes file_bytes;            // size on disk (compressed size with zstd)
  std::string sha256;          // hex sha256 of the database (= the verified trailer)
};
using WriteResult = util::Result<WrittenSnapshot>;

class SnapshotWriter {
 public:
  // `file_name` is one path component (see snapshot_file_name). `zstd_level`
  // is used only with Compression::zstd.
  SnapshotWriter(std::filesystem::path dir, std::string file_name, config::Compression compression,
                 int zstd_level = 3);
  ~SnapshotWriter();  // removes the partial file unless finished
  SnapshotWriter(SnapshotWriter&&) noexcept;
  SnapshotWriter& operator=(SnapshotWriter&&) noexcept;
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Ensures `dir` exists with mode 0700 (tightening it if it is ours; see
  // notes()), refuses if the final file already exists, and creates the
  // partial file exclusively.
  util::Status open();
  // Things open() did or found that a person should hear about, e.g.
  // "snapshot dir /x had mode 0755, set to 0700" or a looser dir we do not own.
  std::vector<std::string> notes() const;

  // Appends stream bytes as they arrive (any chunking).
  util::Status write(std::span<const std::byte> bytes);

  // Checks the trailer and, if given, the database size etcd announced
  // (first SnapshotResponse: remaining_bytes + blob size; etcd's count excludes
  // the trailer); then ends the zstd frame, fsyncs, renames the partial to the
  // final name (never replacing an existing file) and fsyncs the directory.
  WriteResult finish(std::optional<Bytes> expected_db_bytes = std::nullopt);

  // Closes and removes the partial file. Safe to call at any time, repeatedly.
  void abort() noexcept;

  std::filesystem::path partial_path() const;
  std::filesystem::path final_path() const;
  Bytes bytes_received() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace etcd_warden::snapshot
