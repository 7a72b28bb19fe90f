// The restore drill against real etcd: the newest verified snapshot is
// re-verified, restored into <snapshot.dir>/.drill/, started as a throwaway
// single member on loopback ports and compared with the live members
// (revision, keys, HashKV); then the throwaway etcd is stopped and the
// scratch directory removed. Failures (a rotted snapshot, an etcd that never
// answers, an etcd too old, no room for the restore) say why and leave
// nothing behind; a warden killed mid-drill leaves a scratch directory that
// the next start removes, drill enabled or not.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "etcd_warden/snapshot/naming.hpp"
#include "support/etcd_cluster.hpp"
#include "support/etcd_data.hpp"
#include "support/etcd_tools.hpp"
#include "support/loop_filesystem.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kSnapshotFile = R"(etcd-.*\.db(\.zst)?)";

std::string quoted(const fs::path& p) {
  return "\"" + p.string() + "\"";
}

// The drill's settings as the tests use them: the etcd under test, a 1 MiB
// margin, and whatever `extra` adds (indented by two spaces).
std::string drill_settings(const fs::path& bin_dir = etcd_bin_dir(),
                           const std::string& extra = "") {
  return "  enabled: true\n  etcd_bin_dir: " + quoted(bin_dir) + "\n  disk_margin: 1MiB\n" + extra;
}

// A warden beside `member` with its snapshots in `snapshots` and the drill
// configured by `drill` (the lines under `drill:`). The jobs that would act
// on the cluster meanwhile are off; a daemon's first snapshot is a uniform
// draw up to 23 h away, so the test's own `job snapshot` is the one drilled.
// No metrics section: MetricsWarden adds one, and `job` serves none.
std::string drill_yaml(const EtcdCluster& cluster, std::size_t member, const fs::path& snapshots,
                       const std::string& drill, const std::string& snapshot_extra = "") {
  return etcd_config_yaml(cluster, member) + "snapshot:\n  dir: " + quoted(snapshots) +
         "\n  every: 24h\n  jitter: 23h\n" + snapshot_extra +
         "compaction: {enabled: false}\n"
         "defrag: {enabled: false}\n"
         "tuning: {enabled: false}\n"
         "consistency: {enabled: false}\n"
         "certificates: {enabled: false}\n"
         "drill:\n" +
         drill;
}

// Writes the config to <dir>/<name> and returns its path.
fs::path write_config(const TempDir& dir, const std::string& yaml,
                      const std::string& name = "config.yaml") {
  const fs::path path = dir / name;
  write_file(path, yaml);
  return path;
}

CommandResult job(const fs::path& config, const std::string& name,
                  std::chrono::milliseconds timeout = 120s) {
  return run_cli({"job", name, "-c", config.string()}, timeout);
}

// `job snapshot`, which must succeed: the drill needs a verified snapshot.
void take_snapshot(const fs::path& config) {
  const auto r = job(config, "snapshot");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  REQUIRE_THAT(r.output, Catch::Contains("snapshot: success"));
}

std::vector<fs::path> snapshot_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (std::regex_match(e.path().filename().string(), std::regex(kSnapshotFile)))
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Entries of the snapshot directory that are neither a snapshot, its
// sidecar, nor the drill's own .drill.lock and .drill.json.
std::vector<std::string> stray_entries(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name == ".drill.lock" || name == ".drill.json") continue;
    if (std::regex_match(name, std::regex(kSnapshotFile))) continue;
    if (name.ends_with(".json") &&
        std::regex_match(name.substr(0, name.size() - 5), std::regex(kSnapshotFile)) &&
        fs::exists(dir / name.substr(0, name.size() - 5)))
      continue;
    out.push_back(name);
  }
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// The first line of `text` that starts with `prefix`, or "".
std::string line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(prefix)) return line;
  }
  return "";
}

// The job's result line, "drill: <outcome> (<summary>)".
std::string result_line(const std::string& output) {
  return line_starting(output, "drill: ");
}

// Live processes whose command line holds `needle` (zombies have none);
// with `exe`, only those running that binary.
std::vector<pid_t> processes_with(const std::string& needle, const fs::path& exe = {}) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_file(e.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) == std::string::npos) continue;
    if (!exe.empty()) {
      std::error_code link_ec;
      if (fs::read_symlink(e.path() / "exe", link_ec) != exe) continue;
    }
    out.push_back(std::atoi(name.c_str()));
  }
  return out;
}

std::string describe(const std::vector<pid_t>& pids) {
  std::string out;
  for (const pid_t pid : pids) {
    std::string cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    out += std::to_string(pid) + ": " + cmdline + "\n";
  }
  return out;
}

// Whether `pid` is alive (not a zombie) and its command line holds `needle`:
// a recycled pid does not count.
bool alive_as(pid_t pid, const std::string& needle) {
  const std::string proc = "/proc/" + std::to_string(pid);
  const std::string stat = read_file(proc + "/stat");
  const auto close = stat.rfind(')');
  if (stat.empty() || close == std::string::npos || close + 2 >= stat.size()) return false;
  if (stat[close + 2] == 'Z' || stat[close + 2] == 'X') return false;
  std::string cmdline = read_file(proc + "/cmdline");
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  return cmdline.find(needle) != std::string::npos;
}

std::vector<pid_t> pids_in(const fs::path& file) {
  std::vector<pid_t> out;
  std::istringstream in(read_file(file));
  for (long pid = 0; in >> pid;) out.push_back(static_cast<pid_t>(pid));
  return out;
}

// A directory standing in for etcd's binaries: an `etcd` script that says it
// is `version` for --version and otherwise records its pid and arguments and
// becomes `sleep 600` (an etcd that never answers); etcdctl and etcdutl are
// the real ones (symlinks), or with `record_restores` wrappers that note
// every `snapshot restore` in restores.log before running the real tool.
struct FakeEtcdDir {
  FakeEtcdDir(const std::string& version, bool record_restores) : dir("etcd-warden-fake-etcd") {
    const fs::path bin = path();
    write_file(bin / "etcd",
               "#!/bin/sh\n"
               "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nexport PATH\n"
               "for a in \"$@\"; do\n"
               "  if [ \"$a\" = --version ]; then\n"
               "    echo 'etcd Version: " +
                   version +
                   "'\n"
                   "    echo 'Git SHA: fake'\n"
                   "    echo 'Go Version: go1.19.8'\n"
                   "    echo 'Go OS/Arch: linux/amd64'\n"
                   "    exit 0\n"
                   "  fi\n"
                   "done\n"
                   "echo $$ >> " +
                   quoted(pid_file()) + "\nprintf '%s\\n' \"$@\" >> " + quoted(args_file()) +
                   "\nexec sleep 600\n");
    fs::permissions(bin / "etcd", fs::perms::owner_all, fs::perm_options::replace);
    for (const char* tool : {"etcdctl", "etcdutl"}) {
      if (!has_etcd_tool(tool)) continue;
      if (!record_restores) {
        fs::create_symlink(etcd_tool(tool), bin / tool);
        continue;
      }
      write_file(bin / tool, std::string("#!/bin/sh\n") +
                                 "case \" $* \" in *\" restore \"*) echo \"$*\" >> " +
                                 quoted(restores_file()) + ";; esac\nexec " +
                                 quoted(etcd_tool(tool)) + " \"$@\"\n");
      fs::permissions(bin / tool, fs::perms::owner_all, fs::perm_options::replace);
    }
  }
  fs::path path() const { return dir / "bin"; }
  fs::path pid_file() const { return dir / "etcd.pids"; }
  fs::path args_file() const { return dir / "etcd.args"; }
  fs::path restores_file() const { return dir / "restores.log"; }
  TempDir dir;
};

// The value of the first sample of `name` (with or without labels), or -1.
double metric_value(const std::string& metrics, const std::string& name) {
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(name) || line.size() <= name.size()) continue;
    if (line[name.size()] != ' ' && line[name.size()] != '{') continue;
    const auto space = line.rfind(' ');
    return std::strtod(line.c_str() + space + 1, nullptr);
  }
  return -1;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// How many keys the cluster held at `revision` (as the restored member must).
std::int64_t keys_at(const EtcdCluster& cluster, std::int64_t revision) {
  const auto r = cluster.etcdctl(
      // The response's count is of the whole range whatever the limit
      // (etcdctl 3.4 has no --count-only).
      {"get", "", "--from-key", "--keys-only", "--limit=1", "--rev=" + std::to_string(revision),
       "-w", "json"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(r.output, m, std::regex("\"count\":([0-9]+)")));
  return std::stoll(m[1].str());
}

// What every drill leaves behind, success or failure: no scratch directory,
// no throwaway etcd.
void require_nothing_left(const fs::path& snapshots) {
  CHECK_FALSE(fs::exists(snapshots / ".drill"));
  const auto left = processes_with((snapshots / ".drill" / "data").string());
  INFO(describe(left));
  CHECK(left.empty());
}

// The checks of a successful `job drill` on `cluster`, whose snapshot in
// `snapshots` was taken at `revision` with `keys` keys.
void check_success(const CommandResult& r, const fs::path& snapshots, std::int64_t revision,
                   std::int64_t keys, bool require_match) {
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(result_line(r.output), Catch::StartsWith("drill: success"));
  for (const char* step : {"verify", "restore", "start", "revision", "keys", "hash", "total"}) {
    INFO("report line " << step);
    CHECK_FALSE(line_starting(r.output, step).empty());
  }
  CHECK_THAT(line_starting(r.output, "revision"),
             Catch::Matches(".*\\b" + std::to_string(revision) + "\\b.*"));
  CHECK_THAT(line_starting(r.output, "keys"),
             Catch::Matches(".*\\b" + std::to_string(keys) + "\\b.*"));
  const std::string hash = line_starting(r.output, "hash");
  CHECK_THAT(hash, !Catch::Contains("mismatch"));
  if (require_match) {
    CHECK_THAT(hash, Catch::Contains("match"));
    CHECK_THAT(hash, !Catch::Contains("not compared"));
  } else {
    CHECK_THAT(hash, Catch::Contains("match") || Catch::Contains("not compared"));
  }
  require_nothing_left(snapshots);
  CHECK(fs::exists(snapshots / ".drill.json"));
  CHECK(mode_of(snapshots / ".drill.json") == 0600);
  if (fs::exists(snapshots / ".drill.lock")) CHECK(fs::file_size(snapshots / ".drill.lock") == 0);
  const auto stray = stray_entries(snapshots);
  INFO("stray: " << joined(stray));
  CHECK(stray.empty());
}

// The snapshot `job snapshot` just took (the only one) and its revision.
std::pair<fs::path, std::int64_t> the_snapshot(const fs::path& snapshots) {
  const auto snaps = snapshot_files(snapshots);
  REQUIRE(snaps.size() == 1);
  const auto name =
      etcd_warden::snapshot::parse_snapshot_file_name(snaps.front().filename().string());
  REQUIRE(name.has_value());
  return {snaps.front(), name->revision};
}

}  // namespace

TEST_CASE("drill: a 3-member cluster's snapshot restores, its hash matches, the daemon shows it",
          "[drill]") {
  EtcdCluster cluster({.members = 3});
  put_values(cluster.member(0).client_url, "/drill/k", 50, 200);
  REQUIRE(wait_until([&] { return cluster.same_revision(); }, 10s));
  TempDir work("etcd-warden-drill");
  const fs::path snapshots = work / "snapshots";
  const fs::path config = write_config(work, drill_yaml(cluster, 0, snapshots, drill_settings()));
  take_snapshot(config);
  const auto [snap, revision] = the_snapshot(snapshots);
  const auto keys = keys_at(cluster, revision);
  CHECK(keys >= 50);

  const double before_drill = unix_now();
  const auto r = job(config, "drill");
  const double after_drill = unix_now();
  check_success(r, snapshots, revision, keys, true);
  // Every voting member vouched for it.
  for (const char* name : {"m1", "m2", "m3"}) {
    CHECK_THAT(line_starting(r.output, "hash"), Catch::Contains(name));
  }
  CHECK(run_cli({"snapshot", "verify", snap.string()}, 30s).exit_code == 0);

  // The daemon's first drill is a uniform draw up to 23 h away: what it
  // shows at start comes from .drill.json.
  {
    MetricsWarden daemon(drill_yaml(
        cluster, 0, snapshots, drill_settings(etcd_bin_dir(), "  every: 24h\n  jitter: 23h\n")));
    std::string metrics;
    const bool shown = wait_until(
        [&] {
          metrics = daemon.metrics();
          return metric_value(metrics, "etcd_warden_drill_last_success_timestamp_seconds") > 0;
        },
        20s);
    INFO(metrics << "\n" << daemon.process->log());
    REQUIRE(shown);
    const double last = metric_value(metrics, "etcd_warden_drill_last_success_timestamp_seconds");
    CHECK(last >= before_drill - 1);
    CHECK(last <= after_drill + 1);
    CHECK(processes_with((snapshots / ".drill" / "data").string()).empty());  // no drill ran
  }

  // jitter 0s: a drill runs at once, and the daemon shows its duration.
  {
    const double daemon_start = unix_now();
    MetricsWarden daemon(drill_yaml(
        cluster, 0, snapshots, drill_settings(etcd_bin_dir(), "  every: 24h\n  jitter: 0s\n")));
    std::string metrics;
    // The run counter says this daemon's drill is over; the timestamp has
    // whole seconds.
    const bool ran = wait_until(
        [&] {
          metrics = daemon.metrics();
          return metrics.find(
                     "\netcd_warden_job_runs_total{job=\"drill\",result=\"success\"} 1\n") !=
                     std::string::npos &&
                 metric_value(metrics, "etcd_warden_drill_duration_seconds") > 0 &&
                 metric_value(metrics, "etcd_warden_drill_last_success_timestamp_seconds") >=
                     std::floor(daemon_start);
        },
        90s, 100ms);
    INFO(metrics << "\n" << daemon.process->log());
    CHECK(ran);
    CHECK_EVENTUALLY(!fs::exists(snapshots / ".drill"), 10s);
    CHECK(processes_with((snapshots / ".drill" / "data").string()).empty());
    const auto stray = stray_entries(snapshots);
    INFO("stray: " << joined(stray));
    CHECK(stray.empty());
  }
}

TEST_CASE("drill: in a 5-member cluster and on a learner's host, the voters vouch for it",
          "[drill][learner]") {
  EtcdCluster cluster({.members = 5});
  put_values(cluster.member(0).client_url, "/drill/k", 40, 200);
  REQUIRE(cluster.wait_for_leader() >= 0);
  const std::size_t learner = cluster.add_learner();
  REQUIRE(cluster.member(learner).learner);
  REQUIRE(wait_until([&] { return cluster.same_revision(); }, 20s));
  TempDir work("etcd-warden-drill");
  // etcd refuses Snapshot on a learner: m5's warden takes it and copies it
  // to the learner host's directory (snapshot.copy_to), whose warden drills
  // it. The learner's live count is serializable, all a learner serves; HashKV
  // is asked of the voters only.
  const fs::path voter_dir = work / "snapshots-m5";
  const fs::path learner_dir = work / "snapshots-learner";
  const fs::path voter_config =
      write_config(work,
                   drill_yaml(cluster, 4, voter_dir, drill_settings(),
                              "  copy_to: [" + quoted(learner_dir) + "]\n"),
                   "voter.yaml");
  const fs::path learner_config = write_config(
      work, drill_yaml(cluster, learner, learner_dir, drill_settings()), "learner.yaml");
  take_snapshot(voter_config);
  for (const auto& [dir, config] :
       {std::pair{voter_dir, voter_config}, std::pair{learner_dir, learner_config}}) {
    INFO("drill of " << dir.filename().string());
    const auto [snap, revision] = the_snapshot(dir);
    const auto r = job(config, "drill");
    check_success(r, dir, revision, keys_at(cluster, revision), true);
    const std::string hash = line_starting(r.output, "hash");
    for (const char* name : {"m1", "m2", "m3", "m4", "m5"}) CHECK_THAT(hash, Catch::Contains(name));
    CHECK_THAT(hash, !Catch::Contains(cluster.member(learner).name));
    CHECK_THAT(line_starting(r.output, "keys"), Catch::Contains("as the live cluster had"));
  }
}

TEST_CASE("drill: a single member's snapshot restores and checks out", "[drill]") {
  EtcdCluster cluster({.members = 1});
  put_values(cluster.member(0).client_url, "/drill/k", 30, 500);
  TempDir work("etcd-warden-drill");
  const fs::path snapshots = work / "snapshots";
  const fs::path config = write_config(work, drill_yaml(cluster, 0, snapshots, drill_settings()));
  take_snapshot(config);
  const auto [snap, revision] = the_snapshot(snapshots);
  const auto keys = keys_at(cluster, revision);
  CHECK(keys >= 30);
  check_success(job(config, "drill"), snapshots, revision, keys, false);
  CHECK(run_cli({"snapshot", "verify", snap.string()}, 30s).exit_code == 0);
}

TEST_CASE("drill: a snapshot rotted since its check is refused by the re-verify", "[drill]") {
  EtcdCluster cluster({.members = 1});
  put_values(cluster.member(0).client_url, "/drill/k", 40, 2000);
  TempDir work("etcd-warden-drill");
  const fs::path snapshots = work / "snapshots";
  // Uncompressed, the flipped byte is in the database itself.
  const fs::path config = write_config(
      work, drill_yaml(cluster, 0, snapshots, drill_settings(), "  compression: none\n"));
  take_snapshot(config);
  const auto [snap, revision] = the_snapshot(snapshots);
  (void)revision;
  flip_byte(snap, static_cast<std::streamoff>(fs::file_size(snap) / 2), 0x5a);

  const auto r = job(config, "drill");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  const std::string result = result_line(r.output);
  CHECK_THAT(result, Catch::StartsWith("drill: failure ("));
  CHECK_THAT(result, Catch::Contains("sha256") || Catch::Contains("mismatch"));
  CHECK_THAT(r.output, Catch::Contains("verify"));
  CHECK_THAT(result, !Catch::Contains("modified after"));  // the bytes, not the mtime
  require_nothing_left(snapshots);
  CHECK(fs::exists(snap));  // the drill reports; it does not delete
}

TEST_CASE("drill: an etcd that never answers fails at start_timeout and is killed", "[drill]") {
  EtcdCluster cluster({.members = 1});
  cluster.put("/drill/a", "1");
  TempDir work("etcd-warden-drill");
  const fs::path snapshots = work / "snapshots";
  // The version of the etcd under test (3.4.23 for Debian's): a fake 3.4
  // would rightly be refused a 3.5 member's snapshot before it is started.
  REQUIRE_FALSE(etcd_version().empty());
  const FakeEtcdDir fake(etcd_version(), false);
  const fs::path config = write_config(
      work,
      drill_yaml(cluster, 0, snapshots, drill_settings(fake.path(), "  start_timeout: 5s\n")));
  take_snapshot(config);

  const auto started = std::chrono::steady_clock::now();
  const auto r = job(config, "drill", 90s);
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(r.output);
  INFO("etcd arguments:\n" << read_file(fake.args_file()));
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 1);
  CHECK(took < 30s);
  const std::string result = result_line(r.output);
  CHECK_THAT(result, Catch::StartsWith("drill: failure ("));
  CHECK_THAT(result, Catch::Contains("not"));
  CHECK_THAT(result, Catch::Contains("5s"));
  // The fake etcd was started (so the timeout is the one that fired), with
  // the scratch data dir on its command line.
  const auto pids = pids_in(fake.pid_file());
  REQUIRE_FALSE(pids.empty());
  CHECK_THAT(read_file(fake.args_file()),
             Catch::Contains((snapshots / ".drill" / "data").string()));
  // It became `sleep 600` (same pid): gone, and nothing else with the data dir.
  for (const pid_t pid : pids) {
    INFO("fake etcd pid " << pid);
    CHECK_EVENTUALLY(!alive_as(pid, "sleep 600"), 5s);
  }
  require_nothing_left(snapshots);
  const auto stray = stray_entries(snapshots);
  INFO("stray: " << joined(stray));
  CHECK(stray.empty());
}

TEST_CASE("drill: an etcd older than 3.4 is refused before any restore", "[drill]") {
  EtcdCluster cluster({.members = 1});
  cluster.put("/drill/a", "1");
  TempDir work("etcd-warden-drill");
  const fs::path snapshots = work / "snapshots";
  const FakeEtcdDir fake("3.2.0", true);
  const fs::path config = write_config(
      work,
      drill_yaml(cluster, 0, snapshots, drill_settings(fake.path(), "  start_timeout: 5s\n")));
  take_snapshot(config);

  const auto r = job(config, "drill", 90s);
  INFO(r.output);
  CHECK(r.exit_code == 1);
  const std::string result = result_line(r.output);
  CHECK_THAT(result, Catch::StartsWith("drill: failure ("));
  CHECK_THAT(result, Catch::Contains("3.2.0"));
  CHECK_THAT(line_starting(r.output, "etcd  "), Catch::Contains("FAILED"));
  // Neither restored nor started.
  CHECK(read_file(fake.restores_file()).empty());
  CHECK(pids_in(fake.pid_file()).empty());
  require_nothing_left(snapshots);
}

TEST_CASE("drill: a snapshot disk without room for the restore fails the preflight", "[drill]") {
  TempDir images("etcd-warden-loop", "/var/tmp");
  std::optional<LoopFilesystem> disk;
  try {
    // Room for the small snapshot, not for the 64 MiB of WAL a restore needs.
    disk.emplace(images / "disk.img", 40ull << 20);
  } catch (const std::runtime_error& e) {
    WARN("SKIPPED: " << e.what() << "; this test needs root and loop devices");
    return;
  }
  const fs::path snapshots = disk->path() / "snapshots";
  {
    EtcdCluster cluster({.members = 1});
    put_values(cluster.member(0).client_url, "/drill/k", 20, 1000);
    TempDir work("etcd-warden-drill");
    const fs::path config = write_config(work, drill_yaml(cluster, 0, snapshots, drill_settings()));
    take_snapshot(config);
    const auto [snap, revision] = the_snapshot(snapshots);
    (void)revision;

    const auto r = job(config, "drill");
    INFO(r.output);
    CHECK(r.exit_code == 1);
    const std::string result = result_line(r.output);
    CHECK_THAT(result, Catch::StartsWith("drill: failure ("));
    CHECK_THAT(result, Catch::Contains("free"));
    CHECK_THAT(line_starting(r.output, "preflight"), Catch::Contains("FAILED"));
    require_nothing_left(snapshots);
    CHECK(fs::exists(snap));
    CHECK(run_cli({"snapshot", "verify", snap.string()}, 30s).exit_code == 0);
  }
}

TEST_CASE("drill: SIGKILL mid-drill, the throwaway etcd dies too and the next start cleans up",
          "[drill]") {
  EtcdCluster cluster({.members = 1});
  // ~20 MB of data: the restore and the throwaway etcd take a moment.
  put_values(cluster.member(0).client_url, "/drill/big", 200, 100 * 1024);
  TempDir work("etcd-warden-drill");
  const fs::path snapshots = work / "snapshots";
  // Each daemon serves /metrics on a port of its own, never the default 9379.
  const auto metrics = [] {
    return "metrics:\n  listen: \"127.0.0.1:" + std::to_string(free_port()) + "\"\n";
  };
  const fs::path config = write_config(work, drill_yaml(cluster, 0, snapshots, drill_settings()));
  take_snapshot(config);
  const auto [snap, revision] = the_snapshot(snapshots);
  (void)revision;

  const std::string scratch = (snapshots / ".drill" / "data").string();
  {
    WardenProcess first(metrics() + drill_yaml(cluster, 0, snapshots,
                                               drill_settings(etcd_bin_dir(),
                                                              "  start_timeout: 2m\n"
                                                              "  every: 24h\n  jitter: 0s\n")));
    // The throwaway etcd itself, not the restore before it (which names the
    // data dir too).
    const fs::path etcd = fs::canonical(etcd_tool("etcd"));
    const bool drilling =
        wait_until([&] { return !processes_with(scratch, etcd).empty(); }, 60s, 5ms);
    INFO(first.log());
    REQUIRE(drilling);
    first.process().signal(SIGKILL);
    REQUIRE(first.process().wait_exit(5s).has_value());
    // The throwaway etcd dies with its parent, and nothing else using the
    // scratch directory is left.
    std::vector<pid_t> left;
    const bool gone = wait_until(
        [&] {
          left = processes_with(scratch);
          return left.empty();
        },
        10s);
    INFO(describe(left));
    CHECK(gone);
  }
  REQUIRE(fs::exists(snapshots / ".drill"));  // the crash left it behind

  // A new start removes it, with the drill disabled.
  WardenProcess second(metrics() + drill_yaml(cluster, 0, snapshots, "  enabled: false\n"));
  const bool cleaned = wait_until([&] { return !fs::exists(snapshots / ".drill"); }, 20s);
  INFO(second.log());
  CHECK(cleaned);
  CHECK(processes_with(scratch).empty());
  CHECK(fs::exists(snap));
  CHECK(run_cli({"snapshot", "verify", snap.string()}, 30s).exit_code == 0);
  const auto stray = stray_entries(snapshots);
  INFO("stray: " << joined(stray));
  CHECK(stray.empty());
}

TEST_CASE("drill: SIGTERM mid-drill stops the throwaway etcd and removes the scratch dir",
          "[drill]") {
  EtcdCluster cluster({.members = 1});
  cluster.put("/drill/a", "1");
  TempDir work("etcd-warden-drill");
  const fs::path snapshots = work / "snapshots";
  const FakeEtcdDir fake(etcd_version(), false);
  const fs::path config = write_config(work, drill_yaml(cluster, 0, snapshots, drill_settings()));
  take_snapshot(config);

  WardenProcess daemon("metrics:\n  listen: \"127.0.0.1:" + std::to_string(free_port()) + "\"\n" +
                       drill_yaml(cluster, 0, snapshots,
                                  drill_settings(fake.path(),
                                                 "  start_timeout: 2m\n"
                                                 "  every: 24h\n  jitter: 0s\n")));
  // The fake etcd (never answering) is up: the drill waits for it.
  std::vector<pid_t> pids;
  const bool waiting = wait_until(
      [&] {
        pids = pids_in(fake.pid_file());
        return !pids.empty();
      },
      60s);
  INFO(daemon.log());
  REQUIRE(waiting);
  const auto exit = daemon.stop(15s);
  REQUIRE(exit.has_value());
  CHECK(*exit == 0);
  for (const pid_t pid : pids) CHECK_FALSE(alive_as(pid, "sleep 600"));
  CHECK_THAT(daemon.log(),
             Catch::Contains("job=drill result=skipped") && Catch::Contains("stopping"));
  require_nothing_left(snapshots);
}
