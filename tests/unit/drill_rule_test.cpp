// drill/drill_rule and the drill's own files: which etcd can restore which
// snapshot, the preflight's need, what the restored member's answers say,
// and the .drill.json record.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "etcd_warden/drill/child.hpp"
#include "etcd_warden/drill/drill_rule.hpp"
#include "etcd_warden/drill/scratch.hpp"
#include "etcd_warden/drill/throwaway_etcd.hpp"
#include "support/temp_dir.hpp"

using namespace etcd_warden;
using namespace etcd_warden::drill;

TEST_CASE("drill: etcd --version and a sidecar's version parse", "[drill]") {
  CHECK(parse_etcd_version("etcd Version: 3.4.23\nGit SHA: Not provided\nGo Version: go1.19\n") ==
        EtcdVersion{3, 4, 23});
  CHECK(parse_etcd_version("3.5.16") == EtcdVersion{3, 5, 16});
  CHECK(parse_etcd_version("v3.6.0") == EtcdVersion{3, 6, 0});
  CHECK(parse_etcd_version("etcd Version: 3.6.0-alpha.0") == EtcdVersion{3, 6, 0});
  CHECK_FALSE(parse_etcd_version(""));
  CHECK_FALSE(parse_etcd_version("sleep (GNU coreutils) 9.1"));
  CHECK_FALSE(parse_etcd_version("etcd Version: 3.x"));
  CHECK_FALSE(parse_etcd_version("3.4"));
  CHECK(restores_with_etcdutl({3, 5, 0}));
  CHECK_FALSE(restores_with_etcdutl({3, 4, 99}));
}

TEST_CASE("drill: an etcd restores its own minor and the one before, nothing else", "[drill]") {
  CHECK(check_can_restore({3, 4, 23}, EtcdVersion{3, 4, 30}));
  CHECK(check_can_restore({3, 5, 16}, EtcdVersion{3, 4, 23}));
  CHECK(check_can_restore({3, 6, 0}, EtcdVersion{3, 5, 16}));
  CHECK(check_can_restore({3, 5, 16}, std::nullopt));  // sidecar without a version

  const auto newer = check_can_restore({3, 4, 23}, EtcdVersion{3, 5, 16});
  REQUIRE_FALSE(newer);
  CHECK_THAT(newer.error(), Catch::Contains("etcd 3.4.23 cannot restore a snapshot taken by etcd "
                                            "3.5.16") &&
                                Catch::Contains("drill.etcd_bin_dir"));
  const auto leap = check_can_restore({3, 6, 1}, EtcdVersion{3, 4, 23});
  REQUIRE_FALSE(leap);
  CHECK_THAT(leap.error(), Catch::Contains("one minor version at a time"));
  const auto ancient = check_can_restore({3, 2, 0}, std::nullopt);
  REQUIRE_FALSE(ancient);
  CHECK_THAT(ancient.error(), Catch::Contains("etcd 3.2.0 is older than 3.4"));
}

TEST_CASE("drill: the preflight counts the database, its plain copy, the WAL and the margin",
          "[drill]") {
  const auto plain = space_needed(Bytes::mib(100), false, Bytes::mib(256));
  CHECK(plain.total == Bytes::mib(100 + 64 + 256));
  const auto zst = space_needed(Bytes::mib(100), true, Bytes::mib(256));
  CHECK(zst.total == Bytes::mib(200 + 64 + 256));
  CHECK_THAT(zst.breakdown, Catch::Contains("decompressed copy") && Catch::Contains("64MiB WAL"));
  CHECK(check_space("/snap", Bytes::mib(420), plain));
  const auto refused = check_space("/snap", Bytes::mib(419), plain);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() ==
        "/snap has 419MiB free, the drill needs 420MiB (100MiB database + 64MiB WAL + 256MiB "
        "margin (drill.disk_margin))");
}

TEST_CASE("drill: the restored revision is at least the sidecar's", "[drill]") {
  CHECK(check_revision(1234, 1234).ok);
  CHECK_THAT(check_revision(1234, 1234).line, Catch::Contains("as the snapshot's sidecar says"));
  const auto later = check_revision(1240, 1234);
  CHECK(later.ok);
  CHECK_THAT(later.line, Catch::Contains("at least 1234"));
  const auto below = check_revision(1000, 1234);
  CHECK_FALSE(below.ok);
  CHECK_THAT(below.line, Catch::Contains("below the snapshot's 1234"));
}

TEST_CASE("drill: key counts are exact where the live cluster still has the revision", "[drill]") {
  CHECK(check_key_count(57, 100, 57, std::nullopt).ok);
  const auto lost = check_key_count(50, 100, 57, std::nullopt);
  CHECK_FALSE(lost.ok);
  CHECK(lost.line == "50, but the live cluster had 57 at revision 100");
  // Compacted past: only an empty restore of a non-empty cluster is wrong.
  CHECK(check_key_count(50, 100, std::nullopt, 900).ok);
  CHECK_THAT(check_key_count(50, 100, std::nullopt, 900).line,
             Catch::Contains("not compared exactly"));
  CHECK_FALSE(check_key_count(0, 100, std::nullopt, 900).ok);
  CHECK(check_key_count(0, 1, std::nullopt, 0).ok);
  CHECK(check_key_count(5, 100, std::nullopt, std::nullopt).ok);
}

namespace {

LiveHash answered(const char* name, std::uint32_t hash, std::int64_t compact = 0) {
  return {name, true, hash, compact, false, ""};
}

}  // namespace

TEST_CASE("drill: HashKV is compared where the compact revisions agree, else it says why",
          "[drill]") {
  const std::vector<LiveHash> agree{answered("m1", 7), answered("m2", 7), answered("m3", 7)};
  auto h = check_hash(100, 7u, 0, agree);
  CHECK(h.ok);
  CHECK(h.compared);
  CHECK(h.line == "matches m1, m2 and m3 at revision 100 (hash 7)");

  const std::vector<LiveHash> odd{answered("m1", 7), answered("m2", 8)};
  h = check_hash(100, 7u, 0, odd);
  CHECK_FALSE(h.ok);
  CHECK_THAT(h.line, Catch::Contains("m2 has 8"));

  const std::vector<LiveHash> moved{answered("m1", 9, 90), answered("m2", 9, 90)};
  h = check_hash(100, 7u, 0, moved);
  CHECK(h.ok);
  CHECK_FALSE(h.compared);
  CHECK_THAT(h.line,
             Catch::Contains("compacted since the snapshot") && Catch::Contains("m1's is 90"));

  const std::vector<LiveHash> gone{{"m1", false, 0, 0, true, "compacted"}};
  h = check_hash(100, 7u, 0, gone);
  CHECK(h.ok);
  CHECK_FALSE(h.compared);
  CHECK_THAT(h.line, Catch::Contains("compacted past revision 100"));

  const std::vector<LiveHash> silent{{"m1", false, 0, 0, false, "unreachable"}};
  h = check_hash(100, 7u, 0, silent);
  CHECK_FALSE(h.compared);
  CHECK_THAT(h.line, Catch::Contains("no live member answered (m1: unreachable)"));

  h = check_hash(100, std::nullopt, 100, agree);
  CHECK(h.ok);
  CHECK_FALSE(h.compared);
  CHECK_THAT(h.line, Catch::Contains("compact revision"));
}

TEST_CASE("drill: .drill.json round-trips and is written 0600", "[drill]") {
  testing::TempDir dir("drill-state");
  const auto paths = scratch_paths(dir.path());
  auto none = read_last_drill(paths);
  REQUIRE(none);
  CHECK_FALSE(*none);

  const LastDrill last{sched::WallTime(std::chrono::seconds(1795000000)), 2.5, "etcd-m1.db.zst"};
  REQUIRE(write_last_drill(paths, last));
  struct stat st {};
  REQUIRE(::stat(paths.state.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto read = read_last_drill(paths);
  REQUIRE(read);
  REQUIRE(*read);
  CHECK(**read == last);

  CHECK_FALSE(parse_last_drill("[]"));
  CHECK_FALSE(parse_last_drill(R"({"succeeded_at": "yesterday", "duration_seconds": 1})"));
  CHECK_FALSE(
      parse_last_drill(R"({"succeeded_at": "2026-12-04T10:00:00Z", "duration_seconds": -1})"));
}

TEST_CASE("drill: one drill at a time per snapshot directory", "[drill]") {
  testing::TempDir dir("drill-lock");
  const auto paths = scratch_paths(dir.path());
  auto first = take_lock(paths);
  REQUIRE(first);
  auto second = take_lock(paths, std::chrono::milliseconds(100));
  REQUIRE_FALSE(second);
  CHECK_THAT(second.error(), Catch::Contains("another drill is running"));
  first->reset();
  CHECK(take_lock(paths));
}

TEST_CASE("drill: leftovers of a killed drill are removed, its etcd killed", "[drill]") {
  testing::TempDir dir("drill-left");
  const auto paths = scratch_paths(dir.path());
  REQUIRE(make_scratch(paths));
  std::filesystem::create_directories(paths.data / "member");
  // A stand-in for the throwaway etcd: a process whose command line names the data dir.
  auto pid = spawn({"/bin/sh", {"-c", "sleep 600; :", paths.data.string()}, clean_env(), {}});
  REQUIRE(pid);
  REQUIRE(write_pid(paths, *pid));
  // Until it has exec'd, its command line is still ours.
  const auto cmdline = "/proc/" + std::to_string(*pid) + "/cmdline";
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < until) {
    std::ifstream in(cmdline);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    if (text.find(paths.data.string()) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto left = remove_leftovers(paths);
  CHECK(left.errors.empty());
  CHECK_FALSE(std::filesystem::exists(paths.root));
  const auto ended = try_reap(*pid);
  REQUIRE(ended);
  CHECK(ended->signal == SIGKILL);

  // A pid file naming somebody else's process: left alone.
  REQUIRE(make_scratch(paths));
  auto other = spawn({"/bin/sh", {"-c", "exec sleep 600"}, clean_env(), {}});
  REQUIRE(other);
  REQUIRE(write_pid(paths, *other));
  (void)remove_leftovers(paths);
  CHECK_FALSE(try_reap(*other));  // still running
  const auto stopped = stop(*other, std::chrono::seconds(2));
  CHECK(stopped.signal == SIGTERM);
}

TEST_CASE("drill: a child that outlives its deadline is killed with its group", "[drill]") {
  auto r = run({"/bin/sh", {"-c", "sleep 600 & echo started; wait"}, clean_env(), {}},
               std::chrono::milliseconds(300));
  REQUIRE(r);
  CHECK(r->exit.timed_out);
  CHECK(r->output == "started\n");
  auto ok =
      run({"/bin/sh", {"-c", "echo $PATH; echo ${NOTIFY_SOCKET:-none}"}, clean_env({"X=1"}), {}},
          std::chrono::seconds(5));
  REQUIRE(ok);
  CHECK(ok->exit.success());
  CHECK_THAT(ok->output, Catch::Contains("/usr/bin") && Catch::EndsWith("none\n"));
  CHECK(last_line("a\nsecond line\n\n") == "second line");
}

TEST_CASE("drill: the throwaway etcd gets its own name, token and loopback ports", "[drill]") {
  auto ports = pick_ports();
  REQUIRE(ports);
  CHECK(ports->client_port != ports->peer_port);
  const auto restore = restore_args(*ports, "/s/snap.db", "/s/.drill/data");
  CHECK(restore.at(2) == "/s/snap.db");
  CHECK(std::find(restore.begin(), restore.end(), "--initial-cluster-token=etcd-warden-drill") !=
        restore.end());
  const auto args = etcd_args(*ports, "/s/.drill/data", Bytes::gib(3));
  CHECK(std::find(args.begin(), args.end(),
                  "--quota-backend-bytes=" + std::to_string(Bytes::gib(6).value)) != args.end());
  for (const auto& a : args) {
    if (a.find("://") != std::string::npos) CHECK_THAT(a, Catch::Contains("127.0.0.1"));
  }
}
