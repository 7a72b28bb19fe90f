#include <catch2/catch.hpp>

#include "etcd_warden/status/status_board.hpp"

using namespace etcd_warden;
using namespace std::chrono_literals;

namespace {

status::StatusBoard healthy_leader() {
  status::StatusBoard b;
  b.member.polled = true;
  b.member.up = true;
  b.member.name = "m1";
  b.member.member_id = 1;
  b.member.leader_id = 1;
  b.member.db_size = Bytes::mib(512);
  b.member.db_in_use = Bytes::mib(300);
  b.member.quota = Bytes::gib(2);
  b.member.member_count = 3;
  return b;
}

}  // namespace

TEST_CASE("status line: healthy leader with quota use", "[status]") {
  const auto now = sched::WallTime{} + 1000h;
  CHECK(status::format_status_line(healthy_leader(), now) ==
        "m1 (leader), db 512MiB of 2GiB (25%), 300MiB in use, 3 members");
}

TEST_CASE("status line: follower, no quota known", "[status]") {
  auto b = healthy_leader();
  b.member.leader_id = 2;
  b.member.quota.reset();
  CHECK(status::format_status_line(b, sched::WallTime{}) ==
        "m1, db 512MiB, 300MiB in use, 3 members");
}

TEST_CASE("status line: no leader is shouted", "[status]") {
  auto b = healthy_leader();
  b.member.leader_id = 0;
  CHECK(status::format_status_line(b, sched::WallTime{}).starts_with("m1 (NO LEADER)"));
}

TEST_CASE("status line: degraded when etcd is down, with how long", "[status]") {
  status::StatusBoard b;
  b.member.polled = true;
  b.member.up = false;
  b.member.error = "http://127.0.0.1:2379: Status: unreachable (connection refused)";
  const auto now = sched::WallTime{} + 1000h;
  b.member.down_since = now - 3min;
  CHECK(status::format_status_line(b, now) ==
        "DEGRADED: etcd unreachable for 3m (http://127.0.0.1:2379: Status: unreachable (connection "
        "refused))");
}

TEST_CASE("status line: alarms, pause, reload problem and job results", "[status]") {
  auto b = healthy_leader();
  const auto now = sched::WallTime{} + 1000h;
  b.member.alarms.push_back({1, "NOSPACE"});
  b.paused = true;
  b.paused_until = now + 20min;
  b.config_problem = "/etc/etcd-warden/config.yaml:3:5: unknown key 'evry'";
  b.jobs["snapshot"] = {sched::Outcome::success, "rev=10", now - 2h, now - 2h, 1.0, 0};
  b.jobs["defrag"] = {sched::Outcome::skipped, "member m2 unhealthy", now - 45s, {}, 0.1, 0};
  b.jobs["status"] = {sched::Outcome::success, "", now, now, 0.01, 0};
  const auto line = status::format_status_line(b, now);
  CHECK(line ==
        "config reload failed, running previous config: /etc/etcd-warden/config.yaml:3:5: unknown "
        "key 'evry'; "
        "PAUSED for 20m; ALARM NOSPACE; m1 (leader), db 512MiB of 2GiB (25%), 300MiB in use, 3 "
        "members; "
        "defrag skipped 45s ago (member m2 unhealthy); snapshot ok 2h ago");
}

TEST_CASE("status line: never longer than 400 characters", "[status]") {
  auto b = healthy_leader();
  b.config_problem = std::string(1000, 'x');
  CHECK(status::format_status_line(b, sched::WallTime{}).size() == 400);
}

TEST_CASE("ages are coarse and never negative", "[status]") {
  CHECK(status::format_age(-5s) == "0s");
  CHECK(status::format_age(119s) == "119s");
  CHECK(status::format_age(120s) == "2m");
  CHECK(status::format_age(7199s) == "119m");
  CHECK(status::format_age(2h) == "2h");
  CHECK(status::format_age(72h) == "3d");
}

TEST_CASE("byte sizes print in binary units", "[status]") {
  CHECK(to_string(Bytes{0}) == "0B");
  CHECK(to_string(Bytes{1023}) == "1023B");
  CHECK(to_string(Bytes::kib(1)) == "1KiB");
  CHECK(to_string(Bytes::mib(1) + Bytes::kib(512)) == "1.5MiB");
  CHECK(to_string(Bytes::gib(2)) == "2GiB");
  CHECK((Bytes::mib(1) - Bytes::gib(1)) == Bytes{0});
}

// sd_notify reads newline-separated assignments: a newline from etcd (a
// member name, an error) or from a record another warden wrote must not
// become one of its own.
TEST_CASE("status line: one line whatever etcd sends, no assignment smuggled in", "[status]") {
  auto b = healthy_leader();
  b.member.name = "m1\nWATCHDOG=trigger";
  b.consistency_alert = "CONSISTENCY MISMATCH: m3\r\nSTOPPING=1 differs";
  const auto line = status::format_status_line(b, sched::WallTime{});
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find('\r') == std::string::npos);
  CHECK(line.find("m1 WATCHDOG=trigger") != std::string::npos);
  CHECK(line.starts_with("CONSISTENCY MISMATCH: m3  STOPPING=1 differs; "));
}
