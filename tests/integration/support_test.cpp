// Self-tests of the integration test support library: real etcd members
// (of whichever version $ETCD_BIN_DIR holds), learners, etcdctl, etcd's own
// log, TLS material, the NOTIFY_SOCKET listener and the benchmarks'
// loop-device filesystems.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "etcd_warden/util/hex_id.hpp"
#include "support/etcd_cluster.hpp"
#include "support/etcd_log.hpp"
#include "support/etcd_tools.hpp"
#include "support/http_get.hpp"
#include "support/loop_filesystem.hpp"
#include "support/notify_listener.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;

TEST_CASE("support: a 3-member cluster serves, elects a leader and survives a member restart",
          "[support]") {
  EtcdCluster cluster({.members = 3});
  REQUIRE(cluster.size() == 3);
  CHECK(cluster.member(1).name == "m2");

  cluster.put("/support/key", "value 1");
  CHECK(cluster.get("/support/key") == std::optional<std::string>("value 1"));
  CHECK_FALSE(cluster.get("/support/absent"));
  const auto got = cluster.etcdctl({"get", "/support/key", "--print-value-only"});
  CHECK(got.exit_code == 0);
  CHECK(got.output == "value 1\n");

  const int leader = cluster.wait_for_leader(10s);
  REQUIRE(leader >= 0);
  const auto metrics = http_get("127.0.0.1", cluster.member(0).metrics_port, "/metrics");
  REQUIRE(metrics);
  CHECK(metrics->find("etcd_server_has_leader 1") != std::string::npos);

  // Kill a follower, write without it, bring it back: it catches up.
  const std::size_t victim = (static_cast<std::size_t>(leader) + 1) % 3;
  cluster.kill_member(victim);
  CHECK_FALSE(cluster.member_running(victim));
  CHECK_FALSE(cluster.member_healthy(victim));
  CHECK(cluster.status()[victim] == std::nullopt);
  cluster.put("/support/key", "value 2");
  cluster.start_member(victim);
  CHECK(cluster.member_healthy(victim));
  REQUIRE_EVENTUALLY(
      cluster.etcdctl_on(victim, {"get", "/support/key", "--print-value-only", "--consistency=s"})
              .output == "value 2\n",
      10s);

  // etcd re-raises SIGTERM after a clean shutdown; another member takes over.
  CHECK(cluster.stop_member(static_cast<std::size_t>(leader)).value_or(0) == -SIGTERM);
  REQUIRE_EVENTUALLY(cluster.leader_index() >= 0, 15s);
  CHECK(cluster.leader_index() != leader);
}

TEST_CASE("support: a TLS member accepts the client cert and refuses the wrong CA", "[support]") {
  EtcdCluster cluster({.members = 1, .tls = true});
  REQUIRE(cluster.tls());
  CHECK(cluster.member(0).client_url.rfind("https://127.0.0.1:", 0) == 0);
  cluster.put("tls-key", "-starts-with-dash");
  CHECK(cluster.get("tls-key") == std::optional<std::string>("-starts-with-dash"));
  CHECK(cluster.leader_index() == 0);

  const TlsMaterial& t = cluster.tls_material();
  const auto wrong =
      run_command({cluster.etcdctl_binary().string(), "--endpoints=" + cluster.endpoints(),
                   "--cacert=" + t.ca_cert.string(), "--cert=" + t.other_client_cert.string(),
                   "--key=" + t.other_client_key.string(), "--dial-timeout=1s",
                   "--command-timeout=1s", "get", "tls-key"},
                  {.env = {{"ETCDCTL_API", "3"}}, .timeout = 20s});
  CHECK(wrong.exit_code != 0);
  CHECK((std::filesystem::status(t.client_key).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}

TEST_CASE("support: a member that cannot start fails with its log", "[support]") {
  try {
    EtcdCluster cluster({.members = 1, .extra_flags = {"--no-such-flag"}});
    FAIL("started with an unknown flag");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    CHECK(what.find("m1") != std::string::npos);
    CHECK(what.find("no-such-flag") != std::string::npos);
  }
}

TEST_CASE("support: NotifyListener collects sd_notify datagrams", "[support]") {
  NotifyListener listener;
  CHECK_FALSE(listener.wait_for("READY=1", 50ms));
  CHECK_FALSE(listener.last_status());

  REQUIRE(send_notify(listener.path(), "STATUS=starting"));
  REQUIRE(send_notify(listener.path(), "READY=1\nSTATUS=ready: 3 jobs\nMAINPID=1"));
  CHECK(listener.wait_for("READY=1", 2s));
  CHECK(listener.wait_for("STATUS=", 2s));
  CHECK_FALSE(listener.wait_for("READY", 50ms, listener.size()));
  CHECK(listener.last_status() == std::optional<std::string>("ready: 3 jobs"));
  CHECK(listener.count("STATUS=") == 2);

  // From another process, as the daemon would.
  TempDir dir;
  Process child(
      {.argv = {"/usr/bin/python3", "-c",
                "import os, socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM);"
                " s.sendto(b'WATCHDOG=1\\nSTATUS=from child', os.environ['NOTIFY_SOCKET'])"},
       .env = {{"NOTIFY_SOCKET", listener.path().string()}},
       .log_path = dir / "child.log"});
  CHECK(child.wait_exit(10s) == 0);
  CHECK(listener.wait_for("WATCHDOG=1", 2s));
  CHECK(listener.wait_for_status([](std::string_view s) { return s == "from child"; }, 2s));
  CHECK(listener.messages().size() == 3);
}

TEST_CASE("support: Process, ports and run_command basics", "[support]") {
  const auto a = free_port();
  const auto b = free_port();
  CHECK(a != b);

  TempDir dir;
  Process sleeper({.argv = {"sleep", "30"}, .log_path = dir / "sleep.log"});
  CHECK(sleeper.running());
  CHECK_FALSE(sleeper.wait_exit(20ms));
  sleeper.signal(SIGTERM);
  CHECK(sleeper.wait_exit(5s) == -SIGTERM);

  const auto r = run_command({"sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(r.exit_code == 3);
  CHECK(r.output == "out\nerr\n");
  const auto t = run_command({"sleep", "10"}, {.timeout = 100ms});
  CHECK(t.timed_out);
  CHECK(t.exit_code == -SIGKILL);
  CHECK_THROWS_AS(Process({.argv = {"/nonexistent/binary"}, .log_path = dir / "x.log"}),
                  std::runtime_error);
  CHECK(tail_lines("a\nb\nc\n", 2) == "b\nc\n");

  CHECK(run_checked({"echo", "fine"}, "test") == "fine\n");
  CHECK_THROWS_WITH(run_checked({"sh", "-c", "echo why >&2; exit 4"}, "step"),
                    "step: `sh -c echo why >&2; exit 4` exited 4:\nwhy\n");
  CHECK_THROWS_WITH(run_checked({"sleep", "10"}, "step", {.timeout = 100ms}),
                    Catch::Matchers::StartsWith("step: `sleep 10` timed out after 100ms"));
}

namespace {

dev_t device_of(const std::filesystem::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_dev : 0;
}

}  // namespace

TEST_CASE("support: LoopFilesystem gives a member an ext4 of its own and leaves nothing behind",
          "[support]") {
  TempDir images("etcd-warden-loop", "/var/tmp");
  const auto image = images / "disk.img";
  constexpr std::uint64_t kSize = 256 << 20;  // etcd preallocates a 64 MiB WAL segment
  std::filesystem::path mounted;
  {
    std::optional<LoopFilesystem> disk;
    try {
      disk.emplace(image, kSize);
    } catch (const std::runtime_error& e) {
      WARN("SKIPPED: " << e.what() << "; this test needs root and loop devices");
      return;
    }
    mounted = disk->path();
    CHECK(disk->device().starts_with("/dev/loop"));
    struct statfs fs {};
    REQUIRE(::statfs(mounted.c_str(), &fs) == 0);
    CHECK(fs.f_type == 0xEF53);  // EXT4_SUPER_MAGIC
    CHECK(device_of(mounted) != device_of(mounted.parent_path()));
    CHECK(std::filesystem::file_size(image) == kSize);
    {
      EtcdCluster cluster({.members = 1, .data_parents = {mounted}});
      CHECK(device_of(cluster.member(0).data_dir) == device_of(mounted));
      cluster.put("/on-its-own-disk", "yes");
      CHECK(cluster.get("/on-its-own-disk") == "yes");
    }  // the member goes before its filesystem
  }
  // Unmounted, its mount point removed, the loop device detached; the image
  // stays for the next phase of a benchmark.
  CHECK_FALSE(std::filesystem::exists(mounted));
  const auto attached = run_command({"losetup", "--associated", image.string()});
  CHECK(attached.exit_code == 0);
  CHECK(attached.output.empty());
  CHECK(std::filesystem::file_size(image) == kSize);
  // One member per filesystem: a list of the wrong length is refused.
  CHECK_THROWS_AS(EtcdCluster({.members = 2, .data_parents = {mounted}}), std::invalid_argument);
}

TEST_CASE("support: a single-member cluster leads itself and survives a restart", "[support]") {
  EtcdCluster cluster({.members = 1});
  REQUIRE(cluster.size() == 1);
  CHECK(cluster.endpoints() == cluster.member(0).client_url);
  CHECK(cluster.etcd_binary() == etcd_tool("etcd"));
  INFO("etcd " << etcd_version() << " from " << etcd_bin_dir());
  CHECK_FALSE(etcd_version().empty());

  CHECK(cluster.leader_index() == 0);
  const auto st = cluster.status();
  REQUIRE(st.size() == 1);
  REQUIRE(st[0]);
  CHECK(st[0]->is_leader());
  CHECK_FALSE(st[0]->is_learner);
  CHECK(cluster.member_id(0) == st[0]->member_id);
  const auto listed = cluster.member_list();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].name == "m1");

  cluster.put("/single", "kept");
  CHECK(cluster.stop_member(0).value_or(0) == -SIGTERM);
  CHECK(cluster.status()[0] == std::nullopt);
  cluster.start_member(0);
  CHECK(cluster.get("/single") == "kept");
  CHECK(cluster.wait_for_leader(10s) == 0);
  CHECK(cluster.member_log(0).find("starting m1 (restart)") != std::string::npos);
}

namespace {

// Member i's own `endpoint status`, as a client would ask it.
nlohmann::json own_status(const EtcdCluster& cluster, std::size_t i) {
  const auto r = cluster.etcdctl_on(i, {"endpoint", "status", "-w", "json"});
  const auto j = nlohmann::json::parse(r.output, nullptr, false);
  if (r.exit_code != 0 || !j.is_array() || j.size() != 1) return nullptr;
  return j[0].value("Status", nlohmann::json());
}

}  // namespace

TEST_CASE("support: a learner joins 3 voters, says so and is removed cleanly, another is promoted",
          "[support]") {
  EtcdCluster cluster({.members = 3});
  cluster.put("/learner/before", "1");

  const std::size_t l = cluster.add_learner();
  REQUIRE(l == 3);
  REQUIRE(cluster.size() == 4);
  const EtcdMember& m = cluster.member(l);
  CHECK(m.name == "m4");
  CHECK(m.learner);
  CHECK(m.client_url.starts_with("http://127.0.0.1:"));
  CHECK(m.peer_url.starts_with("http://127.0.0.1:"));
  // Clients are given the voters only; status() asks the learner too.
  CHECK(cluster.endpoint_list().size() == 3);
  CHECK(cluster.endpoints().find(m.client_url) == std::string::npos);

  // `etcdctl endpoint status` on the learner: IS LEARNER true.
  const auto table = cluster.etcdctl_on(l, {"endpoint", "status", "-w", "table"});
  INFO(table.output);
  CHECK(table.exit_code == 0);
  CHECK(table.output.find("IS LEARNER") != std::string::npos);
  const auto own = own_status(cluster, l);
  REQUIRE(own.is_object());
  CHECK(own.value("isLearner", false));
  const auto st = cluster.status();
  REQUIRE(st.size() == 4);
  REQUIRE(st[l]);
  CHECK(st[l]->is_learner);
  CHECK_FALSE(st[l]->is_leader());
  CHECK(cluster.member_id(l) == st[l]->member_id);
  for (std::size_t i = 0; i < 3; ++i) {
    REQUIRE(st[i]);
    CHECK_FALSE(st[i]->is_learner);
  }
  const auto listed = cluster.member_list();
  REQUIRE(listed.size() == 4);
  const auto entry = std::find_if(listed.begin(), listed.end(),
                                  [&](const EtcdListedMember& e) { return e.name == "m4"; });
  REQUIRE(entry != listed.end());
  CHECK(entry->is_learner);
  CHECK(entry->client_urls == std::vector<std::string>{m.client_url});

  // It replicates what the voters had and what comes after, and its log is captured.
  cluster.put("/learner/after", "2");
  REQUIRE_EVENTUALLY(
      cluster.etcdctl_on(l, {"get", "/learner/after", "--print-value-only", "--consistency=s"})
              .output == "2\n",
      10s);
  CHECK(cluster.member_log(l).find("starting m4 (joining)") != std::string::npos);
  CHECK(cluster.member_log(l).size() > 1000);

  // Removed: it stops by itself, the cluster is three voters again and serves.
  cluster.remove_member(l);
  CHECK(cluster.member(l).removed);
  CHECK_FALSE(cluster.member_running(l));
  CHECK(cluster.member_list().size() == 3);
  CHECK(cluster.status()[l] == std::nullopt);
  cluster.put("/learner/removed", "3");
  REQUIRE(cluster.wait_for_leader(10s) >= 0);

  // A second learner, promoted: a voter like the others.
  const std::size_t p = cluster.add_learner();
  REQUIRE(p == 4);
  CHECK(cluster.member(p).name == "m5");
  cluster.promote_member(p);
  CHECK_FALSE(cluster.member(p).learner);
  CHECK(cluster.endpoint_list().size() == 4);
  REQUIRE_EVENTUALLY(cluster.status()[p] && !cluster.status()[p]->is_learner, 10s);
  CHECK(cluster.get("/learner/removed") == "3");
  cluster.remove_member(p);
  CHECK(cluster.member_list().size() == 3);
}

TEST_CASE("support: etcd's own log shows a defrag, a leadership transfer and the election",
          "[support]") {
  EtcdCluster cluster({.members = 3});
  const int leader = cluster.wait_for_leader();
  REQUIRE(leader >= 0);
  const auto from = static_cast<std::size_t>(leader);
  const std::size_t to = (from + 1) % 3;
  const auto round_start = std::chrono::system_clock::now();

  REQUIRE(cluster.etcdctl_on(from, {"defrag"}).exit_code == 0);
  const auto to_id = etcd_warden::hex_id(cluster.member_id(to));
  const auto moved = cluster.etcdctl_on(from, {"move-leader", to_id});
  INFO(moved.output);
  REQUIRE(moved.exit_code == 0);
  REQUIRE(cluster.wait_for_leader() == static_cast<int>(to));

  const std::string from_log = cluster.member_log(from);
  INFO(tail_lines(from_log, 40));
  const auto defrags = defrag_intervals(from_log);
  REQUIRE(defrags.size() == 1);
  REQUIRE(defrags[0].end);
  CHECK(defrags[0].start <= *defrags[0].end);
  // Whole seconds in 3.4's raft lines: compare from the second the test began.
  const auto since = std::chrono::floor<std::chrono::seconds>(round_start);
  CHECK(defrags[0].start >= since);
  const auto transfers = leader_transfers(from_log);
  REQUIRE(transfers.size() == 1);
  CHECK(*defrags[0].end <= transfers[0]);
  const auto elections = leader_elections(cluster.member_log(to));
  REQUIRE_FALSE(elections.empty());
  CHECK(elections.back() >= std::chrono::floor<std::chrono::seconds>(transfers[0]));
  CHECK(leader_transfers(cluster.member_log(to)).empty());
  for (std::size_t i = 0; i < 3; ++i) {
    if (i != from) CHECK(defrag_intervals(cluster.member_log(i)).empty());
  }
}
