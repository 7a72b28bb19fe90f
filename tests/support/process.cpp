#include "support/process.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "support/temp_dir.hpp"

extern char** environ;

namespace etcd_warden::testing {

namespace {

std::string resolve_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path_env = std::getenv("PATH");
  const std::string path = (path_env != nullptr && *path_env != '\0') ? path_env : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find(':', start), path.size());
    const std::string dir = end > start ? path.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return name;  // execve fails with ENOENT and the error names it
}

bool is_unset(std::string_view name, const std::vector<std::string>& unset, const EnvVars& env) {
  for (const auto& [k, v] : env) {
    if (k == name) return true;
  }
  for (const auto& u : unset) {
    if (!u.empty() && u.back() == '*') {
      if (name.substr(0, u.size() - 1) == std::string_view(u).substr(0, u.size() - 1)) return true;
    } else if (u == name) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> build_environment(const ProcessOptions& o) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    if (is_unset(entry.substr(0, eq), o.unset_env, o.env)) continue;
    out.emplace_back(entry);
  }
  for (const auto& [k, v] : o.env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int open_or_throw(const std::filesystem::path& p, int flags, const char* what) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error(std::string("Process: open ") + what + " " + p.string() + ": " +
                             std::strerror(errno));
  }
  return fd;
}

// Async-signal-safe: runs in the child between fork and exec.
void move_fd(int from, int to) {
  if (from == to) {
    const int flags = ::fcntl(to, F_GETFD);
    ::fcntl(to, F_SETFD, flags & ~FD_CLOEXEC);
  } else {
    ::dup2(from, to);
  }
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1;
}

}  // namespace

Process::Process(ProcessOptions options) : options_(std::move(options)) {
  if (options_.argv.empty()) throw std::runtime_error("Process: empty argv");
  if (options_.log_path.empty()) throw std::runtime_error("Process: log_path is required");

  // Everything that allocates happens before fork: the test process has threads.
  const std::string exe = resolve_executable(options_.argv[0]);
  std::vector<std::string> argv_copy = options_.argv;
  std::vector<std::string> env_copy = build_environment(options_);
  std::vector<char*> argv_c = c_strings(argv_copy);
  std::vector<char*> env_c = c_strings(env_copy);
  const std::string cwd = options_.cwd.string();

  const int log_fd = open_or_throw(options_.log_path, O_WRONLY | O_CREAT | O_APPEND, "log");
  int err_fd = log_fd;
  if (!options_.stderr_path.empty()) {
    err_fd = ::open(options_.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (err_fd < 0) {
      const int e = errno;
      ::close(log_fd);
      throw std::runtime_error("Process: open stderr " + options_.stderr_path.string() + ": " +
                               std::strerror(e));
    }
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int status_pipe[2];
  if (null_fd < 0 || ::pipe2(status_pipe, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(log_fd);
    if (err_fd != log_fd) ::close(err_fd);
    if (null_fd >= 0) ::close(null_fd);
    throw std::runtime_error(std::string("Process: pipe: ") + std::strerror(e));
  }

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    // Signal state is inherited across exec for blocked and ignored signals.
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
    }
    // Keep the status pipe away from 0..2 before dup2 over them.
    int wr = status_pipe[1];
    if (wr <= 2) wr = ::fcntl(wr, F_DUPFD_CLOEXEC, 3);
    move_fd(null_fd, 0);
    move_fd(log_fd, 1);
    move_fd(err_fd, 2);
    int child_errno = 0;
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) child_errno = errno;
    if (child_errno == 0) {
      // Nothing else of the test process leaks into the child.
      ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
      ::execve(exe.c_str(), argv_c.data(), env_c.data());
      child_errno = errno;
    }
    [[maybe_unused]] auto n = ::write(wr, &child_errno, sizeof child_errno);
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(status_pipe[1]);
  ::close(null_fd);
  ::close(log_fd);
  if (err_fd != log_fd) ::close(err_fd);
  if (pid < 0) {
    ::close(status_pipe[0]);
    throw std::runtime_error(std::string("Process: fork: ") + std::strerror(fork_errno));
  }
  pid_ = pid;

  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(status_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(status_pipe[0]);
  if (n > 0) {
    reap(true);
    pid_ = -1;
    throw std::runtime_error("Process: cannot start " + exe + (cwd.empty() ? "" : " in " + cwd) +
                             ": " + std::strerror(child_errno));
  }
}

Process::~Process() {
  if (pid_ > 0) kill();
}

Process::Process(Process&& other) noexcept
    : options_(std::move(other.options_)), pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) kill();
    options_ = std::move(other.options_);
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
  }
  return *this;
}

bool Process::reap(bool block) {
  if (status_) return true;
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = decode_status(status);
    return true;
  }
  if (r < 0) {  // ECHILD: reaped elsewhere; treat as gone
    status_ = -1;
    return true;
  }
  return false;
}

bool Process::running() {
  return pid_ > 0 && !reap(false);
}

void Process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds deadline) {
  if (pid_ <= 0) return status_;
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!reap(false)) {
    if (std::chrono::steady_clock::now() >= end) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
  return status_;
}

int Process::kill() {
  if (pid_ <= 0) return status_.value_or(-1);
  if (!reap(false)) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
  return status_.value_or(-1);
}

std::string Process::log() const {
  return read_file(options_.log_path);
}

std::string Process::log_tail(std::size_t lines) const {
  return tail_lines(log(), lines);
}

std::string tail_lines(const std::string& text, std::size_t lines) {
  if (lines == 0) return {};
  std::size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  std::size_t found = 0;
  while (pos > 0) {
    const std::size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) return text;
    if (++found == lines) return text.substr(nl + 1);
    pos = nl;
  }
  return text;
}

CommandResult run_command(std::vector<std::string> argv, CommandOptions options) {
  TempDir dir("etcd-warden-cmd");
  ProcessOptions po;
  po.argv = std::move(argv);
  po.env = std::move(options.env);
  po.unset_env = std::move(options.unset_env);
  po.cwd = std::move(options.cwd);
  po.log_path = dir / "output";
  if (options.separate_stderr) po.stderr_path = dir / "stderr";
  Process p(std::move(po));
  CommandResult result;
  if (auto status = p.wait_exit(options.timeout)) {
    result.exit_code = *status;
  } else {
    result.timed_out = true;
    result.exit_code = p.kill();
  }
  result.output = p.log();
  if (options.separate_stderr) result.error = read_file(dir / "stderr");
  return result;
}

std::string run_checked(std::vector<std::string> argv, const std::string& who,
                        CommandOptions options) {
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  const auto timeout = options.timeout;
  const CommandResult r = run_command(std::move(argv), std::move(options));
  if (r.exit_code == 0) return r.output;
  const std::string what = r.timed_out ? "timed out after " + std::to_string(timeout.count()) + "ms"
                                       : "exited " + std::to_string(r.exit_code);
  throw std::runtime_error(who + ": `" + cmd + "` " + what + ":\n" + r.output + r.error);
}

}  // namespace etcd_warden::testing
