// The JSON that GetStatusJson, ListSnapshots and `ctl -o json` return: its
// shape is a contract for scripts, so each field is pinned here.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "etcd_warden/control/status_json.hpp"

using namespace etcd_warden;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

sched::WallTime at(int seconds) {
  return sched::WallTime{std::chrono::sys_days{std::chrono::year{2026} / 11 / 23}} +
         std::chrono::seconds(seconds);
}

status::StatusBoard healthy_board() {
  status::StatusBoard b;
  auto& m = b.member;
  m.polled = true;
  m.up = true;
  m.endpoint = "https://127.0.0.1:2379";
  m.member_id = 0x8e9e05c52164694dULL;
  m.leader_id = m.member_id;
  m.cluster_id = 0xcdf818194e3a8c32ULL;
  m.name = "m1";
  m.version = "3.4.23";
  m.db_size = Bytes::mib(20);
  m.db_in_use = Bytes::mib(12);
  m.quota = Bytes::gib(2);
  m.quota_source = status::QuotaSource::etcd_metrics;
  m.revision = 1234;
  m.raft_index = 99;
  m.raft_term = 3;
  m.member_count = 3;
  return b;
}

}  // namespace

TEST_CASE("status JSON: member, jobs with result and age, pause and config problem", "[control]") {
  auto board = healthy_board();
  board.jobs["status"] = {.outcome = sched::Outcome::success,
                          .summary = "db 20MiB",
                          .finished_at = at(100),
                          .last_success = at(100),
                          .seconds = 0.25};
  board.jobs["defrag"] = {.outcome = sched::Outcome::failure,
                          .summary = "lock busy",
                          .finished_at = at(40),
                          .seconds = 1.5,
                          .consecutive_failures = 2};
  board.paused = true;
  board.paused_until = at(700);
  board.config_problem = "config.yaml:3:1: bad";

  const std::vector<control::JobView> views{
      {.name = "status", .next_in = 300ms},
      {.name = "defrag", .running = true},
      {.name = "snapshot", .enabled = false},
  };
  const auto j = json::parse(control::status_json(board, views, at(160), "0.1.0"));

  CHECK(j["version"] == "0.1.0");
  CHECK(j["health"] == "config_rejected");  // up, but a reload was refused
  CHECK(j["status_line"].get<std::string>().find("PAUSED") != std::string::npos);
  CHECK(j["paused"] == true);
  CHECK(j["paused_until"] == "2026-11-23T00:11:40Z");
  CHECK(j["paused_remaining_seconds"] == 540.0);
  CHECK(j["config_problem"] == "config.yaml:3:1: bad");

  const auto& m = j["member"];
  CHECK(m["id"] == "8e9e05c52164694d");
  CHECK(m["cluster_id"] == "cdf818194e3a8c32");
  CHECK(m["is_leader"] == true);
  CHECK(m["db_size_bytes"] == 20u << 20);
  CHECK(m["quota_bytes"] == 2ull << 30);
  CHECK(m["quota_source"] == "etcd_metrics");
  CHECK(m["revision"] == 1234);
  CHECK(m["error"].is_null());
  CHECK(m["alarms"].empty());

  REQUIRE(j["jobs"].size() == 3);
  const auto& status = j["jobs"][0];
  CHECK(status["name"] == "status");
  CHECK(status["last_result"] == "success");
  CHECK(status["age_seconds"] == 60.0);
  CHECK(status["duration_seconds"] == 0.25);
  CHECK(status["next_run_in_seconds"] == 0.3);
  CHECK(status["finished_at"] == "2026-11-23T00:01:40Z");
  const auto& defrag = j["jobs"][1];
  CHECK(defrag["last_result"] == "failure");
  CHECK(defrag["summary"] == "lock busy");
  CHECK(defrag["consecutive_failures"] == 2);
  CHECK(defrag["running"] == true);
  CHECK(defrag["next_run_in_seconds"].is_null());
  CHECK(defrag["last_success_at"].is_null());
  const auto& snapshot = j["jobs"][2];  // never ran
  CHECK(snapshot["enabled"] == false);
  CHECK(snapshot["last_result"].is_null());
  CHECK(snapshot["age_seconds"].is_null());
}

TEST_CASE("status JSON: starting, degraded, alarm, a rejected config, pause until resumed",
          "[control]") {
  status::StatusBoard board;
  CHECK(control::health(board) == "starting");
  board.member.polled = true;
  board.member.error = "connection refused";
  board.member.down_since = at(0);
  CHECK(control::health(board) == "degraded");
  board.paused = true;

  auto j = json::parse(control::status_json(board, {}, at(30), "0.1.0"));
  CHECK(j["health"] == "degraded");
  CHECK(j["member"]["error"] == "connection refused");
  CHECK(j["member"]["down_since"] == "2026-11-23T00:00:00Z");
  CHECK(j["member"]["id"].is_null());
  CHECK(j["member"]["quota_bytes"].is_null());
  CHECK(j["paused"] == true);
  CHECK(j["paused_until"].is_null());
  CHECK(j["paused_remaining_seconds"].is_null());
  CHECK(j["config_problem"].is_null());

  board = healthy_board();
  board.member.alarms.push_back({.member_id = 0x1234, .type = "NOSPACE"});
  j = json::parse(control::status_json(board, {}, at(30), "0.1.0"));
  CHECK(j["health"] == "alarm");
  CHECK(j["member"]["alarms"][0]["type"] == "NOSPACE");
  CHECK(j["member"]["alarms"][0]["member_id"] == "1234");

  // A refused reload: up and running, but on the previous config.
  board = healthy_board();
  board.config_problem = "/etc/etcd-warden/config.yaml:3:5: defrag.every: must be longer than 0s";
  j = json::parse(control::status_json(board, {}, at(30), "0.1.0"));
  CHECK(j["health"] == "config_rejected");
  CHECK(j["config_problem"] == board.config_problem);
}

TEST_CASE("snapshot list JSON: newest first as given, verified or with the problem", "[control]") {
  snapshot::SnapshotEntry good;
  good.path = "/var/lib/etcd-warden/snapshots/etcd-m1-r000000001234-20261123T000000Z.db.zst";
  good.name = {
      .member = "m1", .revision = 1234, .taken = at(0), .compression = config::Compression::zstd};
  good.file_bytes = Bytes{4711};
  good.info = snapshot::SnapshotInfo{.file = good.path.filename().string(), .sha256 = "ab12"};
  snapshot::SnapshotEntry bad = good;
  bad.info.reset();
  bad.problem = "no sidecar";

  const auto j = json::parse(control::snapshots_json({good, bad}, at(3600)));
  REQUIRE(j.size() == 2);
  CHECK(j[0]["file"] == "etcd-m1-r000000001234-20261123T000000Z.db.zst");
  CHECK(j[0]["revision"] == 1234);
  CHECK(j[0]["taken_at"] == "2026-11-23T00:00:00Z");
  CHECK(j[0]["age_seconds"] == 3600.0);
  CHECK(j[0]["file_bytes"] == 4711);
  CHECK(j[0]["compression"] == "zstd");
  CHECK(j[0]["verified"] == true);
  CHECK(j[0]["problem"].is_null());
  CHECK(j[0]["sha256"] == "ab12");
  CHECK(j[1]["verified"] == false);
  CHECK(j[1]["problem"] == "no sidecar");
  CHECK(json::parse(control::snapshots_json({}, at(0))).empty());
}
