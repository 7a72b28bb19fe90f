// Self-tests of the integration test support library: real etcd members,
// etcdctl, TLS material, the NOTIFY_SOCKET listener and the benchmarks'
// loop-device filesystems.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <optional>

#include "support/etcd_cluster.hpp"
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
  const auto wrong = run_command(
      {"/usr/bin/etcdctl", "--endpoints=" + cluster.endpoints(), "--cacert=" + t.ca_cert.string(),
       "--cert=" + t.other_client_cert.string(), "--key=" + t.other_client_key.string(),
       "--dial-timeout=1s", "--command-timeout=1s", "get", "tls-key"},
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
