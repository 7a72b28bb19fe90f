// Runs the real etcd-warden binary (ETCD_WARDEN_BINARY) for integration tests:
// `run -c FILE` as a child with NOTIFY_SOCKET pointing at its own listener, or
// one-shot CLI commands such as `check-config`.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/notify_listener.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace etcd_warden::testing {

class EtcdCluster;

// The built daemon binary.
std::filesystem::path warden_binary();

struct WardenOptions {
  std::string config_yaml{};                            // written to <dir>/config.yaml
  std::optional<std::chrono::microseconds> watchdog{};  // sets WATCHDOG_USEC
  EnvVars env{};                                        // extra environment
  std::vector<std::string> extra_args{};                // appended after `run -c FILE`
  std::filesystem::path binary = warden_binary();
};

class WardenProcess {
 public:
  explicit WardenProcess(WardenOptions options);
  explicit WardenProcess(std::string config_yaml);
  ~WardenProcess() = default;  // SIGKILL via Process, then the listener and dir go
  WardenProcess(const WardenProcess&) = delete;
  WardenProcess& operator=(const WardenProcess&) = delete;

  Process& process() { return *process_; }
  NotifyListener& listener() { return listener_; }
  const NotifyListener& listener() const { return listener_; }
  const std::filesystem::path& config_path() const { return config_path_; }
  const std::filesystem::path& dir() const { return dir_.path(); }  // scratch space for the test
  std::string log() const { return process_->log(); }               // its stdout+stderr

  // READY=1 arrived. On timeout the caller can print log().
  bool wait_ready(std::chrono::milliseconds deadline = std::chrono::seconds(20)) const;
  // Replaces the config file (then reload() to apply it).
  void write_config(const std::string& yaml) const;
  void reload() { process_->signal(SIGHUP); }
  // SIGTERM and wait for the exit status (nullopt if still running at the deadline).
  std::optional<int> stop(std::chrono::milliseconds deadline = std::chrono::seconds(10));

 private:
  TempDir dir_{"etcd-warden-run"};
  NotifyListener listener_;
  std::filesystem::path config_path_;
  std::optional<Process> process_;
};

// A warden serving its own /metrics on a free loopback port, for tests that
// read its metrics and its STATUS= line. `config_yaml` has no `metrics:`
// section: one listening on that port is added.
struct MetricsWarden {
  explicit MetricsWarden(const std::string& config_yaml,
                         std::optional<std::chrono::microseconds> watchdog = {});

  std::string metrics() const;                          // "" when it does not answer
  bool has(const std::string& text) const;              // anywhere in /metrics
  bool metric_is(const std::string& line) const;        // a whole line of /metrics
  bool status_contains(const std::string& text) const;  // in the last STATUS=

  std::uint16_t metrics_port;
  std::unique_ptr<WardenProcess> process;
};

// Runs `etcd-warden ARGS...` to completion, e.g. {"check-config", "-c", path}.
// NOTIFY_SOCKET and WATCHDOG_* of the test environment are not passed on.
CommandResult run_cli(std::vector<std::string> args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30),
                      EnvVars env = {});

// The contract `etcd:` block for a warden beside member i: its endpoint first,
// then the others, TLS files when the cluster uses TLS, metrics_url, data_dir.
std::string etcd_config_yaml(const EtcdCluster& cluster, std::size_t member_index);

}  // namespace etcd_warden::testing
