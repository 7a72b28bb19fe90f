// support/etcd_log against lines captured from real members: etcd 3.4.23
// (Debian 12, text) and etcd 3.5.16 (Debian 13, JSON), each in a 3-member
// cluster on loopback that ran `etcdctl defrag` on its leader and then
// `etcdctl move-leader` (2026-12-02). Member IDs and paths are as logged.
#include <catch2/catch.hpp>

#include <ctime>
#include <string>

#include "support/etcd_log.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

// etcd 3.4's leader: its own (capnslog) lines and its raft library's.
const std::string kLog34 =
    R"([WARNING] Deprecated '--logger=capnslog' flag is set; use '--logger=zap' flag instead
2026-12-02 19:18:35.339104 I | etcdmain: etcd Version: 3.4.23
raft2026/12/02 19:18:35 INFO: b33de4e81560ff50 became leader at term 2
raft2026/12/02 19:18:35 INFO: raft.node: b33de4e81560ff50 elected leader b33de4e81560ff50 at term 2
2026-12-02 19:18:35.921729 N | etcdserver/api/v3rpc: starting to defragment the storage backend...
2026-12-02 19:18:35.923683 N | etcdserver/api/v3rpc: finished defragmenting the storage backend
2026-12-02 19:18:36.043620 I | etcdserver: b33de4e81560ff50 starts leadership transfer from b33de4e81560ff50 to a71287c10dce1658
raft2026/12/02 19:18:36 INFO: b33de4e81560ff50 [term 2] starts to transfer leadership to a71287c10dce1658
raft2026/12/02 19:18:36 INFO: raft.node: b33de4e81560ff50 lost leader b33de4e81560ff50 at term 3
raft2026/12/02 19:18:36 INFO: raft.node: b33de4e81560ff50 elected leader a71287c10dce1658 at term 3
2026-12-02 19:18:36.144350 I | etcdserver: b33de4e81560ff50 finished leadership transfer from b33de4e81560ff50 to a71287c10dce1658 (took 100.794012ms)
)";

// etcd 3.5's leader, the same steps (zap JSON, UTC).
const std::string kLog35 =
    R"({"level":"info","ts":"2026-12-02T19:11:03.257894Z","caller":"etcdmain/etcd.go:73","msg":"Running: ","args":["etcd","--name=a"]}
{"level":"info","ts":"2026-12-02T19:11:05.767140Z","logger":"raft","caller":"etcdserver/zap_raft.go:77","msg":"77fbfd6041c9f8ba became leader at term 2"}
{"level":"info","ts":"2026-12-02T19:11:05.767147Z","logger":"raft","caller":"etcdserver/zap_raft.go:77","msg":"raft.node: 77fbfd6041c9f8ba elected leader 77fbfd6041c9f8ba at term 2"}
=== etcd-warden test fixture: starting m1 ===
{"level":"info","ts":"2026-12-02T19:11:05.842008Z","caller":"v3rpc/maintenance.go:92","msg":"starting defragment"}
{"level":"info","ts":"2026-12-02T19:11:05.847324Z","caller":"backend/backend.go:509","msg":"defragmenting","path":"da/member/snap/db","current-db-size-bytes":20480,"current-db-size":"20 kB","current-db-size-in-use-bytes":16384,"current-db-size-in-use":"16 kB"}
{"level":"info","ts":"2026-12-02T19:11:05.863505Z","caller":"backend/backend.go:561","msg":"finished defragmenting directory","path":"da/member/snap/db","current-db-size-bytes-diff":0,"current-db-size-bytes":20480,"current-db-size":"20 kB","current-db-size-in-use-bytes-diff":-4096,"current-db-size-in-use-bytes":12288,"current-db-size-in-use":"12 kB","took":"21.442669ms"}
{"level":"info","ts":"2026-12-02T19:11:05.863547Z","caller":"v3rpc/maintenance.go:100","msg":"finished defragment"}
{"level":"info","ts":"2026-12-02T19:11:09.120087Z","caller":"etcdserver/server.go:1503","msg":"leadership transfer starting","local-member-id":"77fbfd6041c9f8ba","current-leader-member-id":"77fbfd6041c9f8ba","transferee-member-id":"a023d910eeb241cb"}
{"level":"info","ts":"2026-12-02T19:11:09.120198Z","logger":"raft","caller":"etcdserver/zap_raft.go:77","msg":"77fbfd6041c9f8ba [term 2] starts to transfer leadership to a023d910eeb241cb"}
{"level":"info","ts":"2026-12-02T19:11:09.128296Z","logger":"raft","caller":"etcdserver/zap_raft.go:77","msg":"raft.node: 77fbfd6041c9f8ba lost leader 77fbfd6041c9f8ba at term 3"}
{"level":"info","ts":"2026-12-02T19:11:09.220697Z","caller":"etcdserver/server.go:1520","msg":"leadership transfer finished","local-member-id":"77fbfd6041c9f8ba","old-leader-member-id":"77fbfd6041c9f8ba","new-leader-member-id":"a023d910eeb241cb","took":"100.608411ms"}
)";

// The member that took over in 3.5: it became leader, started no transfer.
const std::string kTransferee35 =
    R"({"level":"info","ts":"2026-12-02T19:11:09.123028Z","logger":"raft","caller":"etcdserver/zap_raft.go:77","msg":"a023d910eeb241cb [term 2] received MsgTimeoutNow from 77fbfd6041c9f8ba and starts an election to get leadership."}
{"level":"info","ts":"2026-12-02T19:11:09.128801Z","logger":"raft","caller":"etcdserver/zap_raft.go:77","msg":"a023d910eeb241cb became leader at term 3"}
)";

LogTime utc(year_month_day day, microseconds time_of_day) {
  return LogTime(sys_days(day)) + time_of_day;
}

// etcd 3.4 logs local time: the expectation is built the same way.
LogTime local(int y, int mo, int d, int h, int mi, int s, int us = 0) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  tm.tm_isdst = -1;
  return system_clock::from_time_t(std::mktime(&tm)) + microseconds(us);
}

}  // namespace

TEST_CASE("etcd log 3.4: times of etcd's own lines and of the raft library's", "[etcd_log]") {
  CHECK(parse_log_time("2026-12-02 19:18:35.921729 N | etcdserver/api/v3rpc: starting to "
                       "defragment the storage backend...") ==
        local(2026, 12, 2, 19, 18, 35, 921729));
  CHECK(parse_log_time("raft2026/12/02 19:18:36 INFO: b33de4e81560ff50 became leader at term 3") ==
        local(2026, 12, 2, 19, 18, 36));
  CHECK_FALSE(parse_log_time("[WARNING] Deprecated '--logger=capnslog' flag is set"));
  CHECK_FALSE(parse_log_time("=== etcd-warden test fixture: starting m1 ==="));
  const auto e = parse_log_line("2026-12-02 19:18:35.339104 I | etcdmain: etcd Version: 3.4.23");
  REQUIRE(e);
  CHECK_FALSE(e->json);
  CHECK(e->message.ends_with("etcd Version: 3.4.23"));
}

TEST_CASE("etcd log 3.4: defrag, election and transfer from a real leader", "[etcd_log]") {
  const auto defrags = defrag_intervals(kLog34);
  REQUIRE(defrags.size() == 1);
  CHECK(defrags[0].start == local(2026, 12, 2, 19, 18, 35, 921729));
  CHECK(defrags[0].end == local(2026, 12, 2, 19, 18, 35, 923683));
  CHECK(leader_elections(kLog34) == std::vector<LogTime>{local(2026, 12, 2, 19, 18, 35)});
  CHECK(leader_transfers(kLog34) == std::vector<LogTime>{local(2026, 12, 2, 19, 18, 36, 43620)});
}

TEST_CASE("etcd log 3.5: JSON lines, UTC with microseconds", "[etcd_log]") {
  const auto e = parse_log_line(
      R"({"level":"info","ts":"2026-12-02T19:11:05.842008Z","caller":"v3rpc/maintenance.go:92","msg":"starting defragment"})");
  REQUIRE(e);
  CHECK(e->json);
  CHECK(e->message == "starting defragment");
  CHECK(e->time == utc(2026y / 12 / 2, 19h + 11min + 5s + 842008us));
  // The client library's (and 3.4's --logger=zap) ISO 8601 with milliseconds and an offset.
  CHECK(parse_log_time(R"({"level":"warn","ts":"2026-12-02T19:16:24.475Z","msg":"retrying"})") ==
        utc(2026y / 12 / 2, 19h + 16min + 24s + 475ms));
  CHECK(parse_log_time(R"({"ts":"2026-12-02T20:16:24.475+0100","msg":"x"})") ==
        utc(2026y / 12 / 2, 19h + 16min + 24s + 475ms));
  CHECK(parse_log_time(R"({"ts":"2026-12-02T17:46:24-01:30","msg":"x"})") ==
        utc(2026y / 12 / 2, 19h + 16min + 24s));
  CHECK(parse_log_time(R"({"ts":1764702684.5,"msg":"x"})") == LogTime(seconds(1764702684)) + 500ms);
  CHECK_FALSE(parse_log_time(R"({"level":"info","msg":"no time"})"));
  CHECK_FALSE(parse_log_time(R"({"level":"info","ts":"yesterday","msg":"x"})"));
  CHECK_FALSE(parse_log_time("{not json"));
}

TEST_CASE("etcd log 3.5: defrag, election and transfer from a real leader", "[etcd_log]") {
  // The maintenance server's start/finish, not bbolt's "defragmenting" and
  // "finished defragmenting directory" inside them.
  const auto defrags = defrag_intervals(kLog35);
  REQUIRE(defrags.size() == 1);
  CHECK(defrags[0].start == utc(2026y / 12 / 2, 19h + 11min + 5s + 842008us));
  CHECK(defrags[0].end == utc(2026y / 12 / 2, 19h + 11min + 5s + 863547us));
  CHECK(leader_elections(kLog35) ==
        std::vector<LogTime>{utc(2026y / 12 / 2, 19h + 11min + 5s + 767140us)});
  CHECK(leader_transfers(kLog35) ==
        std::vector<LogTime>{utc(2026y / 12 / 2, 19h + 11min + 9s + 120087us)});
  CHECK(leader_elections(kTransferee35) ==
        std::vector<LogTime>{utc(2026y / 12 / 2, 19h + 11min + 9s + 128801us)});
  CHECK(leader_transfers(kTransferee35).empty());
}

TEST_CASE("etcd log: a defrag still running, a failed one, and overlaps", "[etcd_log]") {
  // Running: the start line alone.
  const auto running = defrag_intervals(
      R"({"level":"info","ts":"2026-12-02T19:11:05.842008Z","caller":"v3rpc/maintenance.go:92","msg":"starting defragment"})"
      "\n");
  REQUIRE(running.size() == 1);
  CHECK_FALSE(running[0].end);
  // Failed: etcd's maintenance server logs these messages when Defrag returns
  // an error (3.4 text, 3.5 JSON); written here, not captured.
  const auto failed34 = defrag_intervals(
      "2026-12-02 19:18:35.921729 N | etcdserver/api/v3rpc: starting to defragment the storage "
      "backend...\n"
      "2026-12-02 19:18:36.000001 E | etcdserver/api/v3rpc: failed to defragment the storage "
      "backend (disk full)\n");
  REQUIRE(failed34.size() == 1);
  CHECK(failed34[0].end == local(2026, 12, 2, 19, 18, 36, 1));
  const auto failed35 = defrag_intervals(
      R"({"level":"info","ts":"2026-12-02T19:11:05.000000Z","msg":"starting defragment"}
{"level":"warn","ts":"2026-12-02T19:11:06.000000Z","msg":"failed to defragment","error":"disk full"}
)");
  REQUIRE(failed35.size() == 1);
  CHECK(failed35[0].end == utc(2026y / 12 / 2, 19h + 11min + 6s));

  const LogTime t0 = utc(2026y / 12 / 2, 19h);
  CHECK(overlap({t0, t0 + 1s}, {t0 + 500ms, t0 + 2s}));
  CHECK_FALSE(overlap({t0, t0 + 1s}, {t0 + 2s, t0 + 3s}));
  CHECK(overlap({t0, std::nullopt}, {t0 + 1h, t0 + 2h}));
}
