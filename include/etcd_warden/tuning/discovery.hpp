// Finding the member's heartbeat-interval and election-timeout, and saying
// where they came from. Read-only, never fatal: a source that cannot be read
// or makes no sense is skipped and the reason kept in `notes`.
//
// Order (the first that sets a value wins, per value):
//   1. the warden's own config (tuning.heartbeat_interval / election_timeout);
//   2. the running etcd process of this member (/proc/PID/cmdline, then its
//      --config-file if any, else flags, then /proc/PID/environ), found by
//      its data dir or client port;
//   3. static places that say how etcd is started: the systemd unit
//      (tuning.etcd_unit: ExecStart, Environment, EnvironmentFiles, read from
//      systemd over D-Bus), the kubeadm static pod manifest, the env files
//      (tuning.env_files);
//   4. etcd's defaults, 100ms and 1000ms.
// etcd itself reads either --config-file (ignoring flags and ETCD_* then) or
// flags over ETCD_* variables; the parsers follow that.
#pragma once

#include <array>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::tuning {

using Millis = std::chrono::milliseconds;

// etcd's certificate files, as its flags name them.
enum class EtcdCert { cert, peer_cert, trusted_ca, peer_trusted_ca };
inline constexpr std::array<EtcdCert, 4> kEtcdCerts{
    EtcdCert::cert, EtcdCert::peer_cert, EtcdCert::trusted_ca, EtcdCert::peer_trusted_ca};
// "cert-file", "peer-cert-file", "trusted-ca-file", "peer-trusted-ca-file".
std::string_view etcd_cert_flag(EtcdCert which);

inline constexpr Millis kEtcdDefaultHeartbeat{100};
inline constexpr Millis kEtcdDefaultElection{1000};

// What one source says. Values are etcd's: whole milliseconds.
struct SourceValues {
  std::optional<Millis> heartbeat, election;
  std::optional<std::filesystem::path> config_file;  // --config-file / ETCD_CONFIG_FILE
  std::optional<std::filesystem::path> data_dir;     // --data-dir / ETCD_DATA_DIR / data-dir
  std::vector<std::string> client_urls;              // --listen-client-urls, split at ','
  // --cert-file and the like, indexed by EtcdCert; in etcd's config file
  // they sit under client-transport-security and peer-transport-security.
  std::array<std::optional<std::filesystem::path>, kEtcdCerts.size()> certs;
  // Values that were present but unusable, one line each:
  // "ETCD_HEARTBEAT_INTERVAL='fast': not a number of milliseconds".
  std::vector<std::string> problems;
};

// etcd's flags: "--heartbeat-interval=250", "--heartbeat-interval 250",
// single-dash forms too (Go's flag package accepts both). argv[0] included.
SourceValues from_arguments(const std::vector<std::string>& argv);
// "KEY=VALUE" entries, as in /proc/PID/environ or systemd's Environment=.
SourceValues from_environment(const std::vector<std::string>& env);
// An environment file as systemd's EnvironmentFile= and /etc/default read
// it: KEY=VALUE lines, '#' comments, optional "export ", single or double
// quotes. Returns "KEY=VALUE" entries; malformed lines go to `problems`.
std::vector<std::string> parse_env_file(std::string_view text,
                                        std::vector<std::string>* problems = nullptr);
// etcd's --config-file YAML: heartbeat-interval, election-timeout, data-dir,
// listen-client-urls. `problems` gets a YAML syntax error too.
SourceValues from_etcd_config_file(std::string_view yaml);
// The command (command + args) of the container named "etcd" (or running
// an etcd binary) in a kubeadm static pod manifest; the error says why there
// is none (no such container, malformed YAML).
util::Result<std::vector<std::string>> kubeadm_etcd_command(std::string_view yaml);
// NUL-separated /proc/PID/cmdline and /proc/PID/environ.
std::vector<std::string> split_nul(std::string_view data);

// One discovered value and where it came from, for logs, `job tuning` and
// ctl: "/proc/4242/cmdline (--heartbeat-interval=250)",
// "/etc/default/etcd (ETCD_HEARTBEAT_INTERVAL=250; the running etcd, pid 4242, uses it)",
// "etcd default".
struct Found {
  Millis value{0};
  std::string source;
  bool operator==(const Found&) const = default;
};

struct Discovered {
  Found heartbeat, election;       // always set
  std::optional<int> pid;          // the running etcd process, when found
  std::vector<std::string> notes;  // skipped sources with the reason, disagreements
};

// Blocking (reads files, asks systemd over D-Bus with a 2 s deadline): run
// it on the blocking pool. `proc_root` is for tests.
Discovered discover(const config::Config& config, const std::filesystem::path& proc_root = "/proc");

// One of etcd's certificate files and where it was found:
// "/proc/812/cmdline (--cert-file=/etc/kubernetes/pki/etcd/server.crt)".
struct FoundCert {
  EtcdCert which = EtcdCert::cert;
  std::filesystem::path path;  // absolute
  std::string source;
  bool operator==(const FoundCert&) const = default;
};

struct DiscoveredCerts {
  std::vector<FoundCert> certs;    // in kEtcdCerts order, those that are set
  std::vector<std::string> notes;  // as for discover()
};

// etcd's certificate files, from the same places as discover(): the running
// member's process, else the first static place that names each. Blocking.
DiscoveredCerts discover_certificates(const config::Config& config,
                                      const std::filesystem::path& proc_root = "/proc");

// The pid of this member's etcd process (as discover() finds it), nullopt
// when none is found; `notes` as for discover(). Blocking.
std::optional<int> find_etcd_pid(const config::Etcd& etcd, std::vector<std::string>& notes,
                                 const std::filesystem::path& proc_root = "/proc");

}  // namespace etcd_warden::tuning
