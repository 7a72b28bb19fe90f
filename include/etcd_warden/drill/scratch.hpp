// Where a drill works, in the snapshot directory (so the restore's space is
// the snapshot filesystem's, and the catalog, which reads only snapshot
// names, never sees it):
//   .drill/          the scratch directory (0700), removed after every drill
//     snapshot.db    the decompressed snapshot, when it was compressed
//     data/          the restored data dir the throwaway etcd runs on
//     etcd.log       the throwaway etcd's output and the restore's
//     etcd.pid       its pid, for the cleanup after a warden killed mid-drill
//   .drill.lock      flock: one drill at a time (the daemon's, `job drill`)
//   .drill.json      the last successful drill, read at start for the metrics
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "etcd_warden/io/unique_fd.hpp"
#include "etcd_warden/sched/clock.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::drill {

struct ScratchPaths {
  std::filesystem::path root;
  std::filesystem::path snapshot_copy, data, log, pid_file;
  std::filesystem::path lock, state;
};
ScratchPaths scratch_paths(const std::filesystem::path& snapshot_dir);

// The drill lock, waiting up to `patience` (the daemon's start-up cleanup
// holds it briefly); the error says another drill holds it.
util::Result<io::UniqueFd> take_lock(const ScratchPaths& paths,
                                     std::chrono::milliseconds patience = {});

struct Leftovers {
  std::vector<std::string> notes;   // what was found and removed
  std::vector<std::string> errors;  // one line each, naming the path
};
// What a drill that never finished left (the warden killed mid-drill): its
// etcd, when etcd.pid names a live process whose command line names our
// data dir, is killed; the scratch directory is removed. Call with the lock
// held. Blocking.
Leftovers remove_leftovers(const ScratchPaths& paths,
                           const std::filesystem::path& proc_root = "/proc");

// Creates the scratch directory (0700) afresh.
util::Status make_scratch(const ScratchPaths& paths);
util::Status write_pid(const ScratchPaths& paths, pid_t pid);

struct LastDrill {
  sched::WallTime succeeded_at;
  double duration_seconds = 0;  // restore to healthy
  std::string snapshot;         // file name
  bool operator==(const LastDrill&) const = default;
};
std::string to_json(const LastDrill& last);
util::Result<LastDrill> parse_last_drill(std::string_view json);
// Atomically (a .partial file, 0600, fsync, rename, fsync dir).
util::Status write_last_drill(const ScratchPaths& paths, const LastDrill& last);
// nullopt without error when there is no file yet.
util::Result<std::optional<LastDrill>> read_last_drill(const ScratchPaths& paths);

}  // namespace etcd_warden::drill
