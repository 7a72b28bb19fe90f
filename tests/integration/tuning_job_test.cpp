// The tuning job against real etcd: values discovered from the running
// member, the probe and etcd's histograms in the metrics, the verdict in
// STATUS= and the log (once per change), and `job tuning` on a member that
// lost its quorum.
#include <catch2/catch.hpp>

#include <regex>
#include <string>
#include <vector>

#include "support/etcd_cluster.hpp"
#include "support/http_get.hpp"
#include "support/ports.hpp"
#include "support/wait.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;

namespace {

// A warden whose only scheduled job is tuning, every second.
struct Warden : MetricsWarden {
  Warden(const EtcdCluster& cluster, std::size_t member, const std::string& tuning)
      : MetricsWarden(etcd_config_yaml(cluster, member) +
                      "status: {every: 500ms}\n"
                      "compaction: {enabled: false}\n"
                      "defrag: {enabled: false}\n"
                      "snapshot: {enabled: false}\n"
                      "tuning: {every: 1s, jitter: 0s, probe_max_time: 200ms, env_files: [], " +
                      tuning + "}\n") {}

  int tuning_runs() const {
    std::smatch m;
    const std::string body = metrics();
    static const std::regex runs(
        "etcd_warden_job_runs_total\\{job=\"tuning\",result=\"success\"\\} ([0-9]+)");
    return std::regex_search(body, m, runs) ? std::stoi(m[1]) : 0;
  }
};

// The new verdict of every "tuning verdict [OLD -> ]NEW: ..." line, in order.
std::vector<std::string> verdict_lines(const std::string& log) {
  std::vector<std::string> out;
  static const std::regex line("tuning verdict (?:[a-z]+ -> )?([a-z]+):");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

}  // namespace

TEST_CASE("the daemon reads the member's timeouts from its command line and publishes the check",
          "[tuning][daemon]") {
  EtcdCluster cluster(
      {.members = 1, .extra_flags = {"--heartbeat-interval=250", "--election-timeout=2500"}});
  // Some writes, so that etcd's WAL fsync histogram has something in it.
  for (int i = 0; i < 30; ++i) cluster.put("/k" + std::to_string(i), "v");
  Warden warden(cluster, 0, "");
  INFO(warden.process->log());
  REQUIRE(warden.process->wait_ready());
  REQUIRE_EVENTUALLY(warden.has("etcd_warden_tuning_verdict "), 20s);
  const std::string body = warden.metrics();
  CHECK(body.find("etcd_warden_tuning_heartbeat_seconds{kind=\"current\"} 0.25\n") !=
        std::string::npos);
  CHECK(body.find("etcd_warden_tuning_election_timeout_seconds{kind=\"current\"} 2.5\n") !=
        std::string::npos);
  CHECK(body.find("etcd_warden_tuning_heartbeat_seconds{kind=\"recommended\"}") !=
        std::string::npos);
  CHECK(body.find("etcd_warden_disk_fsync_p99_seconds{source=\"probe\"}") != std::string::npos);
  CHECK(body.find("etcd_warden_disk_fsync_p99_seconds{source=\"etcd\"}") != std::string::npos);
  CHECK(body.find("etcd_warden_job_runs_total{job=\"tuning\",result=\"success\"}") !=
        std::string::npos);
  // Where the values came from is in the log, with the pid of the member.
  const auto pid = std::to_string(cluster.member_process(0)->pid());
  REQUIRE_EVENTUALLY(
      warden.process->log().find("/proc/" + pid + "/cmdline (--heartbeat-interval=250)") !=
          std::string::npos,
      10s);
  // The probe's file never stays behind in the data dir.
  for (const auto& entry : std::filesystem::directory_iterator(cluster.member(0).data_dir)) {
    CHECK(entry.path().filename().string().find("fsync-probe") == std::string::npos);
  }
}

TEST_CASE("a tight election timeout: STATUS says TUNING WARN, the log says it once per change",
          "[tuning][daemon]") {
  EtcdCluster cluster({.members = 1});
  // 600ms is below 10 x 100ms: a warning whatever the disk.
  Warden warden(cluster, 0, "heartbeat_interval: 100ms, election_timeout: 600ms");
  INFO(warden.process->log());
  REQUIRE(warden.process->wait_ready());
  REQUIRE_EVENTUALLY(warden.status_contains("TUNING WARN"), 20s);
  CHECK(warden.status_contains("election >= 10 x heartbeat"));
  REQUIRE_EVENTUALLY(warden.has("etcd_warden_tuning_verdict 1\n"), 10s);
  // Several more runs (every 1s), and a log line only when the verdict
  // changed: the first says WARN, no two in a row say the same. (A loaded
  // disk may push the fsync part to CRIT and back meanwhile; that is a change.)
  REQUIRE_EVENTUALLY(warden.tuning_runs() >= 4, 20s);
  const std::string log = warden.process->log();
  INFO(log);
  const auto verdicts = verdict_lines(log);
  REQUIRE_FALSE(verdicts.empty());
  CHECK(verdicts.front() == "warn");
  for (std::size_t i = 1; i < verdicts.size(); ++i) CHECK(verdicts[i] != verdicts[i - 1]);
  CHECK(verdicts.size() < static_cast<std::size_t>(warden.tuning_runs()));
  // The explicit values differ from what etcd runs with (its defaults): said once.
  CHECK(log.find("tuning.election_timeout") != std::string::npos);
}

TEST_CASE("job tuning answers on a member that lost its quorum", "[tuning][cli]") {
  EtcdCluster cluster({.members = 3});
  cluster.kill_member(1);
  cluster.kill_member(2);
  // The survivor gives up its leader after the election timeout.
  REQUIRE_EVENTUALLY(http_get("127.0.0.1", cluster.member(0).metrics_port, "/metrics", 1s)
                             .value_or("")
                             .find("etcd_server_has_leader 0") != std::string::npos,
                     20s);
  TempDir dir("etcd-warden-tuning");
  const auto config = dir / "config.yaml";
  write_file(config, etcd_config_yaml(cluster, 0) +
                         "  request_timeout: 2s\n"
                         "tuning: {probe_max_time: 300ms, env_files: []}\n");
  const auto started = std::chrono::steady_clock::now();
  const auto r = run_cli({"job", "tuning", "-c", config.string()}, 60s);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(std::chrono::steady_clock::now() - started < 20s);
  CHECK(r.output.find("verdict: ") != std::string::npos);
  CHECK(r.output.find("etcd metrics        http://") != std::string::npos);  // read, not FAILED
  CHECK(r.output.find("member has a leader") != std::string::npos);
  CHECK(r.output.find("fsync probe         ") != std::string::npos);
  CHECK(r.output.find("FAILED") == std::string::npos);
}
