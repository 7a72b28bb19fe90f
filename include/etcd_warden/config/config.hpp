// The typed configuration. YAML is turned into this once (config/loader.hpp);
// everything else reads these structs. Defaults live here, in one place.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_warden/util/bytes.hpp"

namespace etcd_warden::config {

using Duration = std::chrono::milliseconds;
using namespace std::chrono_literals;

enum class LogLevel { trace, debug, info, warn, error };

// When a job runs: a fixed interval plus a random delay in [0, jitter].
// After a failure the job is retried sooner, with exponential backoff from
// retry_initial up to retry_max (see sched/schedule_policy.hpp).
struct Schedule {
  Duration every{};
  Duration jitter{0};
  std::optional<Duration> retry_initial;  // default: min(every, 10s)
  std::optional<Duration> retry_max;      // default: max(30s, min(every, 5m))

  bool operator==(const Schedule&) const = default;
};

struct Tls {
  std::filesystem::path ca;    // PEM bundle that signs the members' certificates
  std::filesystem::path cert;  // client certificate (optional, with key)
  std::filesystem::path key;
  std::string server_name;  // overrides the name checked in the member's certificate

  bool operator==(const Tls&) const = default;
};

struct Auth {
  std::string username;
  std::filesystem::path password_file;  // the password itself is never in the YAML

  bool operator==(const Auth&) const = default;
};

struct Etcd {
  std::vector<std::string> endpoints{"http://127.0.0.1:2379"};  // the local member first
  std::optional<Tls> tls;
  std::optional<Auth> auth;
  std::string metrics_url;  // etcd's own /metrics; empty = the local endpoint's
  std::filesystem::path data_dir{"/var/lib/etcd"};
  Duration dial_timeout{5s};
  Duration request_timeout{5s};
  std::optional<Bytes> quota;  // overrides the quota read from etcd

  // Where the local member's /metrics is read (quota, defrag in flight, the
  // tuning histograms): metrics_url, else /metrics on the first endpoint,
  // which etcd serves on its client URLs too (over TLS when https). The one
  // fallback every reader uses; "" only for an endpoint that is not a URL.
  std::string local_metrics_url() const;

  bool operator==(const Etcd&) const = default;
};

struct Metrics {
  std::string listen{"127.0.0.1:9379"};  // empty = no endpoint

  bool operator==(const Metrics&) const = default;
};

struct Log {
  LogLevel level = LogLevel::info;

  bool operator==(const Log&) const = default;
};

struct Control {
  // "system", "session", or a D-Bus address such as "unix:path=/run/x.sock".
  std::string bus{"system"};

  bool operator==(const Control&) const = default;
};

struct Coordination {
  std::string prefix{"/etcd-warden/"};  // lock keys live below it
  Duration lock_ttl{15s};

  bool operator==(const Coordination&) const = default;
};

struct StatusJob {
  Schedule schedule{10s, 0ms};

  bool operator==(const StatusJob&) const = default;
};

enum class CompactionMode { revision, periodic };

struct CompactionJob {
  bool enabled = true;
  CompactionMode mode = CompactionMode::revision;
  std::uint64_t retention_revisions = 10000;  // mode revision: keep the last N revisions
  Duration retention_period{1h};              // mode periodic: keep history of the last T
  Schedule schedule{5min, 30s};

  bool operator==(const CompactionJob&) const = default;
};

// A daily window in local time, "01:00-05:00" in the YAML (units.hpp parses
// and formats it); it may wrap past midnight ("22:00-04:00").
struct TimeWindow {
  std::chrono::minutes start{0};  // after midnight
  std::chrono::minutes end{0};    // != start
  bool contains(std::chrono::minutes minute_of_day) const;
  bool operator==(const TimeWindow&) const = default;
};

struct DefragJob {
  bool enabled = true;
  Bytes min_free = Bytes::mib(256);
  double min_free_ratio = 0.3;
  double max_quota_usage = 0.8;
  std::optional<TimeWindow> window;  // nullopt = any time
  // Gates: every member within this many raft entries of the most advanced
  // one, and free disk for the copy (the in-use size) plus this margin.
  std::uint64_t max_raft_lag = 1000;
  Bytes disk_margin = Bytes::mib(256);
  Schedule schedule{10min, 1min};

  bool operator==(const DefragJob&) const = default;
};

// NOSPACE recovery and CORRUPT reporting; polls the alarm list.
struct AlarmsJob {
  bool enabled = true;
  Schedule schedule{10s, 0ms};

  bool operator==(const AlarmsJob&) const = default;
};

enum class Compression { none, zstd };

// Where snapshot.upload sends snapshots: an S3-compatible bucket. The
// credentials are never in the YAML: credentials_file is an AWS
// shared-credentials file or KEY=VALUE lines (config/credentials.hpp), or
// "$CREDENTIALS_DIRECTORY/NAME" for a systemd LoadCredential=.
enum class PathStyle { automatic, path, virtual_host };

struct S3Location {
  std::string endpoint;  // "" = https://s3.<region>.amazonaws.com
  std::string region{"us-east-1"};
  std::string bucket;
  std::string prefix;  // a key prefix, "" or ending in '/': "etcd/prod/"
  PathStyle path_style = PathStyle::automatic;
  std::filesystem::path credentials_file;
  std::filesystem::path ca;  // tls.ca: a PEM bundle; empty: the system's roots

  bool operator==(const S3Location&) const = default;
};

struct UploadTarget {
  std::string name;  // in metrics, logs and `snapshot fetch NAME ...`
  S3Location s3;
  unsigned keep_last = 14;  // of this member's snapshots in the bucket
  std::optional<Duration> max_age;
  Bytes part_size = Bytes::mib(16);  // multipart above this; S3's minimum is 5 MiB
  unsigned parts_in_flight = 4;      // memory: part_size x parts_in_flight
  Duration timeout{30min};           // the whole upload of one snapshot

  bool operator==(const UploadTarget&) const = default;
};

// "$CREDENTIALS_DIRECTORY/": a credentials_file under systemd's LoadCredential=,
// read from that environment variable when used.
inline constexpr std::string_view kCredentialsDirectoryPrefix = "$CREDENTIALS_DIRECTORY/";

struct SnapshotJob {
  bool enabled = true;
  std::filesystem::path dir{"/var/lib/etcd-warden/snapshots"};
  Compression compression = Compression::zstd;
  int compression_level =
      1;  // measured: level 3 is 4% smaller and 30% slower (bench_snapshot_throughput)
  unsigned keep_last = 14;
  std::optional<Duration> max_age;
  // Kept snapshots' bytes are checked against their sidecars again when the
  // last check is older than this (nullopt: only when written).
  std::optional<Duration> recheck_every{24h};
  std::vector<std::filesystem::path> copy_to;
  std::string hook;
  Duration hook_timeout{5min};
  std::vector<UploadTarget> upload;  // after each verified local snapshot
  Schedule schedule{6h, 10min};

  bool operator==(const SnapshotJob&) const = default;
};

struct TuningJob {
  bool enabled = true;
  std::optional<Duration> heartbeat_interval;  // explicit values win over discovery
  std::optional<Duration> election_timeout;
  // Where discovery looks besides the running etcd process (tuning/discovery.hpp).
  std::string etcd_unit{"etcd.service"};
  std::string systemd_bus{"system"};  // "system", "session" or a D-Bus address
  std::vector<std::filesystem::path> env_files{"/etc/default/etcd", "/etc/etcd/etcd.conf"};
  std::filesystem::path kubeadm_manifest{"/etc/kubernetes/manifests/etcd.yaml"};
  // The fsync probe (tuning/fsync_probe.hpp): on probe_dir's filesystem
  // (empty = etcd.data_dir), at most probe_max_syncs syncs or probe_max_time.
  bool probe = true;
  std::filesystem::path probe_dir;
  int probe_max_syncs = 1000;
  Duration probe_max_time{2s};
  Schedule schedule{15min, 1min};

  bool operator==(const TuningJob&) const = default;
};

// Cross-member consistency (jobs/consistency_rule.hpp): HashKV on every
// voting member at one revision, by the leader's warden.
struct ConsistencyJob {
  bool enabled = true;
  // Per HashKV call: it reads the member's whole backend.
  Duration hash_timeout{2min};
  Schedule schedule{10min, 1min};

  bool operator==(const ConsistencyJob&) const = default;
};

// Expiry of the certificates etcd and the warden use (certs/expiry.hpp):
// etcd.tls's files and etcd's own, found like tuning's settings.
struct CertificatesJob {
  bool enabled = true;
  // STATUS= and the log warn this long before one expires (the alert rules
  // fire at 30 and 7 days whatever this says).
  Duration warn_before{std::chrono::days(30)};
  Schedule schedule{1h, 1min};

  bool operator==(const CertificatesJob&) const = default;
};

// The restore drill (jobs/drill_job.hpp): the newest verified snapshot
// restored into <snapshot.dir>/.drill and served by a throwaway etcd on
// loopback, then compared with the live cluster.
struct DrillJob {
  bool enabled = true;
  // Where etcd and etcdutl/etcdctl are; empty: beside the running etcd, else PATH.
  std::filesystem::path etcd_bin_dir;
  Duration restore_timeout{10min};      // the restore command
  Duration start_timeout{2min};         // until the throwaway etcd answers
  Bytes disk_margin = Bytes::mib(256);  // free space left beyond the restore's need
  Schedule schedule{24h, 1h};

  bool operator==(const DrillJob&) const = default;
};

struct Config {
  Etcd etcd;
  Metrics metrics;
  Log log;
  Control control;
  Coordination coordination;
  StatusJob status;
  CompactionJob compaction;
  DefragJob defrag;
  AlarmsJob alarms;
  SnapshotJob snapshot;
  TuningJob tuning;
  ConsistencyJob consistency;
  CertificatesJob certificates;
  DrillJob drill;

  bool operator==(const Config&) const = default;
};

}  // namespace etcd_warden::config
