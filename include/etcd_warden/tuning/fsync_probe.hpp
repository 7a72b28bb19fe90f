// The warden's own disk check: what etcd's docs do with fio
// (`fio --rw=write --ioengine=sync --fdatasync=1 --bs=2300 --size=22m`),
// bounded so that it can run every few minutes on a production host:
// sequential 2300-byte writes (about one WAL entry of a Kubernetes object),
// each followed by fdatasync, into a preallocated temp file (as etcd's WAL
// and fio both preallocate), stopped after max_syncs or max_time, whichever
// comes first. The file is 0600, named .etcd-warden-fsync-probe.*, and
// removed whatever happens. Blocking: run it on the blocking pool.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace etcd_warden::tuning {

struct ProbeOptions {
  std::filesystem::path dir;  // on the filesystem to measure
  int max_syncs = 1000;
  std::chrono::nanoseconds max_time = std::chrono::seconds(2);
  std::size_t write_size = 2300;
};

struct ProbeResult {
  std::string error;  // "fsync probe in /var/lib/etcd: No space left on device"; empty when ok
  std::size_t syncs = 0;
  std::uint64_t bytes_written = 0;
  double seconds = 0;                // wall time of the whole probe
  double p50 = 0, p99 = 0, max = 0;  // per write+fdatasync, seconds
  bool ok() const { return error.empty() && syncs > 0; }
};

ProbeResult probe_fsync(const ProbeOptions& options);

}  // namespace etcd_warden::tuning
