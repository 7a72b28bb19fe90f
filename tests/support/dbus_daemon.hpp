// A private dbus-daemon for tests: its own config, its own socket, killed
// with the fixture. `open` lets everyone own and call anything (a stand-in
// for the session bus); `system_like` copies the system bus's default-deny
// policy and includes the given policy files, so a test sees exactly what a
// policy file in /usr/share/dbus-1/system.d would allow.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace etcd_warden::testing {

struct DbusDaemonOptions {
  enum class Policy { open, system_like };
  Policy policy = Policy::open;
  std::vector<std::filesystem::path> includes{};  // <include> policy files (system_like)
  std::chrono::milliseconds start_deadline = std::chrono::seconds(10);
};

class DbusDaemon {
 public:
  // Starts /usr/bin/dbus-daemon and waits until it prints its address.
  // Throws std::runtime_error with its log on failure.
  explicit DbusDaemon(DbusDaemonOptions options = {});
  ~DbusDaemon() = default;  // SIGKILL via Process
  DbusDaemon(const DbusDaemon&) = delete;
  DbusDaemon& operator=(const DbusDaemon&) = delete;

  // "unix:abstract=...": an abstract socket, so it is reachable by any user
  // (e.g. a test client run as nobody) whatever the temp dir's permissions.
  const std::string& address() const { return address_; }
  Process& process() { return *process_; }
  std::string log() const { return process_->log(); }
  void kill() { process_->kill(); }

 private:
  TempDir dir_{"etcd-warden-dbus"};
  std::string address_;
  std::optional<Process> process_;
};

}  // namespace etcd_warden::testing
