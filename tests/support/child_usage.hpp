// A child process's wall time and peak memory, for benchmarks that compare
// tools run as their own processes: posix_spawn, then VmHWM (peak RSS) and
// RssAnon (private memory) read from /proc every 5 ms while it runs.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"

namespace etcd_warden::testing {

struct ChildResult {
  int exit_code = -1;  // -signal if killed by one
  double wall_seconds = 0;
  double peak_rss_mib = 0;      // VmHWM: private memory and mapped file pages
  double peak_private_mib = 0;  // RssAnon: without the binary's and libraries' pages
};

struct MemorySample {
  double hwm_mib = 0, private_mib = 0;
};

// VmHWM and RssAnon of `pid`; zeros once it is gone.
MemorySample memory_of(pid_t pid);

// Peak memory of a child, read from /proc every 5 ms on a thread of its own
// so that the spawning thread's wall time stays exact. VmHWM is the kernel's
// high-water mark of the child's RSS, so only a rise in its last few ms could
// be missed. wait4's ru_maxrss cannot be used: exec starts it at the
// high-water mark of the address space the child had before exec, which with
// posix_spawn (vfork) or fork is this bench's own, so every tool showed the
// bench's 28.5 MiB.
class MemorySampler {
 public:
  explicit MemorySampler(pid_t pid);
  ~MemorySampler();
  MemorySampler(const MemorySampler&) = delete;
  MemorySampler& operator=(const MemorySampler&) = delete;

  // Stops sampling (call once the child has been reaped) and returns the peaks.
  MemorySample stop();

 private:
  std::atomic<bool> stop_{false};
  MemorySample peak_;  // written by the thread only, read after join
  std::thread thread_;
};

// Spawns argv (argv[0] a path; stdout and stderr appended to `log`), waits for
// it and samples its memory meanwhile. The child's environment is this
// process's, without the variables in `unset_env` (an entry ending in '*' is
// a prefix, as in ProcessOptions) and with `extra_env` added or replacing.
// Throws std::runtime_error if it cannot be spawned.
ChildResult run_child(const std::vector<std::string>& argv, const EnvVars& extra_env,
                      const std::filesystem::path& log,
                      const std::vector<std::string>& unset_env = {});

}  // namespace etcd_warden::testing
