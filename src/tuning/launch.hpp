// How etcd settles its settings from one way of starting it: the running
// process (/proc/PID/cmdline and environ), the systemd unit, the kubeadm
// manifest or an env file. etcd reads either its --config-file (and then
// ignores flags and ETCD_*), or flags over ETCD_* variables; resolve_launch
// does the same and remembers where each value was written.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "etcd_warden/tuning/discovery.hpp"

namespace etcd_warden::tuning::detail {

// One value as one place states it.
struct Setting {
  Millis value{0};
  std::string place;   // "/proc/42/cmdline", "/etc/default/etcd"
  std::string detail;  // "--heartbeat-interval=250", "ETCD_HEARTBEAT_INTERVAL=250, ..."

  // "place (detail)", or "place (detail; extra)".
  std::string describe(const std::string& extra = {}) const;
};

// One of etcd's certificate files as one place names it.
struct CertSetting {
  std::filesystem::path path;  // absolute
  std::string place;           // "/proc/42/cmdline", "/etc/etcd/etcd.yaml"
  std::string detail;          // "--cert-file=/etc/etcd/server.crt"

  std::string describe() const { return place + " (" + detail + ")"; }
};

// One list of KEY=VALUE entries and where it came from.
struct EnvLayer {
  std::string place;    // "/etc/default/etcd", "etcd.service Environment"
  std::string context;  // added to the detail: "an EnvironmentFile of etcd.service"
  std::vector<std::string> entries;
};

struct Launch {
  std::string argv_place;  // where the command line comes from; empty when there is none
  std::vector<std::string> argv;
  std::vector<EnvLayer> env;  // the strongest first
  bool env_complete = true;   // false when the environment could not be read
  // For a relative --config-file or data dir: the process's working
  // directory; empty when it is unknown.
  std::filesystem::path base_dir{"/"};
};

// A value etcd would run with: a setting, or none (etcd's default), or
// unknown when a source that could hold it was unreadable.
struct LaunchValue {
  std::optional<Setting> setting;
  bool known = false;
};

struct LaunchSettings {
  LaunchValue heartbeat, election;
  std::optional<std::filesystem::path> config_file;  // absolute, when etcd reads one
  std::optional<std::filesystem::path> data_dir;     // absolute, when known
  std::vector<std::string> client_urls;              // etcd's default included; empty = unknown
  std::array<std::optional<CertSetting>, kEtcdCerts.size()> certs;  // by EtcdCert
  std::vector<std::string> notes;  // unusable values, unreadable files
};

LaunchSettings resolve_launch(const Launch& launch);

}  // namespace etcd_warden::tuning::detail
