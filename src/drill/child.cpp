#include "etcd_warden/drill/child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "etcd_warden/io/error.hpp"
#include "etcd_warden/io/unique_fd.hpp"

namespace etcd_warden::drill {

namespace {

using Clock = std::chrono::steady_clock;

Exit exit_of(int status) {
  Exit e;
  if (WIFEXITED(status)) e.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) e.signal = WTERMSIG(status);
  return e;
}

// Everything the child needs, built before fork(): after it only
// async-signal-safe calls are allowed.
struct Prepared {
  std::vector<std::string> strings;
  std::vector<char*> argv, envp;
};

Prepared prepare(const ChildSpec& spec) {
  Prepared p;
  p.strings.reserve(1 + spec.args.size());
  p.strings.push_back(spec.program.string());
  for (const auto& a : spec.args) p.strings.push_back(a);
  for (auto& s : p.strings) p.argv.push_back(s.data());
  p.argv.push_back(nullptr);
  for (const auto& e : spec.env) p.envp.push_back(const_cast<char*>(e.c_str()));
  p.envp.push_back(nullptr);
  return p;
}

// Forks; the child gets `out_fd` as stdout and stderr, /dev/null as stdin.
util::Result<pid_t> start(const ChildSpec& spec, int out_fd) {
  Prepared p = prepare(spec);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return util::fail("fork: " + io::errno_text(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
    const int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) ::dup2(devnull, 0);
    const int out = out_fd >= 0 ? out_fd : devnull;
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    ::execve(p.argv[0], p.argv.data(), p.envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here: no race with a kill(-pid) right after
  return pid;
}

void kill_group(pid_t pid, int sig) {
  if (::kill(-pid, sig) != 0) ::kill(pid, sig);
}

}  // namespace

std::string Exit::describe() const {
  if (timed_out) return "timed out";
  if (signal != 0) return "killed by signal " + std::to_string(signal);
  return "exit status " + std::to_string(code);
}

util::Result<pid_t> spawn(const ChildSpec& spec) {
  io::UniqueFd out;
  if (!spec.output.empty()) {
    out = io::UniqueFd(
        ::open(spec.output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!out.valid()) return util::fail(io::sys_error("open", spec.output, errno));
  }
  return start(spec, out.valid() ? out.get() : -1);
}

std::optional<Exit> try_reap(pid_t pid) {
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return exit_of(status);
  if (r < 0 && errno == ECHILD) return Exit{};  // reaped already
  return std::nullopt;
}

Exit stop(pid_t pid, std::chrono::milliseconds grace) {
  if (auto done = try_reap(pid)) {
    kill_group(pid, SIGKILL);  // whatever it started
    return *done;
  }
  kill_group(pid, SIGTERM);
  const auto deadline = Clock::now() + grace;
  while (Clock::now() < deadline) {
    if (auto done = try_reap(pid)) {
      kill_group(pid, SIGKILL);
      return *done;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a pool thread polling its child
  }
  kill_group(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  Exit e = exit_of(status);
  return e;
}

util::Result<RunResult> run(const ChildSpec& spec, std::chrono::milliseconds timeout,
                            std::size_t max_output) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return util::fail("pipe: " + io::errno_text(errno));
  io::UniqueFd read_end(fds[0]);
  io::UniqueFd write_end(fds[1]);
  auto pid = start(spec, write_end.get());
  write_end.reset();
  if (!pid) return util::fail(pid.error());

  RunResult out;
  const auto deadline = Clock::now() + timeout;
  bool open = true;
  while (open) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{read_end.get(), POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    char buf[4096];
    const ssize_t got = ::read(read_end.get(), buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      open = false;
      break;
    }
    const std::size_t room = max_output - std::min(max_output, out.output.size());
    out.output.append(buf, std::min(room, static_cast<std::size_t>(got)));
  }
  if (open) {  // the deadline passed with the output still open
    kill_group(*pid, SIGKILL);
    int status = 0;
    ::waitpid(*pid, &status, 0);
    out.exit.timed_out = true;
    return out;
  }
  // Output closed: it has exited or is about to; wait for it within the deadline.
  while (true) {
    if (auto done = try_reap(*pid)) {
      out.exit = *done;
      break;
    }
    if (Clock::now() >= deadline) {
      kill_group(*pid, SIGKILL);
      int status = 0;
      ::waitpid(*pid, &status, 0);
      out.exit.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a pool thread polling its child
  }
  kill_group(*pid, SIGKILL);  // anything it left in its group
  return out;
}

std::vector<std::string> clean_env(std::vector<std::string> extra) {
  std::vector<std::string> env{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  for (auto& e : extra) env.push_back(std::move(e));
  return env;
}

std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  const auto nl = text.find_last_of('\n');
  std::string_view line = nl == std::string_view::npos ? text : text.substr(nl + 1);
  std::string out(line.substr(0, 300));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return out;
}

}  // namespace etcd_warden::drill
