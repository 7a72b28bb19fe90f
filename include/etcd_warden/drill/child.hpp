// Child processes of the drill (etcd --version, the restore, the throwaway
// etcd). Each runs in its own process group with a clean environment, and
// dies with SIGKILL when the thread that started it ends (PR_SET_PDEATHSIG):
// a warden killed mid-drill leaves no etcd running. Call these on the
// blocking pool, from a thread that lives as long as the child (the pool's).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "etcd_warden/util/result.hpp"

namespace etcd_warden::drill {

struct ChildSpec {
  std::filesystem::path program;
  std::vector<std::string> args;  // after argv[0]
  std::vector<std::string> env;   // the whole environment, "K=V"
  std::filesystem::path output;   // stdout and stderr appended here (0600); empty: /dev/null
};

struct Exit {
  bool timed_out = false;
  int code = 0;    // when it exited
  int signal = 0;  // when a signal ended it
  bool success() const { return !timed_out && signal == 0 && code == 0; }
  std::string describe() const;  // "exit status 2", "killed by signal 9"
};

util::Result<pid_t> spawn(const ChildSpec& spec);

// Its exit when it has ended (reaped), nullopt while it runs. Does not block.
std::optional<Exit> try_reap(pid_t pid);

// SIGTERM to its group, SIGKILL after `grace`; reaped on return.
Exit stop(pid_t pid, std::chrono::milliseconds grace);

struct RunResult {
  Exit exit;
  std::string output;  // stdout and stderr, at most max_output bytes
};
// Runs to the end or to `timeout` (then its group is killed).
util::Result<RunResult> run(const ChildSpec& spec, std::chrono::milliseconds timeout,
                            std::size_t max_output = std::size_t{64} << 10);

// The environment a child gets: PATH only (no NOTIFY_SOCKET, no ETCD_*
// variable of the warden's host, which etcd would read as flags), plus `extra`.
std::vector<std::string> clean_env(std::vector<std::string> extra = {});

// The last non-empty line of `text`, at most 300 bytes: what a failed tool said.
std::string last_line(std::string_view text);

}  // namespace etcd_warden::drill
