// Child processes for tests: a real binary, its output in a log file, and no
// survivors. The child gets PR_SET_PDEATHSIG=SIGKILL, so it dies with the
// thread that spawned it (spawn from a thread that outlives the child, e.g.
// the test's main thread); the destructor SIGKILLs and reaps it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace etcd_warden::testing {

using namespace std::chrono_literals;

using EnvVars = std::vector<std::pair<std::string, std::string>>;

struct ProcessOptions {
  std::vector<std::string> argv{};  // argv[0] without '/' is looked up in $PATH
  EnvVars env{};                    // added to (or replacing) the inherited environment
  // Inherited variables to drop; an entry ending in '*' is a prefix ("ETCD_*").
  std::vector<std::string> unset_env{};
  std::filesystem::path cwd{};          // empty: inherit
  std::filesystem::path log_path{};     // stdout (+ stderr) appended here; required
  std::filesystem::path stderr_path{};  // empty: stderr goes to log_path as well
};

class Process {
 public:
  // Spawns the child; throws std::runtime_error if it cannot be started
  // (including exec failures such as a missing binary).
  explicit Process(ProcessOptions options);
  ~Process();  // SIGKILL + reap if still running
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig` if the child is still running.
  void signal(int sig);
  // Exit code, or -signal if killed by a signal; nullopt if still running at the deadline.
  std::optional<int> wait_exit(std::chrono::milliseconds deadline);
  // SIGKILL and reap (no-op if already exited). Returns the final status as in wait_exit.
  int kill();
  // The status once the child has been reaped.
  std::optional<int> exit_status() const { return status_; }

  const std::filesystem::path& log_path() const { return options_.log_path; }
  std::string log() const;
  // The last `lines` lines of the log.
  std::string log_tail(std::size_t lines = 30) const;
  const std::vector<std::string>& argv() const { return options_.argv; }

 private:
  bool reap(bool block);
  ProcessOptions options_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct CommandResult {
  int exit_code = -1;  // -signal if killed; -SIGKILL on timeout
  std::string output;  // stdout + stderr, or stdout only with separate_stderr
  std::string error;   // stderr when separate_stderr
  bool timed_out = false;
};

struct CommandOptions {
  EnvVars env{};
  std::vector<std::string> unset_env{};
  std::filesystem::path cwd{};
  std::chrono::milliseconds timeout = 30s;
  bool separate_stderr = false;
};

// Runs argv to completion (SIGKILL at the timeout) and returns its output.
CommandResult run_command(std::vector<std::string> argv, CommandOptions options = {});
// The same for a step that must succeed: returns its output (stdout only
// with separate_stderr), or throws std::runtime_error
// "WHO: `argv...` exited N:\n<output>" (or "timed out after ...").
std::string run_checked(std::vector<std::string> argv, const std::string& who,
                        CommandOptions options = {});

// The last `lines` lines of `text`.
std::string tail_lines(const std::string& text, std::size_t lines);

}  // namespace etcd_warden::testing
