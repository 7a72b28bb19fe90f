// Streams Maintenance.Snapshot from one member into a sink. Chunks are handed
// to the sink on the blocking pool, one at a time and in order. Receiving runs
// ahead of the sink by at most 1 MiB (etcd sends 32 KiB chunks), so the network
// and the disk or compressor work at the same time while memory stays flat
// whatever the database size. The call is registered with the Client, so
// shutdown cancels it like any other.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "etcd_warden/etcd/client.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::etcd {

// Takes one chunk; returns an error to stop the stream (disk full, ...).
using SnapshotSink = std::function<util::Status(std::span<const std::byte>)>;

struct SnapshotStreamResult {
  std::optional<Error> error;  // the stream failed (etcd down, deadline, cancelled)
  std::string sink_error;      // the sink refused a chunk; the stream was cancelled
  std::optional<Bytes>
      db_bytes;    // announced by the first message: database size without the trailer
  Bytes received;  // all bytes received, trailer included
  bool ok() const { return !error && sink_error.empty(); }
};

Task<SnapshotStreamResult> stream_snapshot(Client& client, std::string url,
                                           config::Duration timeout, asio::thread_pool& pool,
                                           SnapshotSink sink);

}  // namespace etcd_warden::etcd
