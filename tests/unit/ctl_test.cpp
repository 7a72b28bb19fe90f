// `etcd-warden ctl` without a bus: the words it accepts and the usage error
// for each it does not (control/ctl_args), and the text it prints from the
// daemon's JSON (control/ctl_render), to the character. The bus side is in
// tests/integration/control_test.cpp.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "control/ctl_args.hpp"
#include "control/ctl_render.hpp"
#include "etcd_warden/control/status_json.hpp"

using namespace etcd_warden;
using namespace etcd_warden::control::detail;
using namespace std::chrono_literals;
using nlohmann::json;
using Words = std::vector<std::string>;

namespace {

// `ctl` and then `rest`, as run_ctl gets them.
Parsed parse_ctl(Words rest) {
  rest.insert(rest.begin(), "ctl");
  return parse(rest);
}

Options options_of(const Words& rest) {
  const auto parsed = parse_ctl(rest);
  INFO(parsed.error);
  REQUIRE(parsed.options);
  CHECK(parsed.error.empty());
  return *parsed.options;
}

std::string status_text(const std::string& status_json) {
  std::ostringstream out;
  print_status(json::parse(status_json), out);
  return out.str();
}

std::string snapshots_text(const std::string& list_json) {
  std::ostringstream out;
  print_snapshots(json::parse(list_json), out);
  return out.str();
}

// The member line of the status table for a member that is up.
std::string member_line(const json& member) {
  json status = {{"member", member}};
  status["member"]["polled"] = true;
  status["member"]["up"] = true;
  std::istringstream lines(status_text(status.dump()));
  std::string line;
  while (std::getline(lines, line))
    if (line.starts_with("member ")) return line;
  return "(no member line)";
}

sched::WallTime at(int seconds) {
  return sched::WallTime{std::chrono::sys_days{std::chrono::year{2026} / 11 / 23}} +
         std::chrono::seconds(seconds);
}

}  // namespace

// --- Arguments ------------------------------------------------------------------

TEST_CASE("ctl args: each command, flags before or after it, --flag VALUE and --flag=VALUE",
          "[control][ctl]") {
  auto o = options_of({"status"});
  CHECK(o.command == "status");
  CHECK(o.args.empty());
  CHECK_FALSE(o.json);
  CHECK_FALSE(o.bus);
  CHECK_FALSE(o.pause_for);
  CHECK_FALSE(o.no_wait);

  CHECK(options_of({"status", "-o", "json"}).json);
  CHECK(options_of({"-o", "json", "status"}).json);
  CHECK(options_of({"status", "-o=json"}).json);
  CHECK(options_of({"status", "--output", "json"}).json);
  CHECK(options_of({"snapshots", "--output=json"}).json);
  CHECK_FALSE(options_of({"status", "-o", "table"}).json);
  CHECK_FALSE(options_of({"status", "-o", "json", "-o", "table"}).json);  // the last one counts
  CHECK(options_of({"snapshots"}).command == "snapshots");
  CHECK(options_of({"resume"}).command == "resume");

  o = options_of({"--bus", "unix:path=/run/etcd-warden/bus", "status"});
  CHECK(o.bus == "unix:path=/run/etcd-warden/bus");
  CHECK(options_of({"status", "--bus=session"}).bus == "session");
  // Only the first '=' splits: D-Bus addresses are full of them.
  CHECK(options_of({"status", "--bus=unix:path=/x,guid=1"}).bus == "unix:path=/x,guid=1");

  o = options_of({"pause"});
  CHECK(o.command == "pause");
  CHECK_FALSE(o.pause_for);
  CHECK(options_of({"pause", "--for", "2h"}).pause_for == "2h");
  CHECK(options_of({"--for=30m", "pause"}).pause_for == "30m");
  // Checked when pausing (pause_seconds), not here.
  CHECK(options_of({"pause", "--for", "soon"}).pause_for == "soon");
  CHECK(options_of({"pause", "--for="}).pause_for == "");
}

TEST_CASE("ctl args: run takes exactly one job name, --no-wait and -o json", "[control][ctl]") {
  auto o = options_of({"run", "defrag"});
  CHECK(o.command == "run");
  CHECK(o.args == Words{"defrag"});
  CHECK_FALSE(o.no_wait);
  CHECK_FALSE(o.json);

  o = options_of({"run", "--no-wait", "snapshot", "-o", "json"});
  CHECK(o.args == Words{"snapshot"});
  CHECK(o.no_wait);
  CHECK(o.json);

  // The name is the daemon's to check; a lone "-" is a word, not a flag.
  CHECK(options_of({"run", "no-such-job"}).args == Words{"no-such-job"});
  CHECK(options_of({"run", "-"}).args == Words{"-"});
  // "--bus X" is a flag with its value, not a second name.
  CHECK(options_of({"run", "status", "--bus", "session"}).args == Words{"status"});

  CHECK(parse_ctl({"run"}).error == "run needs one job name");
  CHECK(parse_ctl({"run", "status", "defrag"}).error == "run needs one job name");
  CHECK(parse_ctl({"run", "-x"}).error == "unknown option '-x'");
}

TEST_CASE("ctl args: every usage error, one line that says what is wrong", "[control][ctl]") {
  const std::vector<std::pair<Words, std::string>> cases{
      {{}, "which command?"},
      {{"-o", "json"}, "which command?"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"-"}, "unknown command '-'"},
      {{"Status"}, "unknown command 'Status'"},
      {{"status", "extra"}, "status takes no arguments"},
      {{"snapshots", "all"}, "snapshots takes no arguments"},
      {{"pause", "1h"}, "pause takes no arguments"},
      {{"resume", "now"}, "resume takes no arguments"},
      {{"run"}, "run needs one job name"},
      {{"status", "--bus"}, "--bus needs a value"},
      {{"status", "--bus="}, "--bus needs an address"},
      {{"status", "--bus", ""}, "--bus needs an address"},
      {{"status", "-o"}, "-o needs a value"},
      {{"status", "--output"}, "--output needs a value"},
      {{"status", "-o", "yaml"}, "-o takes json or table, not 'yaml'"},
      {{"status", "--output=xml"}, "-o takes json or table, not 'xml'"},
      {{"status", "-o="}, "-o takes json or table, not ''"},
      {{"status", "-o", "JSON"}, "-o takes json or table, not 'JSON'"},
      {{"pause", "--for"}, "--for needs a value"},
      {{"status", "--for", "1h"}, "--for is for pause"},
      {{"resume", "--for=1m"}, "--for is for pause"},
      {{"run", "defrag", "--for", "1h"}, "--for is for pause"},
      {{"status", "--no-wait"}, "--no-wait is for run"},
      {{"pause", "--no-wait"}, "--no-wait is for run"},
      {{"status", "-x"}, "unknown option '-x'"},
      {{"status", "--verbose"}, "unknown option '--verbose'"},
      {{"status", "-ojson"}, "unknown option '-ojson'"},
      {{"run", "defrag", "--no-wait=yes"}, "unknown option '--no-wait=yes'"},
      {{"status", "--busy"}, "unknown option '--busy'"},
  };
  for (const auto& [words, error] : cases) {
    const auto parsed = parse_ctl(words);
    INFO("ctl " << json(words).dump());
    CHECK_FALSE(parsed.options);
    CHECK(parsed.error == error);
  }
}

TEST_CASE("ctl args: flags are read first, then the command, its arguments, then flag fits",
          "[control][ctl]") {
  // A bad flag is reported even after an unknown command.
  CHECK(parse_ctl({"frobnicate", "-x"}).error == "unknown option '-x'");
  CHECK(parse_ctl({"frobnicate", "-o", "yaml"}).error == "-o takes json or table, not 'yaml'");
  // The command before its arguments, its arguments before flags that do not fit it.
  CHECK(parse_ctl({"frobnicate", "extra", "--no-wait"}).error == "unknown command 'frobnicate'");
  CHECK(parse_ctl({"status", "extra", "--for", "1h"}).error == "status takes no arguments");
  CHECK(parse_ctl({"status", "--for", "1h", "--no-wait"}).error == "--for is for pause");
  // A flag's value is taken even when it looks like a flag or a command.
  CHECK(options_of({"pause", "--for", "-1h"}).pause_for == "-1h");
  CHECK(options_of({"status", "--bus", "run"}).bus == "run");
}

TEST_CASE("ctl args: pause --for in whole seconds, rounded up, too short or no duration",
          "[control][ctl]") {
  CHECK(pause_seconds(std::nullopt).seconds == 0u);  // until resumed
  CHECK(pause_seconds(std::nullopt).error.empty());
  CHECK(pause_seconds("1s").seconds == 1u);
  CHECK(pause_seconds("30m").seconds == 1800u);
  CHECK(pause_seconds("2h").seconds == 7200u);
  CHECK(pause_seconds("1h30m").seconds == 5400u);
  CHECK(pause_seconds("1.5s").seconds == 2u);
  CHECK(pause_seconds("1001ms").seconds == 2u);
  CHECK(pause_seconds("1000ms").seconds == 1u);

  for (const char* bad : {"soon", "", "1", "-1h", "1 h"}) {
    INFO(bad);
    const auto p = pause_seconds(std::string(bad));
    CHECK_FALSE(p.seconds);
    CHECK(p.error == std::string("--for: expected a duration like 30m or 2h, got '") + bad + "'");
  }
  for (const char* short_one : {"0", "0s", "500ms", "999ms"}) {
    INFO(short_one);
    const auto p = pause_seconds(std::string(short_one));
    CHECK_FALSE(p.seconds);
    CHECK(p.error == "--for must be at least 1s (to pause until resumed, leave out --for)");
  }
}

TEST_CASE("ctl args: the usage text names every command and flag", "[control][ctl]") {
  const std::string usage = kUsage;
  CHECK(
      usage.starts_with("usage: etcd-warden [-c FILE] ctl COMMAND [-o table|json] [--bus "
                        "ADDRESS]\n"));
  for (const char* word :
       {"  status ", "  run NAME [--no-wait]", "  pause [--for D] ", "  resume ", "  snapshots "}) {
    INFO(word);
    CHECK(usage.find(word) != std::string::npos);
  }
  CHECK(usage.ends_with("for everyone.\n"));
}

// --- Tables ---------------------------------------------------------------------

TEST_CASE("ctl render: a table pads every column but the last, and trims the line",
          "[control][ctl]") {
  std::ostringstream out;
  print_table({{"a", "bb", "c"}, {"aaa", "b"}, {"x"}, {"yy", "", ""}, {"", "z"}}, out);
  CHECK(out.str() ==
        "a    bb  c\n"
        "aaa  b\n"
        "x\n"
        "yy\n"
        "     z\n");
  std::ostringstream none;
  print_table({}, none);
  CHECK(none.str().empty());
}

TEST_CASE("ctl render: status of a healthy leader and its jobs", "[control][ctl]") {
  const auto text = status_text(R"({
    "version": "0.1.0", "health": "ok", "paused": false, "paused_until": null,
    "paused_remaining_seconds": null, "config_problem": null, "tuning_alert": null,
    "member": {
      "polled": true, "up": true, "error": null, "endpoint": "https://127.0.0.1:2379",
      "name": "m1", "id": "8e9e05c52164694d", "leader_id": "8e9e05c52164694d",
      "is_leader": true, "has_leader": true, "is_learner": false, "version": "3.5.17",
      "db_size_bytes": 20971520, "db_in_use_bytes": 12582912, "quota_bytes": 2147483648,
      "revision": 1234, "raft_index": 99, "raft_term": 3, "member_count": 3, "alarms": []},
    "jobs": [
      {"name": "status", "enabled": true, "running": false, "next_run_in_seconds": 12.4,
       "last_result": "success", "summary": "db 20MiB", "age_seconds": 3.2,
       "duration_seconds": 0.25},
      {"name": "defrag", "enabled": true, "running": true, "next_run_in_seconds": null,
       "last_result": "failure", "summary": "lock busy", "age_seconds": 4000,
       "duration_seconds": 1.5},
      {"name": "snapshot", "enabled": false, "running": false, "next_run_in_seconds": null,
       "last_result": null, "summary": null, "age_seconds": null, "duration_seconds": null}]
  })");
  CHECK(text ==
        "etcd-warden 0.1.0: ok\n"
        "endpoint  https://127.0.0.1:2379\n"
        "member    m1 (leader), id 8e9e05c52164694d, etcd 3.5.17, 3 members\n"
        "db        20MiB of 2GiB quota (1%), 12MiB in use\n"
        "revision  1234, raft index 99 term 3\n"
        "alarms    none\n"
        "config    ok\n"
        "\n"
        "JOB       ENABLED  LAST     AGE  TOOK    NEXT     SUMMARY\n"
        "status    yes      success  3s   0.250s  in 12s   db 20MiB\n"
        "defrag    yes      failure  66m  1.500s  running  lock busy\n"
        "snapshot  no       never    -    -       -\n");
}

TEST_CASE("ctl render: status of a member that is down, paused for a while, a failed reload",
          "[control][ctl]") {
  const auto text = status_text(R"json({
    "version": "0.1.0", "health": "degraded", "paused": true,
    "paused_until": "2026-11-23T12:00:00Z", "paused_remaining_seconds": 5400.4,
    "config_problem": "config.yaml:3:1: bad", "tuning_alert": "TUNING WARN: heartbeat too low",
    "tuning_settings": "heartbeat 100ms (/proc/812/cmdline), election 1s (etcd's default)",
    "member": {
      "polled": true, "up": false, "error": "Status: deadline of 5s exceeded",
      "down_since": "2026-11-23T10:00:00Z", "endpoint": "http://127.0.0.1:2379",
      "name": "m1", "db_size_bytes": 0},
    "jobs": [
      {"name": "compaction", "enabled": true, "running": false, "next_run_in_seconds": null,
       "last_result": null},
      {"name": "defrag", "enabled": false, "running": false, "next_run_in_seconds": null,
       "last_result": null},
      {"name": "status", "enabled": true, "running": true, "next_run_in_seconds": null,
       "last_result": "skipped", "summary": "etcd unreachable", "age_seconds": 200000,
       "duration_seconds": 5.0004}]
  })json");
  CHECK(text ==
        "etcd-warden 0.1.0: degraded, PAUSED until 2026-11-23T12:00:00Z (90m left)\n"
        "endpoint  http://127.0.0.1:2379\n"
        "member    DOWN since 2026-11-23T10:00:00Z: Status: deadline of 5s exceeded\n"
        "config    RELOAD FAILED, running the previous config: config.yaml:3:1: bad\n"
        "timeouts  heartbeat 100ms (/proc/812/cmdline), election 1s (etcd's default)\n"
        "tuning    TUNING WARN: heartbeat too low (etcd-warden job tuning)\n"
        "\n"
        "JOB         ENABLED  LAST     AGE  TOOK    NEXT     SUMMARY\n"
        "compaction  yes      never    -    -       paused\n"
        "defrag      no       never    -    -       -\n"
        "status      yes      skipped  2d   5.000s  running  etcd unreachable\n");
}

TEST_CASE("ctl render: status before the first poll, paused until resumed, no jobs",
          "[control][ctl]") {
  CHECK(status_text(R"({"version": "0.1.0", "health": "starting", "paused": true,
                        "paused_until": null, "paused_remaining_seconds": null,
                        "member": {"polled": false, "up": false, "endpoint": "https://a:2379"},
                        "jobs": []})") ==
        "etcd-warden 0.1.0: starting, PAUSED until resumed\n"
        "endpoint  https://a:2379\n"
        "member    first status poll pending\n"
        "config    ok\n"
        "\n"
        "JOB  ENABLED  LAST  AGE  TOOK  NEXT  SUMMARY\n");
}

TEST_CASE("ctl render: the member line names its role, db without or with a zero quota, alarms",
          "[control][ctl]") {
  const json base = {{"name", "m2"}, {"id", "2"}, {"version", "3.5.17"}, {"member_count", 5}};
  auto with = [&base](json extra) {
    json m = base;
    m.update(extra);
    return m;
  };
  CHECK(member_line(with({{"is_leader", true}, {"has_leader", true}})) ==
        "member    m2 (leader), id 2, etcd 3.5.17, 5 members");
  CHECK(member_line(with({{"has_leader", true}, {"leader_id", "1"}})) ==
        "member    m2 (follower of 1), id 2, etcd 3.5.17, 5 members");
  // A learner says so, whatever else is set.
  CHECK(member_line(with({{"is_learner", true}, {"is_leader", true}, {"has_leader", true}})) ==
        "member    m2 (learner), id 2, etcd 3.5.17, 5 members");
  CHECK(member_line(with({{"has_leader", false}})) ==
        "member    m2 (NO LEADER), id 2, etcd 3.5.17, 5 members");

  const auto text = status_text(R"({"version": "0.1.0", "health": "alarm",
    "member": {"polled": true, "up": true, "is_leader": true, "db_size_bytes": 1572864,
               "db_in_use_bytes": 900, "quota_bytes": null,
               "alarms": [{"type": "NOSPACE", "member_id": "1"},
                          {"type": "CORRUPT", "member_id": "8e9e05c52164694d"}]}})");
  CHECK_THAT(text, Catch::Matchers::Contains("\ndb        1.5MiB, 900B in use\n"));
  CHECK_THAT(text,
             Catch::Matchers::Contains("\nalarms    NOSPACE on 1, CORRUPT on 8e9e05c52164694d\n"));

  const auto zero_quota = status_text(R"({"member": {"polled": true, "up": true,
    "db_size_bytes": 2048, "db_in_use_bytes": 1024, "quota_bytes": 0}})");
  CHECK_THAT(zero_quota,
             Catch::Matchers::Contains("\ndb        2KiB of 0B quota (0%), 1KiB in use\n"));
  const auto full = status_text(R"({"member": {"polled": true, "up": true,
    "db_size_bytes": 2147483648, "db_in_use_bytes": 2147483648, "quota_bytes": 2147483648}})");
  CHECK_THAT(full,
             Catch::Matchers::Contains("\ndb        2GiB of 2GiB quota (100%), 2GiB in use\n"));
}

TEST_CASE("ctl render: status with fields missing or of the wrong type falls back",
          "[control][ctl]") {
  // Nothing but a member that is up: every value falls back. (The headline is
  // not trimmed; table lines are.)
  CHECK(status_text(R"({"member": {"polled": true, "up": true}})") ==
        "etcd-warden : \n"
        "endpoint\n"
        "member    ? (NO LEADER), id ?, etcd , 0 members\n"
        "db        ?, ? in use\n"
        "revision  0, raft index 0 term 0\n"
        "alarms    none\n"
        "config    ok\n"
        "\n"
        "JOB  ENABLED  LAST  AGE  TOOK  NEXT  SUMMARY\n");
  // A down member without its error or since when.
  CHECK(status_text(R"({"member": {"polled": true}})") ==
        "etcd-warden : \n"
        "endpoint\n"
        "member    DOWN since ?:\n"
        "config    ok\n"
        "\n"
        "JOB  ENABLED  LAST  AGE  TOOK  NEXT  SUMMARY\n");
  // Strings and sizes of the wrong type, and a job with only a name or a result.
  CHECK(status_text(R"({"version": 1, "health": null,
    "member": {"polled": true, "up": true, "name": 7, "id": null, "db_size_bytes": "big"},
    "jobs": [{"name": "x"},
             {"name": "y", "enabled": true, "last_result": "success"},
             {"name": "z", "last_result": 3, "next_run_in_seconds": "soon"}]})") ==
        "etcd-warden : \n"
        "endpoint\n"
        "member    ? (NO LEADER), id ?, etcd , 0 members\n"
        "db        ?, ? in use\n"
        "revision  0, raft index 0 term 0\n"
        "alarms    none\n"
        "config    ok\n"
        "\n"
        "JOB  ENABLED  LAST     AGE  TOOK    NEXT  SUMMARY\n"
        "x    no       never    -    -       -\n"
        "y    yes      success  0s   0.000s  -\n"
        "z    no       never    -    -       -\n");
  // No member object, or a flag that is not a bool: not the JSON expected.
  CHECK_THROWS_AS(status_text(R"({"version": "0.1.0", "jobs": []})"), json::exception);
  CHECK_THROWS_AS(status_text(R"({"paused": "yes", "member": {}})"), json::exception);
  CHECK_THROWS_AS(status_text(R"({"member": {"polled": 1}})"), json::exception);
}

TEST_CASE("ctl render: the status table reads what status_json writes", "[control][ctl]") {
  status::StatusBoard board;
  auto& m = board.member;
  m.polled = true;
  m.up = true;
  m.endpoint = "https://127.0.0.1:2379";
  m.member_id = 0x8e9e05c52164694dULL;
  m.leader_id = m.member_id;
  m.name = "m1";
  m.version = "3.4.23";
  m.db_size = Bytes::mib(20);
  m.db_in_use = Bytes::mib(12);
  m.quota = Bytes::gib(2);
  m.revision = 1234;
  m.raft_index = 99;
  m.raft_term = 3;
  m.member_count = 3;
  m.alarms.push_back({.member_id = 0x1234, .type = "NOSPACE"});
  board.jobs["status"] = {.outcome = sched::Outcome::success,
                          .summary = "db 20MiB",
                          .finished_at = at(100),
                          .seconds = 0.25};
  board.jobs["defrag"] = {.outcome = sched::Outcome::failure,
                          .summary = "lock busy",
                          .finished_at = at(40),
                          .seconds = 1.5};
  board.paused = true;
  board.paused_until = at(700);
  board.config_problem = "config.yaml:3:1: bad";
  board.tuning_alert = "TUNING WARN: election timeout 1000ms";
  const std::vector<control::JobView> views{
      {.name = "status", .next_in = 300ms},
      {.name = "defrag", .running = true},
      {.name = "snapshot", .enabled = false},
  };

  CHECK(status_text(control::status_json(board, views, at(160), "0.1.0")) ==
        "etcd-warden 0.1.0: alarm, PAUSED until 2026-11-23T00:11:40Z (9m left)\n"
        "endpoint  https://127.0.0.1:2379\n"
        "member    m1 (leader), id 8e9e05c52164694d, etcd 3.4.23, 3 members\n"
        "db        20MiB of 2GiB quota (1%), 12MiB in use\n"
        "revision  1234, raft index 99 term 3\n"
        "alarms    NOSPACE on 1234\n"
        "config    RELOAD FAILED, running the previous config: config.yaml:3:1: bad\n"
        "tuning    TUNING WARN: election timeout 1000ms (etcd-warden job tuning)\n"
        "\n"
        "JOB       ENABLED  LAST     AGE  TOOK    NEXT     SUMMARY\n"
        "status    yes      success  60s  0.250s  in 0s    db 20MiB\n"
        "defrag    yes      failure  2m   1.500s  running  lock busy\n"
        "snapshot  no       never    -    -       -\n");
}

TEST_CASE("ctl render: snapshots, verified or with the problem, fallbacks, none",
          "[control][ctl]") {
  CHECK(snapshots_text(R"([
    {"file": "etcd-m1-r000000001234-20261123T000000Z.db.zst", "taken_at": "2026-11-23T00:00:00Z",
     "age_seconds": 7300.2, "revision": 1234, "file_bytes": 1572864, "verified": true,
     "problem": null},
    {"file": "etcd-m1-r000000000099-20261121T000000Z.db", "taken_at": "2026-11-21T00:00:00Z",
     "age_seconds": 200000, "revision": 99, "file_bytes": 900, "verified": false,
     "problem": "sha256 mismatch"}])") ==
        "FILE                                           TAKEN                 AGE  REVISION  SIZE"
        "    VERIFIED\n"
        "etcd-m1-r000000001234-20261123T000000Z.db.zst  2026-11-23T00:00:00Z  2h   1234      "
        "1.5MiB  yes\n"
        "etcd-m1-r000000000099-20261121T000000Z.db      2026-11-21T00:00:00Z  2d   99        900B"
        "    NO: sha256 mismatch\n");
  // Every field missing: empty, 0s, 0, ?, not verified (no problem given).
  CHECK(snapshots_text(R"([{}])") ==
        "FILE  TAKEN  AGE  REVISION  SIZE  VERIFIED\n"
        "             0s   0         ?     NO:\n");
  CHECK(snapshots_text("[]") == "no snapshots\n");
}

// --- Lines ----------------------------------------------------------------------

TEST_CASE("ctl render: a job's result, a started job, the pause state, as text and as JSON",
          "[control][ctl]") {
  std::ostringstream out;
  print_finished({.job = "status", .result = "success", .summary = "db 20MiB", .seconds = 0.2504},
                 false, out);
  print_finished({.job = "defrag", .result = "failure", .summary = "", .seconds = 12}, false, out);
  CHECK(out.str() ==
        "status: success in 0.250s (db 20MiB)\n"
        "defrag: failure in 12.000s\n");
  out.str("");
  print_finished({.job = "status", .result = "success", .summary = "db 20MiB", .seconds = 0.25},
                 true, out);
  CHECK(out.str() ==
        "{\n  \"job\": \"status\",\n  \"result\": \"success\",\n  \"seconds\": 0.25,\n"
        "  \"summary\": \"db 20MiB\"\n}\n");

  out.str("");
  print_started("snapshot", false, out);
  CHECK(out.str() == "job snapshot started\n");
  out.str("");
  print_started("snapshot", true, out);
  CHECK(out.str() == "{\n  \"job\": \"snapshot\",\n  \"started\": true\n}\n");

  const auto pause_text = [](const char* status, bool as_json) {
    std::ostringstream o;
    print_pause_state(json::parse(status), as_json, o);
    return o.str();
  };
  const char* resumed = R"({"paused": false, "paused_until": null})";
  const char* for_a_while = R"({"paused": true, "paused_until": "2026-11-23T12:00:00Z"})";
  const char* until_resumed = R"({"paused": true, "paused_until": null})";
  CHECK(pause_text(resumed, false) == "maintenance resumed\n");
  CHECK(pause_text(for_a_while, false) ==
        "maintenance paused until 2026-11-23T12:00:00Z (`etcd-warden ctl resume` ends it "
        "sooner)\n");
  CHECK(pause_text(until_resumed, false) == "maintenance paused until `etcd-warden ctl resume`\n");
  CHECK(pause_text(resumed, true) == "{\n  \"paused\": false,\n  \"paused_until\": null\n}\n");
  CHECK(pause_text(for_a_while, true) ==
        "{\n  \"paused\": true,\n  \"paused_until\": \"2026-11-23T12:00:00Z\"\n}\n");
  // The text falls back to "not paused"; the JSON repeats the fields and so needs them.
  CHECK(pause_text("{}", false) == "maintenance resumed\n");
  CHECK_THROWS_AS(pause_text(R"({"paused": true})", true), json::exception);
}
