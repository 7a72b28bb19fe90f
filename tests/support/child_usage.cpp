#include "support/child_usage.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace etcd_warden::testing {

namespace {

// `entry` ("NAME=VALUE") names one of `names` (an entry ending in '*' is a prefix).
bool names_one_of(const std::string& entry, const std::vector<std::string>& names) {
  const std::string name = entry.substr(0, entry.find('='));
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) {
    if (n.ends_with('*')) return name.starts_with(std::string_view(n).substr(0, n.size() - 1));
    return name == n;
  });
}

}  // namespace

MemorySample memory_of(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  MemorySample m;
  while (status >> key) {
    if (key == "VmHWM:") status >> m.hwm_mib;
    if (key == "RssAnon:") status >> m.private_mib;
    status.ignore(1 << 12, '\n');
  }
  m.hwm_mib /= 1024;
  m.private_mib /= 1024;
  return m;
}

MemorySampler::MemorySampler(pid_t pid)
    : thread_([this, pid] {
        while (!stop_) {
          const MemorySample m = memory_of(pid);
          peak_.hwm_mib = std::max(peak_.hwm_mib, m.hwm_mib);
          peak_.private_mib = std::max(peak_.private_mib, m.private_mib);
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }) {}

MemorySampler::~MemorySampler() {
  if (thread_.joinable()) stop();
}

MemorySample MemorySampler::stop() {
  stop_ = true;
  thread_.join();
  return peak_;
}

ChildResult run_child(const std::vector<std::string>& argv, const EnvVars& extra_env,
                      const std::filesystem::path& log, const std::vector<std::string>& unset_env) {
  std::vector<std::string> overridden;
  for (const auto& kv : extra_env) overridden.push_back(kv.first);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    if (!names_one_of(entry, unset_env) && !names_one_of(entry, overridden)) {
      env_strings.push_back(entry);
    }
  }
  for (const auto& [k, v] : extra_env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  ChildResult r;
  pid_t pid = -1;
  const auto start = std::chrono::steady_clock::now();
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("spawn " + argv[0] + ": " + std::strerror(rc));
  // posix_spawn returns once the child has exec'd: from here on /proc shows its own memory.
  MemorySampler sampler(pid);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid: " + std::string(std::strerror(errno)));
  }
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const MemorySample peak = sampler.stop();
  r.peak_rss_mib = peak.hwm_mib;
  r.peak_private_mib = peak.private_mib;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return r;
}

}  // namespace etcd_warden::testing
