#include "sections.hpp"

#include <algorithm>
#include <cctype>

#include "checks.hpp"
#include "etcd_warden/config/units.hpp"
#include "etcd_warden/util/url.hpp"
#include "names.hpp"

namespace etcd_warden::config::detail {
namespace {

using Keys = std::vector<std::string_view>;

// Schedules are written flat inside each job's section.
Keys with_schedule(Keys keys) {
  keys.insert(keys.end(), {"every", "jitter", "retry_initial", "retry_max"});
  return keys;
}

// Appended piece by piece: GCC 12 at -O2 reports a -Wrestrict false positive
// in libstdc++'s insert for "'" + std::string(text) (GCC bug 105329).
std::string in_quotes(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  out += text;
  out += '\'';
  return out;
}

template <class E, std::size_t N>
std::string list_names(const std::array<Named<E>, N>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + std::string(n.name);
  return out;
}

template <class E, std::size_t N>
void read_enum(Section& s, std::string_view key, E& out, const std::array<Named<E>, N>& names) {
  const auto node = s.value(key);
  if (!node) return;
  if (node->IsScalar()) {
    for (const auto& n : names) {
      if (n.name == node->Scalar()) {
        out = n.value;
        return;
      }
    }
  }
  s.fail(key, "expected one of " + list_names(names) + ", got " + describe(*node));
}

void read_positive(Section& s, std::string_view key, Duration& out) {
  if (s.read(key, out) && out <= Duration::zero()) s.fail(key, "must be longer than 0s");
}

void read_positive(Section& s, std::string_view key, std::optional<Duration>& out) {
  if (s.read(key, out) && out && *out <= Duration::zero()) s.fail(key, "must be longer than 0s");
}

void read_ratio(Section& s, std::string_view key, double& out) {
  if (s.read(key, out) && !(out >= 0.0 && out <= 1.0)) {
    s.fail(key, "must be between 0 and 1, got " + describe(*s.value(key)));
  }
}

void read_schedule(Section& s, Schedule& out) {
  read_positive(s, "every", out.every);
  const bool jitter_given = s.read("jitter", out.jitter);
  read_positive(s, "retry_initial", out.retry_initial);
  read_positive(s, "retry_max", out.retry_max);
  // Jitter delays each run by up to its value; one as long as the interval
  // could put two runs back to back. Unless given, it shrinks with a short
  // interval: the job's default, at most a tenth of `every`.
  if (!jitter_given) out.jitter = std::min(out.jitter, out.every / 10);
  if (out.every > Duration::zero() && out.jitter >= out.every) {
    s.fail("jitter", "must be shorter than every (" + format_duration(out.every) + ")");
  }
  if (out.retry_initial && out.retry_max && *out.retry_initial > *out.retry_max) {
    s.fail("retry_initial",
           "must not be longer than retry_max (" + format_duration(*out.retry_max) + ")");
  }
}

void read_endpoints(Section& s, std::vector<std::string>& out) {
  if (!s.read("endpoints", out)) return;
  const auto node = *s.value("endpoints");
  if (out.empty()) {
    s.fail("endpoints", "needs at least one endpoint, the local member first");
    return;
  }
  // The same parser the etcd client uses, so what passes here connects.
  for (const auto& item : node) {
    if (util::has_userinfo(item.Scalar())) {
      // Seen in the wild: the password would go to logs, STATUS and DNS.
      s.fail_at(
          item, "endpoints",
          "must not hold a user name or password (" +
              in_quotes(util::without_userinfo(item.Scalar())) +
              "); set etcd.auth.username, and the password in the file etcd.auth.password_file");
      continue;
    }
    if (!util::parse_endpoint(item.Scalar())) {
      s.fail_at(item, "endpoints",
                "expected http(s)://host:port like https://127.0.0.1:2379, got " + describe(item));
    }
  }
}

// "tls: ~" is how render() writes "no tls section": https endpoints then use
// the system's CA roots, as they do without the section.
void read_tls(Section& etcd, std::optional<Tls>& out) {
  const auto node = etcd.value("tls");
  if (!node) return;
  Section s = etcd.child("tls", {"ca", "cert", "key", "server_name"});
  if (!s.given()) {
    out.reset();
    return;
  }
  Tls tls;
  s.read("ca", tls.ca);
  s.remember("ca");
  s.read("cert", tls.cert);
  s.remember("cert");
  s.read("key", tls.key);
  s.remember("key");
  s.read("server_name", tls.server_name);
  if (!tls.cert.empty() && tls.key.empty()) {
    s.fail("cert", "is set without etcd.tls.key; a client certificate needs its key");
  }
  if (tls.cert.empty() && !tls.key.empty()) {
    s.fail("key", "is set without etcd.tls.cert; a client key needs its certificate");
  }
  out = std::move(tls);
}

void read_auth(Section& etcd, std::optional<Auth>& out) {
  const auto node = etcd.value("auth");
  if (!node) return;
  Section s = etcd.child("auth", {"username", "password_file"});
  if (!s.given()) {
    out.reset();
    return;
  }
  Auth auth;
  s.read("username", auth.username);
  s.read("password_file", auth.password_file);
  s.remember("password_file");
  if (auth.username.empty()) s.fail("username", "is required when etcd.auth is set");
  if (auth.password_file.empty()) {
    s.fail("password_file",
           "is required when etcd.auth is set (the password is never in this file)");
  }
  out = std::move(auth);
}

bool any_https(const std::vector<std::string>& endpoints) {
  return std::any_of(endpoints.begin(), endpoints.end(),
                     [](const std::string& e) { return e.starts_with("https://"); });
}

void read_etcd(Section s, Etcd& out) {
  read_endpoints(s, out.endpoints);
  read_tls(s, out.tls);
  read_auth(s, out.auth);
  if (s.read("metrics_url", out.metrics_url) && util::has_userinfo(out.metrics_url)) {
    s.fail("metrics_url", "must not hold a user name or password (" +
                              in_quotes(util::without_userinfo(out.metrics_url)) + ")");
  } else if (!out.metrics_url.empty() && !is_http_url(out.metrics_url)) {
    s.fail("metrics_url",
           "expected a URL like http://127.0.0.1:2381/metrics, got " + in_quotes(out.metrics_url));
  }
  if (s.read("data_dir", out.data_dir) && out.data_dir.empty()) {
    s.fail("data_dir", "must not be empty");
  }
  read_positive(s, "dial_timeout", out.dial_timeout);
  read_positive(s, "request_timeout", out.request_timeout);
  if (s.read("quota", out.quota) && out.quota && out.quota->value == 0) {
    s.fail("quota", "must be more than 0B (leave it out to use the quota etcd reports)");
  }
  // TLS settings with only http:// endpoints are never used: almost always
  // an endpoint written with the wrong scheme.
  if (out.tls && !any_https(out.endpoints)) {
    s.fail("tls", "is set but no endpoint uses https://");
  }
}

void read_metrics(Section s, Metrics& out) {
  if (s.read("listen", out.listen) && !out.listen.empty() && !is_host_port(out.listen)) {
    s.fail("listen", "expected host:port like 127.0.0.1:9379 (or \"\" for no endpoint), got " +
                         in_quotes(out.listen));
  }
}

void read_log(Section s, Log& out) {
  read_enum(s, "level", out.level, kLogLevels);
}

void read_control(Section s, Control& out) {
  if (s.read("bus", out.bus) && !is_bus(out.bus)) {
    s.fail("bus", "expected system, session or a D-Bus address like unix:path=/run/x.sock, got " +
                      in_quotes(out.bus));
  }
}

void read_coordination(Section s, Coordination& out) {
  if (s.read("prefix", out.prefix) && out.prefix.empty()) s.fail("prefix", "must not be empty");
  // etcd leases count whole seconds; shorter would round to nothing.
  if (s.read("lock_ttl", out.lock_ttl) && out.lock_ttl < std::chrono::seconds(1)) {
    s.fail("lock_ttl", "must be at least 1s (etcd leases count whole seconds)");
  }
}

void read_status(Section s, StatusJob& out) {
  read_schedule(s, out.schedule);
}

// `retention` means a revision count or a time span depending on `mode`,
// so `mode` is read first wherever it appears in the section.
void read_retention(Section& s, CompactionJob& out) {
  const auto node = s.value("retention");
  if (!node) return;
  if (out.mode == CompactionMode::revision) {
    if (convert(*node, out.retention_revisions)) {
      const bool is_duration = node->IsScalar() && parse_duration(node->Scalar());
      s.fail("retention", "expected a number of revisions (mode revision), got " + describe(*node) +
                              (is_duration ? "; set mode: periodic to keep a time span" : ""));
    } else if (out.retention_revisions == 0) {
      s.fail("retention", "must be at least 1 revision");
    }
    return;
  }
  if (convert(*node, out.retention_period)) {
    s.fail("retention", "expected a duration like 1h (mode periodic), got " + describe(*node));
  } else if (out.retention_period <= Duration::zero()) {
    s.fail("retention", "must be longer than 0s");
  }
}

void read_compaction(Section s, CompactionJob& out) {
  s.read("enabled", out.enabled);
  read_enum(s, "mode", out.mode, kCompactionModes);
  read_retention(s, out);
  read_schedule(s, out.schedule);
}

void read_defrag(Section s, DefragJob& out) {
  s.read("enabled", out.enabled);
  s.read("min_free", out.min_free);
  read_ratio(s, "min_free_ratio", out.min_free_ratio);
  read_ratio(s, "max_quota_usage", out.max_quota_usage);
  if (std::string window; s.read("window", window)) {
    out.window = parse_time_window(window);
    if (!out.window && !window.empty()) {
      s.fail("window",
             "expected HH:MM-HH:MM in local time like 01:00-05:00 (or \"\" for any time), got " +
                 in_quotes(window));
    }
  }
  s.read("max_raft_lag", out.max_raft_lag);
  s.read("disk_margin", out.disk_margin);
  read_schedule(s, out.schedule);
}

void read_alarms(Section s, AlarmsJob& out) {
  s.read("enabled", out.enabled);
  read_schedule(s, out.schedule);
}

void read_copy_to(Section& s, std::vector<std::filesystem::path>& out) {
  if (!s.read("copy_to", out)) return;
  const auto node = *s.value("copy_to");  // a copy: a range-for over *optional would dangle
  for (const auto& item : node) {
    if (item.Scalar().empty()) s.fail_at(item, "copy_to", "expected a directory, got ''");
  }
}

// S3's rules for a bucket name (the DNS-compatible ones every provider takes).
bool is_bucket_name(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  auto edge = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!edge(b.front()) || !edge(b.back())) return false;
  return std::all_of(b.begin(), b.end(), [&](char c) { return edge(c) || c == '.' || c == '-'; });
}

bool is_target_name(std::string_view n) {
  return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

void read_s3(Section s, S3Location& out) {
  if (s.read("endpoint", out.endpoint) && !out.endpoint.empty()) {
    if (util::has_userinfo(out.endpoint)) {
      s.fail("endpoint", "must not hold a user name or password (" +
                             in_quotes(util::without_userinfo(out.endpoint)) +
                             "); put the keys in credentials_file");
    } else if (!is_http_url(out.endpoint) || util::parse_http_url(out.endpoint)->path.size() > 1) {
      s.fail("endpoint", "expected a URL like https://s3.example.com:9000 (no path), got " +
                             in_quotes(out.endpoint));
    }
  }
  if (s.read("region", out.region) && out.region.empty()) s.fail("region", "must not be empty");
  if (!s.read("bucket", out.bucket)) {
    s.fail("bucket", "is required");
  } else if (!is_bucket_name(out.bucket)) {
    s.fail("bucket",
           "expected 3 to 63 lower-case letters, digits, '.' or '-', got " + in_quotes(out.bucket));
  }
  if (s.read("prefix", out.prefix)) {
    if (out.prefix.starts_with('/')) {
      s.fail("prefix", "must not start with '/' (keys are relative to the bucket), got " +
                           in_quotes(out.prefix));
    } else if (!out.prefix.empty() && !out.prefix.ends_with('/')) {
      out.prefix += '/';  // a "directory" of the bucket: "etcd" means "etcd/"
    }
  }
  if (const auto style = s.value("path_style")) {
    const std::string v = style->IsScalar() ? style->Scalar() : "";
    if (v == "auto") {
      out.path_style = PathStyle::automatic;
    } else if (v == "true") {
      out.path_style = PathStyle::path;
    } else if (v == "false") {
      out.path_style = PathStyle::virtual_host;
    } else {
      s.fail("path_style", "expected auto, true or false, got " + describe(*style));
    }
  }
  if (!s.read("credentials_file", out.credentials_file) || out.credentials_file.empty()) {
    s.fail("credentials_file",
           "is required: an AWS credentials file or KEY=VALUE file (mode 0600), or "
           "$CREDENTIALS_DIRECTORY/NAME with systemd's LoadCredential=");
  }
  s.remember("credentials_file");
  Section tls = s.child("tls", {"ca"});
  tls.read("ca", out.ca);
  tls.remember("ca");
}

void read_upload_target(Section s, UploadTarget& out) {
  if (!s.read("name", out.name)) {
    s.fail("name", "is required (it names the target in metrics, logs and `snapshot fetch`)");
  } else if (!is_target_name(out.name)) {
    s.fail("name",
           "expected letters, digits, '.', '-' or '_' (at most 64), got " + in_quotes(out.name));
  }
  if (s.has("s3")) {
    read_s3(s.child("s3", {"endpoint", "region", "bucket", "prefix", "path_style",
                           "credentials_file", "tls"}),
            out.s3);
  } else {
    s.fail("s3", "is required: the bucket to upload to");
  }
  if (s.read("keep_last", out.keep_last) && out.keep_last < 1) {
    s.fail("keep_last", "must be at least 1: the newest uploaded snapshot is always kept");
  }
  read_positive(s, "max_age", out.max_age);
  // S3 refuses parts under 5 MiB (but the last) and over 5 GiB.
  if (s.read("part_size", out.part_size) &&
      (out.part_size < Bytes::mib(5) || out.part_size > Bytes::gib(5))) {
    s.fail("part_size", "must be between 5MiB and 5GiB, got " + describe(*s.value("part_size")));
  }
  if (s.read("parts_in_flight", out.parts_in_flight) &&
      (out.parts_in_flight < 1 || out.parts_in_flight > 16)) {
    s.fail("parts_in_flight",
           "must be between 1 and 16, got " + describe(*s.value("parts_in_flight")));
  }
  read_positive(s, "timeout", out.timeout);
}

void read_upload(Section& snapshot, std::vector<UploadTarget>& out) {
  const auto node = snapshot.value("upload");
  if (!node || node->IsNull()) return;
  if (!node->IsSequence()) {
    snapshot.fail("upload",
                  "expected a list of targets ({name, s3: {...}}), got " + describe(*node));
    return;
  }
  const YAML::Node& list = *node;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    UploadTarget target;
    read_upload_target(snapshot.item(item, "upload[" + std::to_string(i) + "]",
                                     {"name", "s3", "keep_last", "max_age", "part_size",
                                      "parts_in_flight", "timeout"}),
                       target);
    for (const auto& earlier : out) {
      if (!target.name.empty() && earlier.name == target.name) {
        snapshot.fail_at(
            item, "upload",
            "target name " + in_quotes(target.name) + " is used twice; each target needs its own");
      }
    }
    out.push_back(std::move(target));
  }
}

void read_snapshot(Section s, SnapshotJob& out) {
  s.read("enabled", out.enabled);
  if (s.read("dir", out.dir) && out.dir.empty()) s.fail("dir", "must not be empty");
  read_enum(s, "compression", out.compression, kCompressions);
  // zstd's regular levels; the negative "fast" levels are not worth a knob.
  if (s.read("compression_level", out.compression_level) &&
      (out.compression_level < 1 || out.compression_level > 19)) {
    s.fail("compression_level",
           "must be between 1 and 19, got " + describe(*s.value("compression_level")));
  }
  if (s.read("keep_last", out.keep_last) && out.keep_last < 1) {
    s.fail("keep_last", "must be at least 1: the newest snapshot is always kept");
  }
  read_positive(s, "max_age", out.max_age);
  read_positive(s, "recheck_every", out.recheck_every);
  read_copy_to(s, out.copy_to);
  s.read("hook", out.hook);
  read_positive(s, "hook_timeout", out.hook_timeout);
  read_upload(s, out.upload);
  read_schedule(s, out.schedule);
}

void read_tuning(Section s, TuningJob& out) {
  s.read("enabled", out.enabled);
  read_positive(s, "heartbeat_interval", out.heartbeat_interval);
  read_positive(s, "election_timeout", out.election_timeout);
  // etcd itself refuses to start otherwise (embed.Config.Validate:
  // "--election-timeout should be at least as 5 times as --heartbeat-interval").
  if (out.heartbeat_interval && out.election_timeout &&
      *out.election_timeout < 5 * *out.heartbeat_interval) {
    s.fail("election_timeout", "must be at least 5 times heartbeat_interval (" +
                                   format_duration(5 * *out.heartbeat_interval) +
                                   "), as etcd requires");
  }
  if (s.read("etcd_unit", out.etcd_unit) && out.etcd_unit.empty()) {
    s.fail("etcd_unit", "must not be empty");
  }
  if (s.read("systemd_bus", out.systemd_bus) && !is_bus(out.systemd_bus)) {
    s.fail("systemd_bus",
           "expected system, session or a D-Bus address like unix:path=/run/x.sock, got " +
               in_quotes(out.systemd_bus));
  }
  s.read("env_files", out.env_files);
  s.read("kubeadm_manifest", out.kubeadm_manifest);
  s.read("probe", out.probe);
  s.read("probe_dir", out.probe_dir);
  if (s.read("probe_max_syncs", out.probe_max_syncs) &&
      (out.probe_max_syncs < 10 || out.probe_max_syncs > 100000)) {
    s.fail("probe_max_syncs",
           "must be between 10 and 100000, got " + describe(*s.value("probe_max_syncs")));
  }
  read_positive(s, "probe_max_time", out.probe_max_time);
  read_schedule(s, out.schedule);
}

void read_consistency(Section s, ConsistencyJob& out) {
  s.read("enabled", out.enabled);
  read_positive(s, "hash_timeout", out.hash_timeout);
  read_schedule(s, out.schedule);
}

void read_certificates(Section s, CertificatesJob& out) {
  s.read("enabled", out.enabled);
  read_positive(s, "warn_before", out.warn_before);
  read_schedule(s, out.schedule);
}

void read_drill(Section s, DrillJob& out) {
  s.read("enabled", out.enabled);
  s.read("etcd_bin_dir", out.etcd_bin_dir);
  read_positive(s, "restore_timeout", out.restore_timeout);
  read_positive(s, "start_timeout", out.start_timeout);
  s.read("disk_margin", out.disk_margin);
  read_schedule(s, out.schedule);
}

}  // namespace

Config read_config(const YAML::Node& root, ErrorSink& errors) {
  Config c;
  Section top(&root, "",
              {"etcd", "metrics", "log", "control", "coordination", "status", "compaction",
               "defrag", "alarms", "snapshot", "tuning", "consistency", "certificates", "drill"},
              errors);
  read_etcd(top.child("etcd", {"endpoints", "tls", "auth", "metrics_url", "data_dir",
                               "dial_timeout", "request_timeout", "quota"}),
            c.etcd);
  read_metrics(top.child("metrics", {"listen"}), c.metrics);
  read_log(top.child("log", {"level"}), c.log);
  read_control(top.child("control", {"bus"}), c.control);
  read_coordination(top.child("coordination", {"prefix", "lock_ttl"}), c.coordination);
  read_status(top.child("status", with_schedule({})), c.status);
  read_compaction(top.child("compaction", with_schedule({"enabled", "mode", "retention"})),
                  c.compaction);
  read_defrag(
      top.child("defrag", with_schedule({"enabled", "min_free", "min_free_ratio", "max_quota_usage",
                                         "window", "max_raft_lag", "disk_margin"})),
      c.defrag);
  read_alarms(top.child("alarms", with_schedule({"enabled"})), c.alarms);
  read_snapshot(
      top.child("snapshot", with_schedule({"enabled", "dir", "compression", "compression_level",
                                           "keep_last", "max_age", "recheck_every", "copy_to",
                                           "hook", "hook_timeout", "upload"})),
      c.snapshot);
  read_tuning(top.child("tuning",
                        with_schedule({"enabled", "heartbeat_interval", "election_timeout",
                                       "etcd_unit", "systemd_bus", "env_files", "kubeadm_manifest",
                                       "probe", "probe_dir", "probe_max_syncs", "probe_max_time"})),
              c.tuning);
  read_consistency(top.child("consistency", with_schedule({"enabled", "hash_timeout"})),
                   c.consistency);
  read_certificates(top.child("certificates", with_schedule({"enabled", "warn_before"})),
                    c.certificates);
  read_drill(top.child("drill", with_schedule({"enabled", "etcd_bin_dir", "restore_timeout",
                                               "start_timeout", "disk_margin"})),
             c.drill);
  return c;
}

}  // namespace etcd_warden::config::detail
