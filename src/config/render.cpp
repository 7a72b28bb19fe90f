// render(): the effective config as YAML for `check-config` and for people
// comparing what the daemon runs with what they meant to write.
#include <yaml-cpp/yaml.h>

#include <charconv>

#include "etcd_warden/config/loader.hpp"
#include "etcd_warden/config/units.hpp"
#include "names.hpp"

namespace etcd_warden::config {
namespace {

// Durations, sizes, numbers, booleans and enum names: plain scalars.
void plain(YAML::Emitter& out, std::string_view key, const std::string& value) {
  out << YAML::Key << std::string(key) << YAML::Value << value;
}

// Free text and paths are always quoted, so that a value such as "~",
// "true" or "" reads back as the same string.
void text(YAML::Emitter& out, std::string_view key, const std::string& value) {
  out << YAML::Key << std::string(key) << YAML::Value << YAML::DoubleQuoted << value;
}

// An unset optional: null, which the loader reads back as unset, with a
// comment saying what applies instead.
void unset(YAML::Emitter& out, std::string_view key, const std::string& meaning) {
  out << YAML::Key << std::string(key) << YAML::Value << YAML::Null << YAML::Comment(meaning);
}

void duration(YAML::Emitter& out, std::string_view key, const std::optional<Duration>& d,
              const std::string& meaning) {
  if (d) {
    plain(out, key, format_duration(*d));
  } else {
    unset(out, key, meaning);
  }
}

std::string boolean(bool b) {
  return b ? "true" : "false";
}

// Shortest text that reads back as the same double.
std::string number(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, end);
}

void string_list(YAML::Emitter& out, std::string_view key, const std::vector<std::string>& items) {
  out << YAML::Key << std::string(key) << YAML::Value;
  if (items.empty()) out << YAML::Flow;
  out << YAML::BeginSeq;
  for (const auto& item : items) out << YAML::DoubleQuoted << item;
  out << YAML::EndSeq;
}

std::vector<std::string> path_strings(const std::vector<std::filesystem::path>& paths) {
  return {paths.begin(), paths.end()};
}

void schedule(YAML::Emitter& out, const Schedule& s) {
  plain(out, "every", format_duration(s.every));
  plain(out, "jitter", format_duration(s.jitter));
  duration(out, "retry_initial", s.retry_initial, "default: min(every, 10s)");
  duration(out, "retry_max", s.retry_max, "default: max(30s, min(every, 5m))");
}

void tls(YAML::Emitter& out, const std::optional<Tls>& t) {
  if (!t) {
    unset(out, "tls", "not set: https endpoints use the system's CA roots");
    return;
  }
  out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
  text(out, "ca", t->ca.string());
  text(out, "cert", t->cert.string());
  text(out, "key", t->key.string());
  text(out, "server_name", t->server_name);
  out << YAML::EndMap;
}

// The password stays in its file; only where that file is gets printed.
void auth(YAML::Emitter& out, const std::optional<Auth>& a) {
  if (!a) {
    unset(out, "auth", "not set: no etcd authentication");
    return;
  }
  out << YAML::Key << "auth" << YAML::Value << YAML::BeginMap;
  text(out, "username", a->username);
  text(out, "password_file", a->password_file.string());
  out << YAML::EndMap;
}

void etcd(YAML::Emitter& out, const Etcd& e) {
  out << YAML::Key << "etcd" << YAML::Value << YAML::BeginMap;
  string_list(out, "endpoints", e.endpoints);
  tls(out, e.tls);
  auth(out, e.auth);
  text(out, "metrics_url", e.metrics_url);
  text(out, "data_dir", e.data_dir.string());
  plain(out, "dial_timeout", format_duration(e.dial_timeout));
  plain(out, "request_timeout", format_duration(e.request_timeout));
  if (e.quota) {
    plain(out, "quota", format_size(*e.quota));
  } else {
    unset(out, "quota", "not set: the quota etcd reports");
  }
  out << YAML::EndMap;
}

void small_sections(YAML::Emitter& out, const Config& c) {
  out << YAML::Key << "metrics" << YAML::Value << YAML::BeginMap;
  text(out, "listen", c.metrics.listen);
  out << YAML::EndMap;
  out << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
  plain(out, "level", std::string(detail::name_of(detail::kLogLevels, c.log.level)));
  out << YAML::EndMap;
  out << YAML::Key << "control" << YAML::Value << YAML::BeginMap;
  text(out, "bus", c.control.bus);
  out << YAML::EndMap;
  out << YAML::Key << "coordination" << YAML::Value << YAML::BeginMap;
  text(out, "prefix", c.coordination.prefix);
  plain(out, "lock_ttl", format_duration(c.coordination.lock_ttl));
  out << YAML::EndMap;
  out << YAML::Key << "status" << YAML::Value << YAML::BeginMap;
  schedule(out, c.status.schedule);
  out << YAML::EndMap;
}

void compaction(YAML::Emitter& out, const CompactionJob& j) {
  out << YAML::Key << "compaction" << YAML::Value << YAML::BeginMap;
  plain(out, "enabled", boolean(j.enabled));
  plain(out, "mode", std::string(detail::name_of(detail::kCompactionModes, j.mode)));
  // One key, read by mode: a revision count or a time span.
  if (j.mode == CompactionMode::revision) {
    plain(out, "retention", std::to_string(j.retention_revisions));
  } else {
    plain(out, "retention", format_duration(j.retention_period));
  }
  schedule(out, j.schedule);
  out << YAML::EndMap;
}

void defrag(YAML::Emitter& out, const DefragJob& j) {
  out << YAML::Key << "defrag" << YAML::Value << YAML::BeginMap;
  plain(out, "enabled", boolean(j.enabled));
  plain(out, "min_free", format_size(j.min_free));
  plain(out, "min_free_ratio", number(j.min_free_ratio));
  plain(out, "max_quota_usage", number(j.max_quota_usage));
  text(out, "window", j.window ? format_time_window(*j.window) : "");
  plain(out, "max_raft_lag", std::to_string(j.max_raft_lag));
  plain(out, "disk_margin", format_size(j.disk_margin));
  schedule(out, j.schedule);
  out << YAML::EndMap;
}

void alarms(YAML::Emitter& out, const AlarmsJob& j) {
  out << YAML::Key << "alarms" << YAML::Value << YAML::BeginMap;
  plain(out, "enabled", boolean(j.enabled));
  schedule(out, j.schedule);
  out << YAML::EndMap;
}

const char* path_style_name(PathStyle style) {
  switch (style) {
    case PathStyle::path:
      return "true";
    case PathStyle::virtual_host:
      return "false";
    case PathStyle::automatic:
      break;
  }
  return "auto";
}

// The targets, with the credentials file's path but never its content.
void upload(YAML::Emitter& out, const std::vector<UploadTarget>& targets) {
  out << YAML::Key << "upload" << YAML::Value;
  if (targets.empty()) out << YAML::Flow;
  out << YAML::BeginSeq;
  for (const auto& t : targets) {
    out << YAML::BeginMap;
    text(out, "name", t.name);
    out << YAML::Key << "s3" << YAML::Value << YAML::BeginMap;
    text(out, "endpoint", t.s3.endpoint);
    text(out, "region", t.s3.region);
    text(out, "bucket", t.s3.bucket);
    text(out, "prefix", t.s3.prefix);
    plain(out, "path_style", path_style_name(t.s3.path_style));
    text(out, "credentials_file", t.s3.credentials_file.string());
    out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
    text(out, "ca", t.s3.ca.string());
    out << YAML::EndMap << YAML::EndMap;
    plain(out, "keep_last", std::to_string(t.keep_last));
    duration(out, "max_age", t.max_age, "not set: only keep_last limits how many are kept");
    plain(out, "part_size", format_size(t.part_size));
    plain(out, "parts_in_flight", std::to_string(t.parts_in_flight));
    plain(out, "timeout", format_duration(t.timeout));
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void snapshot(YAML::Emitter& out, const SnapshotJob& j) {
  out << YAML::Key << "snapshot" << YAML::Value << YAML::BeginMap;
  plain(out, "enabled", boolean(j.enabled));
  text(out, "dir", j.dir.string());
  plain(out, "compression", std::string(detail::name_of(detail::kCompressions, j.compression)));
  plain(out, "compression_level", std::to_string(j.compression_level));
  plain(out, "keep_last", std::to_string(j.keep_last));
  duration(out, "max_age", j.max_age, "not set: only keep_last limits how many are kept");
  duration(out, "recheck_every", j.recheck_every, "not set: snapshots are checked when written");
  string_list(out, "copy_to", path_strings(j.copy_to));
  text(out, "hook", j.hook);
  plain(out, "hook_timeout", format_duration(j.hook_timeout));
  upload(out, j.upload);
  schedule(out, j.schedule);
  out << YAML::EndMap;
}

void tuning(YAML::Emitter& out, const TuningJob& j) {
  out << YAML::Key << "tuning" << YAML::Value << YAML::BeginMap;
  plain(out, "enabled", boolean(j.enabled));
  duration(out, "heartbeat_interval", j.heartbeat_interval, "not set: read from the member");
  duration(out, "election_timeout", j.election_timeout, "not set: read from the member");
  text(out, "etcd_unit", j.etcd_unit);
  text(out, "systemd_bus", j.systemd_bus);
  string_list(out, "env_files", path_strings(j.env_files));
  text(out, "kubeadm_manifest", j.kubeadm_manifest.string());
  plain(out, "probe", boolean(j.probe));
  text(out, "probe_dir", j.probe_dir.string());
  plain(out, "probe_max_syncs", std::to_string(j.probe_max_syncs));
  plain(out, "probe_max_time", format_duration(j.probe_max_time));
  schedule(out, j.schedule);
  out << YAML::EndMap;
}

void consistency(YAML::Emitter& out, const ConsistencyJob& j) {
  out << YAML::Key << "consistency" << YAML::Value << YAML::BeginMap;
  plain(out, "enabled", boolean(j.enabled));
  plain(out, "hash_timeout", format_duration(j.hash_timeout));
  schedule(out, j.schedule);
  out << YAML::EndMap;
}

void certificates(YAML::Emitter& out, const CertificatesJob& j) {
  out << YAML::Key << "certificates" << YAML::Value << YAML::BeginMap;
  plain(out, "enabled", boolean(j.enabled));
  plain(out, "warn_before", format_duration(j.warn_before));
  schedule(out, j.schedule);
  out << YAML::EndMap;
}

void drill(YAML::Emitter& out, const DrillJob& j) {
  out << YAML::Key << "drill" << YAML::Value << YAML::BeginMap;
  plain(out, "enabled", boolean(j.enabled));
  text(out, "etcd_bin_dir", j.etcd_bin_dir.string());
  plain(out, "restore_timeout", format_duration(j.restore_timeout));
  plain(out, "start_timeout", format_duration(j.start_timeout));
  plain(out, "disk_margin", format_size(j.disk_margin));
  schedule(out, j.schedule);
  out << YAML::EndMap;
}

}  // namespace

std::string render(const Config& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  etcd(out, c.etcd);
  small_sections(out, c);
  compaction(out, c.compaction);
  defrag(out, c.defrag);
  alarms(out, c.alarms);
  snapshot(out, c.snapshot);
  tuning(out, c.tuning);
  consistency(out, c.consistency);
  certificates(out, c.certificates);
  drill(out, c.drill);
  out << YAML::EndMap;
  return std::string("# etcd-warden effective configuration: every setting, defaults included\n") +
         out.c_str() + "\n";
}

}  // namespace etcd_warden::config
