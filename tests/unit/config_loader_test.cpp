#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "etcd_warden/config/loader.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using namespace etcd_warden::config;
namespace fs = std::filesystem;

namespace {

LoadResult load(const std::string& yaml) {
  return load_string(yaml, "test.yaml");
}

std::vector<std::string> messages(const LoadResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.to_string());
  return out;
}

// The one error `yaml` must produce, as FILE:LINE:COL: message.
std::string only_error(const std::string& yaml) {
  const auto r = load(yaml);
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.config.has_value());
  for (const auto& m : messages(r)) UNSCOPED_INFO(m);
  REQUIRE(r.errors.size() == 1);
  return r.errors.front().to_string();
}

Config load_ok(const std::string& yaml, const std::string& name = "test.yaml") {
  const auto r = load_string(yaml, name);
  INFO(yaml);
  for (const auto& m : messages(r)) UNSCOPED_INFO(m);
  REQUIRE(r.ok());
  return *r.config;
}

fs::path source_dir() {
#ifdef ETCD_WARDEN_SOURCE_DIR
  return ETCD_WARDEN_SOURCE_DIR;
#else
  // unit_tests is not given the definition; this file is tests/unit/ in the tree.
  return fs::path(__FILE__).parent_path().parent_path().parent_path();
#endif
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh directory, removed when the test ends.
struct TempDir : etcd_warden::testing::TempDir {
  TempDir() : etcd_warden::testing::TempDir("config-test") {}
  fs::path write(const std::string& name, const std::string& text) const {
    etcd_warden::testing::write_file(path() / name, text);
    return path() / name;
  }
};

// Uncomments the commented-out example blocks ("  # tls:" and the lines
// indented below it) of the shipped config.
std::string uncomment_examples(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  std::string line;
  bool in_block = false;
  while (std::getline(in, line)) {
    if (line == "  # tls:" || line == "  # auth:" || line == "  # upload:") {
      in_block = true;
      line = "  " + line.substr(4);
    } else if (in_block && line.starts_with("  #   ")) {
      line = "  " + line.substr(4);
    } else {
      in_block = false;
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("an empty file is the default config", "[config][loader]") {
  const auto text = GENERATE(as<std::string>{}, "", "\n", "# only a comment\n", "---\n", "~\n");
  CAPTURE(text);
  CHECK(load_ok(text) == Config{});
}

TEST_CASE("empty sections keep their defaults", "[config][loader]") {
  CHECK(load_ok("etcd:\ndefrag: {}\nsnapshot:\n  # nothing yet\n") == Config{});
}

TEST_CASE("values are read into the typed config", "[config][loader]") {
  const auto c = load_ok(R"(
etcd:
  endpoints: ["https://10.0.0.1:2379", "https://[fd00::2]:2379"]
  tls: {ca: /pki/ca.crt, cert: /pki/c.crt, key: /pki/c.key, server_name: etcd.local}
  auth: {username: warden, password_file: /etc/etcd-warden/password}
  metrics_url: http://127.0.0.1:2381/metrics
  data_dir: /data/etcd
  dial_timeout: 2s
  request_timeout: 1m
  quota: 8GiB
metrics: {listen: "[::1]:0"}
log: {level: debug}
control: {bus: "unix:path=/run/x.sock"}
coordination: {prefix: /locks/, lock_ttl: 30s}
status: {every: 5s, jitter: 1s, retry_initial: 1s, retry_max: 1m}
compaction: {enabled: false, mode: periodic, retention: 2h, every: 1h, jitter: 0s}
defrag: {enabled: true, min_free: 1GB, min_free_ratio: 0.5, max_quota_usage: 1, window: "22:00-04:00", every: 30m, max_raft_lag: 50, disk_margin: 1GiB}
alarms: {enabled: false, every: 30s, jitter: 5s}
snapshot:
  enabled: true
  dir: /backup
  compression: none
  compression_level: 19
  keep_last: 1
  max_age: 7d
  copy_to: [/mnt/a, /mnt/b]
  hook: /usr/local/bin/upload --fast
  hook_timeout: 90s
tuning: {enabled: false, heartbeat_interval: 100ms, election_timeout: 1s}
)");
  CHECK(c.etcd.endpoints ==
        std::vector<std::string>{"https://10.0.0.1:2379", "https://[fd00::2]:2379"});
  REQUIRE(c.etcd.tls);
  CHECK(c.etcd.tls->ca == "/pki/ca.crt");
  CHECK(c.etcd.tls->cert == "/pki/c.crt");
  CHECK(c.etcd.tls->key == "/pki/c.key");
  CHECK(c.etcd.tls->server_name == "etcd.local");
  REQUIRE(c.etcd.auth);
  CHECK(c.etcd.auth->username == "warden");
  CHECK(c.etcd.auth->password_file == "/etc/etcd-warden/password");
  CHECK(c.etcd.metrics_url == "http://127.0.0.1:2381/metrics");
  CHECK(c.etcd.data_dir == "/data/etcd");
  CHECK(c.etcd.dial_timeout == 2s);
  CHECK(c.etcd.request_timeout == 1min);
  CHECK(c.etcd.quota == etcd_warden::Bytes::gib(8));
  CHECK(c.metrics.listen == "[::1]:0");
  CHECK(c.log.level == LogLevel::debug);
  CHECK(c.control.bus == "unix:path=/run/x.sock");
  CHECK(c.coordination == Coordination{"/locks/", 30s});
  CHECK(c.status.schedule == Schedule{5s, 1s, 1s, 1min});
  CHECK_FALSE(c.compaction.enabled);
  CHECK(c.compaction.mode == CompactionMode::periodic);
  CHECK(c.compaction.retention_period == 2h);
  CHECK(c.compaction.retention_revisions == CompactionJob{}.retention_revisions);
  CHECK(c.compaction.schedule == Schedule{1h, 0s});
  CHECK(c.defrag.min_free == etcd_warden::Bytes{1'000'000'000});
  CHECK(c.defrag.min_free_ratio == 0.5);
  CHECK(c.defrag.max_quota_usage == 1.0);
  CHECK(c.defrag.window == TimeWindow{22h, 4h});
  CHECK(c.defrag.schedule == Schedule{30min, 1min});
  CHECK(c.defrag.max_raft_lag == 50);
  CHECK(c.defrag.disk_margin == etcd_warden::Bytes::gib(1));
  CHECK_FALSE(c.alarms.enabled);
  CHECK(c.alarms.schedule == Schedule{30s, 5s});
  CHECK(c.snapshot.dir == "/backup");
  CHECK(c.snapshot.compression == Compression::none);
  CHECK(c.snapshot.compression_level == 19);
  CHECK(c.snapshot.keep_last == 1);
  CHECK(c.snapshot.max_age == 7 * 24h);
  CHECK(c.snapshot.copy_to == std::vector<fs::path>{"/mnt/a", "/mnt/b"});
  CHECK(c.snapshot.hook == "/usr/local/bin/upload --fast");
  CHECK(c.snapshot.hook_timeout == 90s);
  CHECK_FALSE(c.tuning.enabled);
  CHECK(c.tuning.heartbeat_interval == 100ms);
  CHECK(c.tuning.election_timeout == 1s);
}

TEST_CASE("an unset jitter is the job's default, at most a tenth of every", "[config][loader]") {
  const auto loaded = load_string(
      "defrag: {every: 2s}\n"
      "snapshot: {every: 1h}\n"
      "compaction: {every: 5m}\n"
      "tuning: {every: 1h}\n"
      "alarms: {every: 10s, jitter: 3s}\n",
      "test.yaml");
  REQUIRE(loaded.ok());
  const Config& c = *loaded.config;
  CHECK(c.defrag.schedule.jitter == 200ms);    // 1m by default, but every is 2s
  CHECK(c.snapshot.schedule.jitter == 6min);   // 10m by default
  CHECK(c.compaction.schedule.jitter == 30s);  // the default, exactly a tenth
  CHECK(c.tuning.schedule.jitter == 1min);     // the default, below a tenth
  CHECK(c.alarms.schedule.jitter == 3s);       // given: kept
}

TEST_CASE("compaction retention is a count in revision mode", "[config][loader]") {
  // mode may come after retention: it is read first either way.
  const auto c = load_ok("compaction:\n  retention: 500\n  mode: revision\n");
  CHECK(c.compaction.retention_revisions == 500);
}

TEST_CASE("https endpoints without a tls section use the system roots", "[config][loader]") {
  const auto c = load_ok("etcd: {endpoints: [\"https://127.0.0.1:2379\"]}\n");
  CHECK_FALSE(c.etcd.tls.has_value());
  const auto with_empty = load_ok("etcd: {endpoints: [\"https://127.0.0.1:2379\"], tls: {}}\n");
  CHECK(with_empty.etcd.tls == Tls{});
  CHECK_FALSE(load_ok("etcd: {tls: ~, auth: ~}\n").etcd.tls.has_value());
}

TEST_CASE("a null string value reads as empty", "[config][loader]") {
  CHECK(load_ok("metrics:\n  listen:\n").metrics.listen.empty());
}

TEST_CASE("each kind of error names its line and column", "[config][loader]") {
  struct Case {
    std::string yaml;
    std::string error;
  };
  const auto c = GENERATE(values<Case>({
      // Syntax and shape.
      {"etcd:\n  endpoints: [\"http://a:1\",\n",
       "test.yaml:3:1: invalid YAML: end of sequence flow not found"},
      {"a: b: c\n", "test.yaml:1:5: invalid YAML: illegal map value"},
      {"- etcd\n", "test.yaml:1:1: the top level: expected a map of settings, got a list"},
      {"just text\n",
       "test.yaml:1:1: the top level: expected a map of settings, got a single value (is this the "
       "warden's config file?)"},
      {"defrag: 5\n", "test.yaml:1:9: defrag: expected a map of settings, got '5'"},
      {"log: {level: info}\n---\nb: 2\n",
       "test.yaml:3:1: expected one YAML document, found another one here"},
      {"log: {level: info}\nlog: {level: warn}\n",
       "test.yaml:2:1: duplicate key 'log' (first set on line 1)"},
      {"? [a]\n: 1\n", "test.yaml:1:3: the top level: expected a key name, got a list"},
      // Unknown keys.
      {"defrag:\n  min_fre: 1GiB\n",
       "test.yaml:2:3: unknown key 'defrag.min_fre' (did you mean 'min_free'?)"},
      {"defrag:\n  mni_free: 1GiB\n",
       "test.yaml:2:3: unknown key 'defrag.mni_free' (did you mean 'min_free'?)"},
      {"defrg: {}\n", "test.yaml:1:1: unknown key 'defrg' (did you mean 'defrag'?)"},
      {"log:\n  color: true\n", "test.yaml:2:3: unknown key 'log.color' (known keys: level)"},
      {"status:\n  enabled: false\n",
       "test.yaml:2:3: unknown key 'status.enabled' (known keys: every, jitter, retry_initial, "
       "retry_max)"},
      {"etcd:\n  endpoints: [\"https://a:1\"]\n  tls:\n    cafile: /x\n",
       "test.yaml:4:5: unknown key 'etcd.tls.cafile' (known keys: ca, cert, key, server_name)"},
      {"etcd:\n  endpoints: [\"https://a:1\"]\n  tls:\n    cax: /x\n",
       "test.yaml:4:5: unknown key 'etcd.tls.cax' (did you mean 'ca'?)"},
      // Wrong types.
      {"compaction:\n  every: abc\n",
       "test.yaml:2:10: compaction.every: expected a duration like 30s, got 'abc'"},
      {"compaction:\n  every: 30\n",
       "test.yaml:2:10: compaction.every: expected a duration like 30s, got '30' (add a unit: ms, "
       "s, m, h or d)"},
      {"compaction:\n  every: -5m\n",
       "test.yaml:2:10: compaction.every: expected a duration like 30s, got '-5m'"},
      {"compaction:\n  every:\n  jitter: 1s\n",
       "test.yaml:2:3: compaction.every: expected a duration like 30s, got nothing"},
      {"compaction:\n  every: [5m]\n",
       "test.yaml:2:10: compaction.every: expected a duration like 30s, got a list"},
      {"defrag:\n  enabled: yes\n",
       "test.yaml:2:12: defrag.enabled: expected true or false, got 'yes'"},
      {"defrag:\n  min_free: lots\n",
       "test.yaml:2:13: defrag.min_free: expected a size like 256MiB, got 'lots'"},
      {"defrag:\n  min_free: -1MiB\n",
       "test.yaml:2:13: defrag.min_free: expected a size like 256MiB, got '-1MiB'"},
      {"defrag:\n  disk_margin: lots\n",
       "test.yaml:2:16: defrag.disk_margin: expected a size like 256MiB, got 'lots'"},
      {"alarms:\n  enable: false\n",
       "test.yaml:2:3: unknown key 'alarms.enable' (did you mean 'enabled'?)"},
      {"etcd:\n  quota: 99999PiB\n",
       "test.yaml:2:10: etcd.quota: expected a size like 256MiB, got '99999PiB'"},
      {"defrag:\n  min_free_ratio: half\n",
       "test.yaml:2:19: defrag.min_free_ratio: expected a number, got 'half'"},
      {"snapshot:\n  keep_last: 1.5\n",
       "test.yaml:2:14: snapshot.keep_last: expected a whole number, got '1.5'"},
      {"snapshot:\n  keep_last: -3\n",
       "test.yaml:2:14: snapshot.keep_last: expected a whole number, got '-3'"},
      {"snapshot:\n  keep_last: 99999999999\n",
       "test.yaml:2:14: snapshot.keep_last: expected a whole number, got '99999999999'"},
      // Credentials in a URL would reach logs, STATUS and DNS; never echoed.
      {"etcd:\n  endpoints: [\"https://root:PASS@127.0.0.1:2379\"]\n",
       "test.yaml:2:15: etcd.endpoints: must not hold a user name or password "
       "('https://***@127.0.0.1:2379'); set etcd.auth.username, and the password in the file "
       "etcd.auth.password_file"},
      {"etcd:\n  endpoints: [\"https://root:pa/ss@127.0.0.1:2379\"]\n",
       "test.yaml:2:15: etcd.endpoints: must not hold a user name or password "
       "('https://***@127.0.0.1:2379'); set etcd.auth.username, and the password in the file "
       "etcd.auth.password_file"},
      {"etcd:\n  metrics_url: http://u:PASS@127.0.0.1:2381/metrics\n",
       "test.yaml:2:16: etcd.metrics_url: must not hold a user name or password "
       "('http://***@127.0.0.1:2381/metrics')"},
      {"etcd:\n  endpoints: http://127.0.0.1:2379\n",
       "test.yaml:2:14: etcd.endpoints: expected a list of strings, got 'http://127.0.0.1:2379'"},
      {"etcd:\n  endpoints:\n    - http://a:1\n    - {url: x}\n",
       "test.yaml:4:7: etcd.endpoints: expected a list of strings, got a map in the list"},
      {"snapshot:\n  copy_to: /mnt\n",
       "test.yaml:2:12: snapshot.copy_to: expected a list of strings, got '/mnt'"},
      {"snapshot:\n  hook: [a, b]\n",
       "test.yaml:2:9: snapshot.hook: expected a string, got a list"},
      {"etcd:\n  data_dir: {a: b}\n", "test.yaml:2:13: etcd.data_dir: expected a path, got a map"},
      {"etcd:\n  tls: yes\n", "test.yaml:2:8: etcd.tls: expected a map of settings, got 'yes'"},
      // Out of range.
      {"defrag:\n  min_free_ratio: 1.5\n",
       "test.yaml:2:19: defrag.min_free_ratio: must be between 0 and 1, got '1.5'"},
      {"defrag:\n  max_quota_usage: -0.1\n",
       "test.yaml:2:20: defrag.max_quota_usage: must be between 0 and 1, got '-0.1'"},
      {"defrag:\n  max_quota_usage: nan\n",
       "test.yaml:2:20: defrag.max_quota_usage: expected a number, got 'nan'"},
      {"snapshot:\n  compression_level: 0\n",
       "test.yaml:2:22: snapshot.compression_level: must be between 1 and 19, got '0'"},
      {"snapshot:\n  compression_level: 20\n",
       "test.yaml:2:22: snapshot.compression_level: must be between 1 and 19, got '20'"},
      {"snapshot:\n  keep_last: 0\n",
       "test.yaml:2:14: snapshot.keep_last: must be at least 1: the newest snapshot is always "
       "kept"},
      {"snapshot:\n  dir: \"\"\n", "test.yaml:2:8: snapshot.dir: must not be empty"},
      {"snapshot:\n  copy_to: [/a, \"\"]\n",
       "test.yaml:2:17: snapshot.copy_to: expected a directory, got ''"},
      {"snapshot:\n  max_age: 0s\n", "test.yaml:2:12: snapshot.max_age: must be longer than 0s"},
      {"defrag:\n  every: 0s\n", "test.yaml:2:10: defrag.every: must be longer than 0s"},
      {"defrag:\n  every: 10m\n  jitter: 10m\n",
       "test.yaml:3:11: defrag.jitter: must be shorter than every (10m)"},
      {"defrag:\n  retry_initial: 5m\n  retry_max: 1m\n",
       "test.yaml:2:18: defrag.retry_initial: must not be longer than retry_max (1m)"},
      {"status:\n  retry_max: 0ms\n", "test.yaml:2:14: status.retry_max: must be longer than 0s"},
      {"etcd:\n  endpoints: []\n",
       "test.yaml:2:14: etcd.endpoints: needs at least one endpoint, the local member first"},
      {"etcd:\n  endpoints:\n    - http://127.0.0.1:2379\n    - 127.0.0.1:2379\n",
       "test.yaml:4:7: etcd.endpoints: expected http(s)://host:port like https://127.0.0.1:2379, "
       "got '127.0.0.1:2379'"},
      {"etcd:\n  endpoints: [\"unix:///run/etcd.sock\"]\n",
       "test.yaml:2:15: etcd.endpoints: expected http(s)://host:port like https://127.0.0.1:2379, "
       "got 'unix:///run/etcd.sock'"},
      {"etcd:\n  endpoints: [\"http://host\"]\n",
       "test.yaml:2:15: etcd.endpoints: expected http(s)://host:port like https://127.0.0.1:2379, "
       "got 'http://host'"},
      {"etcd:\n  metrics_url: 127.0.0.1:2381/metrics\n",
       "test.yaml:2:16: etcd.metrics_url: expected a URL like http://127.0.0.1:2381/metrics, got "
       "'127.0.0.1:2381/metrics'"},
      {"etcd:\n  dial_timeout: 0s\n", "test.yaml:2:17: etcd.dial_timeout: must be longer than 0s"},
      {"etcd:\n  quota: 0\n",
       "test.yaml:2:10: etcd.quota: must be more than 0B (leave it out to use the quota etcd "
       "reports)"},
      {"etcd:\n  data_dir:\n", "test.yaml:2:3: etcd.data_dir: must not be empty"},
      {"metrics:\n  listen: 9379\n",
       "test.yaml:2:11: metrics.listen: expected host:port like 127.0.0.1:9379 (or \"\" for no "
       "endpoint), got '9379'"},
      {"metrics:\n  listen: \"::1:9379\"\n",
       "test.yaml:2:11: metrics.listen: expected host:port like 127.0.0.1:9379 (or \"\" for no "
       "endpoint), got '::1:9379'"},
      {"metrics:\n  listen: localhost:99999\n",
       "test.yaml:2:11: metrics.listen: expected host:port like 127.0.0.1:9379 (or \"\" for no "
       "endpoint), got 'localhost:99999'"},
      {"etcd:\n  endpoints: [\"https://a:1\"]\n  tls:\n    cert: c.crt\n",
       "test.yaml:4:11: etcd.tls.cert: is set without etcd.tls.key; a client certificate needs its "
       "key"},
      {"etcd:\n  endpoints: [\"https://a:1\"]\n  tls:\n    key: c.key\n",
       "test.yaml:4:10: etcd.tls.key: is set without etcd.tls.cert; a client key needs its "
       "certificate"},
      {"etcd:\n  tls: {ca: /ca.crt}\n",
       "test.yaml:2:8: etcd.tls: is set but no endpoint uses https://"},
      {"etcd:\n  auth:\n    username: root\n",
       "test.yaml:3:5: etcd.auth.password_file: is required when etcd.auth is set (the password is "
       "never in this file)"},
      {"log:\n  level: verbose\n",
       "test.yaml:2:10: log.level: expected one of trace, debug, info, warn, error, got 'verbose'"},
      {"compaction:\n  mode: auto\n",
       "test.yaml:2:9: compaction.mode: expected one of revision, periodic, got 'auto'"},
      {"snapshot:\n  compression: gzip\n",
       "test.yaml:2:16: snapshot.compression: expected one of none, zstd, got 'gzip'"},
      {"compaction:\n  retention: 1h\n",
       "test.yaml:2:14: compaction.retention: expected a number of revisions (mode revision), got "
       "'1h'; set mode: periodic to keep a time span"},
      {"compaction:\n  retention: 0\n",
       "test.yaml:2:14: compaction.retention: must be at least 1 revision"},
      {"compaction:\n  retention: 10000\n  mode: periodic\n",
       "test.yaml:2:14: compaction.retention: expected a duration like 1h (mode periodic), got "
       "'10000'"},
      {"defrag:\n  window: 25:00-01:00\n",
       "test.yaml:2:11: defrag.window: expected HH:MM-HH:MM in local time like 01:00-05:00 (or "
       "\"\" for any time), got '25:00-01:00'"},
      {"defrag:\n  window: 1:00-5:00\n",
       "test.yaml:2:11: defrag.window: expected HH:MM-HH:MM in local time like 01:00-05:00 (or "
       "\"\" for any time), got '1:00-5:00'"},
      {"defrag:\n  window: 01:00-01:00\n",
       "test.yaml:2:11: defrag.window: expected HH:MM-HH:MM in local time like 01:00-05:00 (or "
       "\"\" for any time), got '01:00-01:00'"},
      {"control:\n  bus: user\n",
       "test.yaml:2:8: control.bus: expected system, session or a D-Bus address like "
       "unix:path=/run/x.sock, got 'user'"},
      {"coordination:\n  lock_ttl: 500ms\n",
       "test.yaml:2:13: coordination.lock_ttl: must be at least 1s (etcd leases count whole "
       "seconds)"},
      {"coordination:\n  prefix: \"\"\n", "test.yaml:2:11: coordination.prefix: must not be empty"},
      {"tuning:\n  heartbeat_interval: 100ms\n  election_timeout: 400ms\n",
       "test.yaml:3:21: tuning.election_timeout: must be at least 5 times heartbeat_interval "
       "(500ms), as etcd requires"},
      {"tuning:\n  probe_max_syncs: 5\n",
       "test.yaml:2:20: tuning.probe_max_syncs: must be between 10 and 100000, got '5'"},
      {"tuning:\n  systemd_bus: dbus\n",
       "test.yaml:2:16: tuning.systemd_bus: expected system, session or a D-Bus address like "
       "unix:path=/run/x.sock, got 'dbus'"},
      {"tuning:\n  etcd_unit: \"\"\n", "test.yaml:2:14: tuning.etcd_unit: must not be empty"},
      {"tuning:\n  probe_max_time: 0s\n",
       "test.yaml:2:19: tuning.probe_max_time: must be longer than 0s"},
  }));
  CAPTURE(c.yaml);
  CHECK(only_error(c.yaml) == c.error);
}

TEST_CASE("auth without a user names the section", "[config][loader]") {
  const auto r = load("etcd:\n  auth: {password_file: /pw}\n");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() ==
        "test.yaml:2:9: etcd.auth.username: is required when etcd.auth is set");
}

TEST_CASE("all errors are reported together, in file order", "[config][loader]") {
  const auto r = load(R"(tuning:
  enabled: maybe
etcd:
  endpoints: []
  dial_timout: 5s
defrag:
  min_free_ratio: 2
  window: noon
log: {level: loud}
)");
  CHECK_FALSE(r.ok());
  CHECK(messages(r) ==
        std::vector<std::string>{
            "test.yaml:2:12: tuning.enabled: expected true or false, got 'maybe'",
            "test.yaml:4:14: etcd.endpoints: needs at least one endpoint, the local member first",
            "test.yaml:5:3: unknown key 'etcd.dial_timout' (did you mean 'dial_timeout'?)",
            "test.yaml:7:19: defrag.min_free_ratio: must be between 0 and 1, got '2'",
            "test.yaml:8:11: defrag.window: expected HH:MM-HH:MM in local time like "
            "01:00-05:00 (or \"\" for any time), got 'noon'",
            "test.yaml:9:14: log.level: expected one of trace, debug, info, warn, error, "
            "got 'loud'",
        });
}

TEST_CASE("an error without a position prints only the file", "[config][loader]") {
  CHECK(ConfigError{"/etc/x.yaml", 0, 0, "boom"}.to_string() == "/etc/x.yaml: boom");
  CHECK(ConfigError{"/etc/x.yaml", 3, 7, "boom"}.to_string() == "/etc/x.yaml:3:7: boom");
}

TEST_CASE("render loads back to an equal config", "[config][loader]") {
  SECTION("defaults") {
    const Config c;
    CHECK(load_ok(render(c)) == c);
  }
  SECTION("every value changed") {
    Config c;
    c.etcd.endpoints = {"https://10.0.0.1:2379", "https://10.0.0.2:2379"};
    c.etcd.tls = Tls{"/pki/ca.crt", "/pki/c.crt", "/pki/c.key", "etcd"};
    c.etcd.auth = Auth{"warden", "/etc/etcd-warden/password"};
    c.etcd.metrics_url = "http://127.0.0.1:2381/metrics";
    c.etcd.data_dir = "/srv/etcd data";
    c.etcd.dial_timeout = 1500ms;
    c.etcd.request_timeout = 90s;
    c.etcd.quota = etcd_warden::Bytes{8'000'000'000};
    c.metrics.listen = "";
    c.log.level = LogLevel::trace;
    c.control.bus = "session";
    c.coordination = Coordination{"~", 1min};  // a string that looks like null
    c.status.schedule = Schedule{3s, 1s, 2s, 10s};
    c.compaction.enabled = false;
    c.compaction.retention_revisions = 123456789;
    c.compaction.schedule = Schedule{1h, 0ms, std::nullopt, 2h};
    c.defrag.min_free = etcd_warden::Bytes{1500};
    c.defrag.min_free_ratio = 0.1;
    c.defrag.max_quota_usage = 0.95;
    c.defrag.window = TimeWindow{23h + 30min, 2h + 15min};
    c.defrag.max_raft_lag = 7;
    c.defrag.disk_margin = etcd_warden::Bytes{123456789};
    c.alarms.enabled = false;
    c.alarms.schedule = Schedule{1min, 10s, 5s, 5min};
    c.snapshot.enabled = false;
    c.snapshot.dir = "/backup/\"quoted\"";
    c.snapshot.compression = Compression::none;
    c.snapshot.compression_level = 7;
    c.snapshot.keep_last = 100;
    c.snapshot.max_age = 30 * 24h;
    c.snapshot.copy_to = {"/mnt/a", "/mnt/b: c"};
    c.snapshot.hook = "true";  // a string that looks like a boolean
    c.snapshot.hook_timeout = 10s;
    c.tuning.heartbeat_interval = 250ms;
    c.tuning.election_timeout = 2500ms;
    c.drill.enabled = false;
    c.drill.etcd_bin_dir = "/opt/etcd 3.5/bin";
    c.drill.restore_timeout = 3min;
    c.drill.start_timeout = 45s;
    c.drill.disk_margin = etcd_warden::Bytes::mib(10);
    c.drill.schedule = Schedule{12h, 30min, std::nullopt, std::nullopt};
    const auto text = render(c);
    INFO(text);
    CHECK(load_ok(text) == c);
  }
  SECTION("periodic compaction") {
    Config c;
    c.compaction.mode = CompactionMode::periodic;
    c.compaction.retention_period = 90min;
    const auto text = render(c);
    CHECK_THAT(text, Catch::Contains("retention: 1h30m"));
    CHECK(load_ok(text) == c);
  }
}

TEST_CASE("render shows every key and no secret", "[config][loader]") {
  Config c;
  c.etcd.auth = Auth{"warden", "/etc/etcd-warden/password"};
  const auto text = render(c);
  for (const auto* key : {"endpoints:",
                          "tls: ~",
                          "auth:",
                          "username: \"warden\"",
                          "password_file: \"/etc/etcd-warden/password\"",
                          "quota: ~",
                          "listen:",
                          "level: info",
                          "bus:",
                          "lock_ttl: 15s",
                          "retry_initial: ~",
                          "retention: 10000",
                          "min_free: 256MiB",
                          "min_free_ratio: 0.3",
                          "window: \"\"",
                          "max_raft_lag: 1000",
                          "disk_margin: 256MiB",
                          "alarms:",
                          "compression: zstd",
                          "copy_to: []",
                          "max_age: ~",
                          "heartbeat_interval: ~",
                          "every: 15m",
                          "drill:",
                          "etcd_bin_dir: \"\"",
                          "start_timeout: 2m",
                          "every: 1d"}) {
    CHECK_THAT(text, Catch::Contains(key));
  }
  CHECK_THAT(text, !Catch::Contains("password:"));
}

TEST_CASE("relative paths are resolved against the file's directory", "[config][loader]") {
  const std::string yaml = R"(
etcd:
  endpoints: ["https://127.0.0.1:2379"]
  tls: {ca: pki/ca.crt, cert: ./pki/../pki/c.crt, key: /abs/c.key}
  auth: {username: u, password_file: password}
  data_dir: data
snapshot:
  dir: snaps
  copy_to: [../copies, /mnt/x]
drill:
  etcd_bin_dir: etcd-3.5/bin
)";
  const auto c = load_ok(yaml, "/etc/etcd-warden/config.yaml");
  CHECK(c.etcd.tls->ca == "/etc/etcd-warden/pki/ca.crt");
  CHECK(c.etcd.tls->cert == "/etc/etcd-warden/pki/c.crt");
  CHECK(c.etcd.tls->key == "/abs/c.key");
  CHECK(c.etcd.tls->server_name.empty());
  CHECK(c.etcd.auth->password_file == "/etc/etcd-warden/password");
  CHECK(c.etcd.data_dir == "/etc/etcd-warden/data");
  CHECK(c.snapshot.dir == "/etc/etcd-warden/snaps");
  CHECK(c.snapshot.copy_to == std::vector<fs::path>{"/etc/copies", "/mnt/x"});
  CHECK(c.drill.etcd_bin_dir == "/etc/etcd-warden/etcd-3.5/bin");

  // A name without a directory gives no base: the paths stay as written.
  const auto bare = load_ok(yaml, "config.yaml");
  CHECK(bare.etcd.tls->ca == "pki/ca.crt");
  CHECK(bare.snapshot.dir == "snaps");
}

TEST_CASE("load_file reads a file and resolves paths next to it", "[config][loader]") {
  TempDir dir;
  const auto file = dir.write("config.yaml", "snapshot: {dir: snaps}\nlog: {level: warn}\n");
  const auto r = load_file(file);
  REQUIRE(r.ok());
  CHECK(r.config->log.level == LogLevel::warn);
  CHECK(r.config->snapshot.dir == dir.path() / "snaps");
}

TEST_CASE("load_file names the file in its errors", "[config][loader]") {
  TempDir dir;
  const auto file = dir.write("bad.yaml", "\n\ndefrag:\n  every: soon\n");
  const auto r = load_file(file);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() ==
        file.string() + ":4:10: defrag.every: expected a duration like 30s, got 'soon'");
}

TEST_CASE("a missing or unreadable file is one error with the reason", "[config][loader]") {
  TempDir dir;
  SECTION("missing") {
    const auto r = load_file(dir.path() / "nope.yaml");
    CHECK_FALSE(r.ok());
    CHECK(messages(r) ==
          std::vector<std::string>{(dir.path() / "nope.yaml").string() +
                                   ": cannot read the config file: No such file or directory"});
  }
  SECTION("a directory") {
    const auto r = load_file(dir.path());
    CHECK(messages(r) == std::vector<std::string>{
                             dir.path().string() +
                             ": cannot read the config file: a directory, not a regular file"});
  }
}

TEST_CASE("the shipped config/config.yaml loads and holds the defaults", "[config][loader]") {
  const auto path = source_dir() / "config" / "config.yaml";
  const auto r = load_file(path);
  for (const auto& m : messages(r)) UNSCOPED_INFO(m);
  REQUIRE(r.ok());
  // Every value in the example is the default, so it can be shipped as is.
  CHECK(*r.config == Config{});
}

TEST_CASE("the shipped config's commented-out examples are valid", "[config][loader]") {
  auto text = uncomment_examples(read_text(source_dir() / "config" / "config.yaml"));
  const std::string http = "[\"http://127.0.0.1:2379\"]";
  const auto at = text.find(http);
  REQUIRE(at != std::string::npos);
  text.replace(at, http.size(), "[\"https://127.0.0.1:2379\"]");
  const auto c = load_ok(text, "/etc/etcd-warden/config.yaml");
  REQUIRE(c.etcd.tls);
  CHECK(c.etcd.tls->ca == "/etc/kubernetes/pki/etcd/ca.crt");
  CHECK(c.etcd.tls->cert == "/etc/kubernetes/pki/etcd/healthcheck-client.crt");
  CHECK(c.etcd.tls->key == "/etc/kubernetes/pki/etcd/healthcheck-client.key");
  REQUIRE(c.etcd.auth);
  CHECK(c.etcd.auth->password_file == "/etc/etcd-warden/password");
  REQUIRE(c.snapshot.upload.size() == 1);
  CHECK(c.snapshot.upload[0].name == "offsite");
  CHECK(c.snapshot.upload[0].s3.bucket == "etcd-backups");
  CHECK(c.snapshot.upload[0].s3.credentials_file == "/etc/etcd-warden/s3.credentials");
  CHECK(c.snapshot.upload[0].part_size.value == 16u << 20);
}

TEST_CASE("files the config names are read at check time, errors at their key",
          "[config][loader]") {
  TempDir dir;
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  fs::create_directory(dir / "adir");
  const auto config_with = [&](const std::string& password_file) {
    return dir.write(
        "c.yaml",
        "etcd:\n  endpoints: [\"http://127.0.0.1:2379\"]\n  auth:\n    username: root\n"
        "    password_file: " +
            password_file + "\n");
  };
  // The kept inputs of the hostile-input probe: a FIFO hung check-config,
  // /dev/zero aborted it, a directory was accepted.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {(dir / "fifo").string(), "a FIFO, not a regular file"},
      {"/dev/zero", "a character device, not a regular file"},
      {"/dev/urandom", "a character device, not a regular file"},
      {(dir / "adir").string(), "a directory, not a regular file"},
      {(dir / "missing").string(), "No such file or directory"},
  };
  for (const auto& [file, reason] : cases) {
    const auto path = config_with(file);
    const auto r = load_file(path, ReferencedFiles::checked);
    INFO(file);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].to_string() ==
          path.string() + ":5:20: etcd.auth.password_file: cannot read " + file + ": " + reason);
    // `ctl` loads the same file without reading what it names.
    CHECK(load_file(path).ok());
  }

  etcd_warden::testing::write_file(dir / "big.pem", std::string(kMaxReferencedFileBytes + 1, 'x'));
  const auto big = dir.write(
      "tls.yaml", "etcd:\n  endpoints: [\"https://127.0.0.1:2379\"]\n  tls:\n    ca: big.pem\n");
  const auto r = load_file(big, ReferencedFiles::checked);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() == big.string() + ":4:9: etcd.tls.ca: cannot read " +
                                       (dir / "big.pem").string() +
                                       ": larger than the reader's limit");

  etcd_warden::testing::write_file(dir / "password", "secret\n");
  CHECK(load_file(config_with("password"), ReferencedFiles::checked).ok());
}

TEST_CASE("a flood of errors is cut at the first hundred, with a count of the rest",
          "[config][loader]") {
  std::string yaml;
  for (int i = 0; i < 60000; ++i) yaml += "k" + std::to_string(i) + ": 1\n";
  const auto r = load(yaml);
  REQUIRE(r.errors.size() == 101);
  CHECK(r.errors[0].to_string().starts_with("test.yaml:1:1: unknown key 'k0'"));
  CHECK(r.errors.back().to_string() ==
        "test.yaml: ... and 59900 more errors (only the first 100 are shown)");
}

// Found by tests/fuzz/config_loader_fuzz.cpp: a value or a yaml-cpp message
// with a newline or a control byte made an error of two lines.
TEST_CASE("every error is one line, whatever bytes the file holds", "[config][loader]") {
  const auto errors_of = [](std::string_view yaml) {
    std::vector<std::string> out;
    for (const auto& e : load(std::string(yaml)).errors) out.push_back(e.to_string());
    return out;
  };
  const auto level = errors_of("log: {level: \"de\\nbug\\u0007\"}\n");
  REQUIRE(level.size() == 1);
  CHECK(level[0] ==
        "test.yaml:1:14: log.level: expected one of trace, debug, info, warn, error, got "
        "'de\\nbug\\x07'");
  const std::string fuzzed("status: {everydat\x9a\x96: 1s, \0\nretry_max: 1m}\n", 42);
  for (const auto& e : errors_of(fuzzed)) {
    CHECK(e.find('\n') == std::string::npos);
    CHECK(e.find('\0') == std::string::npos);
  }
  CHECK_FALSE(errors_of(fuzzed).empty());
}

// Found by tests/fuzz/config_loader_fuzz.cpp: yaml-cpp's parser yields
// documents without end on this file, and YAML::LoadAll ran out of memory.
TEST_CASE("a file the YAML parser reads as endless documents is refused at once",
          "[config][loader]") {
  const std::string yaml = ",tcd; {endpoints: [http:/" + std::string(12, '\xff') +
                           "/13metrics_Burl:7.0.0.1:2379]}\nme8ricsl: debug}\n";
  const auto r = load(yaml);
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() ==
        "test.yaml:1:1: invalid YAML: text the parser cannot place in the document");
}

// Found by tests/fuzz/config_loader_fuzz.cpp: a path with bytes that are not
// UTF-8 loaded, and check-config printed it back as different text.
TEST_CASE("strings and paths must be UTF-8, at their position", "[config][loader]") {
  const auto r = load("snapshot:\n  dir: /var/lib/\xff\xfe\n  copy_to: [/ok, \"/b\xc3\"]\n");
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].to_string().starts_with(
      "test.yaml:2:8: snapshot.dir: expected UTF-8 text, got '/var/lib/\\xff\\xfe'"));
  CHECK(r.errors[1].to_string().starts_with("test.yaml:3:18: "));
}

// Found by tests/probe/hostile_probe.py: a password in an endpoint written as
// a single value, or without a scheme, and a password file given as the
// config, were echoed by the error.
TEST_CASE("no error repeats a password, however the value was mistyped", "[config][loader]") {
  const std::string secret = "PROBE-SECRET-1";
  for (const std::string& yaml :
       {"etcd:\n  endpoints: https://root:" + secret + "@127.0.0.1:2379\n",
        "etcd:\n  endpoints: [\"root:" + secret + "@127.0.0.1:2379\"]\n",
        "etcd:\n  endpoints: [\"htps//root:" + secret + "@127.0.0.1:2379\"]\n", secret + "\n",
        "log:\n  level: \"root:" + secret + "@host\"\n"}) {
    INFO(yaml);
    const auto r = load(yaml);
    REQUIRE_FALSE(r.errors.empty());
    for (const auto& m : messages(r)) {
      INFO(m);
      CHECK(m.find(secret) == std::string::npos);
      CHECK(m.find("test.yaml:") == 0);
    }
  }
  CHECK(only_error("etcd:\n  endpoints: [\"root:" + secret + "@127.0.0.1:2379\"]\n") ==
        "test.yaml:2:15: etcd.endpoints: expected http(s)://host:port like "
        "https://127.0.0.1:2379, got '***@127.0.0.1:2379'");
}
