// Compaction, coordinated defragmentation and NOSPACE recovery against real
// 3-member etcd clusters with one warden per member. Ordering is checked from
// what etcd itself logged (defrag start/finish, elections), never from sleeps.
#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <catch2/catch.hpp>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <memory>
#include <regex>

#include "etcd_warden/coord/lease_lock.hpp"
#include "support/etcd_cluster.hpp"
#include "support/etcd_data.hpp"
#include "support/etcd_log.hpp"
#include "support/etcd_writer.hpp"
#include "support/http_get.hpp"
#include "support/maintenance_wardens.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_CASE(
    "lease lock: keep-alives hold it past its TTL, a second taker sees the holder, release "
    "frees it at once",
    "[maintenance][lock]") {
  namespace coord = etcd_warden::coord;
  namespace asio = etcd_warden::asio;
  EtcdCluster cluster({.members = 1});
  const std::string ep = cluster.member(0).client_url;
  asio::io_context io;
  etcd_warden::config::Etcd cfg;
  cfg.endpoints = {ep};
  cfg.request_timeout = 2s;
  auto made = etcd_warden::etcd::Client::create(cfg, io.get_executor());
  REQUIRE(made.ok());
  auto client = *made;

  const etcd_warden::sched::SystemClock clock;
  struct Seen {
    coord::LeaseLock::Outcome first{}, second{};
    std::string second_holder;
    bool held_after_wait = false, lost = true, gone_after_release = false;
  } seen;
  auto body = [&]() -> etcd_warden::Task<void> {
    auto take = coord::LeaseLock::try_acquire(client, clock, "/t/lock", "holder=a", 2s);
    auto first = co_await std::move(take);
    seen.first = first.outcome;
    if (!first.lock) co_return;
    auto again = coord::LeaseLock::try_acquire(client, clock, "/t/lock", "holder=b", 2s);
    auto second = co_await std::move(again);
    seen.second = second.outcome;
    seen.second_holder = second.holder;
    // Three TTLs: only the keep-alives can keep the key.
    asio::steady_timer timer(io, 6s);
    auto wait = timer.async_wait(asio::use_awaitable);
    co_await std::move(wait);
    seen.held_after_wait = get_value(ep, "/t/lock") == "holder=a";
    seen.lost = first.lock->lost();
    auto release = first.lock->release();
    co_await std::move(release);
    seen.gone_after_release = get_value(ep, "/t/lock").empty();
  };
  asio::co_spawn(io, body(), asio::detached);
  io.run();
  CHECK(seen.first == coord::LeaseLock::Outcome::held);
  CHECK(seen.second == coord::LeaseLock::Outcome::busy);
  CHECK(seen.second_holder == "holder=a");
  CHECK(seen.held_after_wait);
  CHECK_FALSE(seen.lost);
  CHECK(seen.gone_after_release);
}

TEST_CASE(
    "a defrag round: every member once, never two at a time, the leader hands off first, "
    "a writer on all endpoints sees no failure",
    "[maintenance][defrag]") {
  EtcdCluster cluster({.members = 3});
  make_fragmented(cluster.member(0).client_url, 200, 2000, 8 * 1024);  // ~16 MiB free
  const int leader = cluster.wait_for_leader();
  REQUIRE(leader >= 0);
  const std::uint64_t term_before = max_term(cluster);
  const auto round_start = std::chrono::system_clock::now();

  EtcdWriter writer(cluster.endpoint_list());
  auto wardens = start_wardens(cluster, kDefragFast);
  INFO(all_logs(wardens));
  REQUIRE_EVENTUALLY(finished_defrags(cluster, 0) >= 1 && finished_defrags(cluster, 1) >= 1 &&
                         finished_defrags(cluster, 2) >= 1,
                     45s);
  // Every warden reports its success (the last one finishes its health wait).
  REQUIRE_EVENTUALLY(wardens[0]->logged("job=defrag result=success") &&
                         wardens[1]->logged("job=defrag result=success") &&
                         wardens[2]->logged("job=defrag result=success"),
                     15s);
  // Later runs find nothing to reclaim: nothing is defragmented twice.
  REQUIRE_EVENTUALLY(wardens[0]->logged("not needed: db=") &&
                         wardens[1]->logged("not needed: db=") &&
                         wardens[2]->logged("not needed: db="),
                     10s);
  writer.stop();

  for (std::size_t i = 0; i < cluster.size(); ++i) {
    INFO("member m" << i + 1);
    CHECK(finished_defrags(cluster, i) == 1);
  }
  require_no_overlap(cluster);

  // The leader's warden moved leadership before its defrag; that hand-off is
  // the only election of the round.
  const auto& leader_warden = *wardens[static_cast<std::size_t>(leader)];
  CHECK(leader_warden.logged("handing leadership from=m" + std::to_string(leader + 1)));
  CHECK(leader_warden.logged("leadership handed off first"));
  CHECK(max_term(cluster) == term_before + 1);
  std::size_t elections_after_start = 0;
  // The raft library logs whole seconds.
  const auto round_second = std::chrono::floor<std::chrono::seconds>(round_start);
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    for (auto t : leader_elections(cluster.member_log(i))) {
      elections_after_start += t >= round_second;
    }
  }
  CHECK(elections_after_start == 1);

  // etcd drops proposals that reach the leader during the hand-off itself (a
  // few ms); the writer retries those once, as applications do. Nothing else
  // may need a retry, and nothing may fail.
  INFO(writer.failure_summary());
  CHECK(writer.total_requests() > 100);
  CHECK(writer.total_failures() == 0);
  CHECK(writer.total_retried() <= 3);
  for (const auto& w : wardens) {
    CHECK(w->metrics().find("etcd_warden_defrag_reclaimed_bytes_total 0\n") == std::string::npos);
  }
}

TEST_CASE("one member stopped: no warden defragments anything", "[maintenance][defrag]") {
  EtcdCluster cluster({.members = 3});
  make_fragmented(cluster.member(0).client_url, 0, 1000, 8 * 1024);
  cluster.stop_member(2);
  REQUIRE(cluster.wait_for_leader() >= 0);
  auto wardens = start_wardens(cluster, kDefragFast, {0, 1});
  INFO(all_logs(wardens));
  REQUIRE_EVENTUALLY(
      wardens[0]->logged("member m3 is unhealthy") && wardens[1]->logged("member m3 is unhealthy"),
      20s);
  // Several more evaluations, all refused.
  REQUIRE_EVENTUALLY(wardens[0]->count("m3 is unhealthy") >= 3, 15s);
  CHECK(defrag_intervals(cluster.member_log(0)).empty());
  CHECK(defrag_intervals(cluster.member_log(1)).empty());
  CHECK(cluster.etcdctl({"get", "--prefix", "/etcd-warden/defrag/lock"}).output.empty());
}

TEST_CASE("the lock holder killed with SIGKILL: another warden proceeds after the lease expires",
          "[maintenance][defrag]") {
  EtcdCluster cluster({.members = 3});
  // Live data to copy, so each defrag lasts long enough to catch its warden
  // holding the lock.
  make_fragmented(cluster.member(0).client_url, 1000, 1000, 16 * 1024);
  auto wardens = start_wardens(cluster, kDefragFast);
  INFO(all_logs(wardens));
  const std::string lock_key = "/etcd-warden/defrag/lock";
  const std::string ep = cluster.member(0).client_url;

  // Catch the first holder and kill it while it holds the lock.
  std::string holder;
  REQUIRE(wait_until(
      [&] {
        holder = get_value(ep, lock_key);
        return !holder.empty();
      },
      30s, 2ms));
  std::smatch match;
  const std::regex who("holder=m([0-9])");
  REQUIRE(std::regex_search(holder, match, who));
  const std::size_t victim = static_cast<std::size_t>(std::stoi(match[1].str())) - 1;
  wardens[victim]->process->process().kill();
  const auto killed_at = std::chrono::steady_clock::now();
  INFO("killed the warden of m" << victim + 1 << " holding " << holder);

  // The key stays until its lease (3 s TTL) runs out: nobody revoked it.
  REQUIRE(wait_until([&] { return get_value(ep, lock_key) != holder; }, 10s, 20ms));
  const auto held_for = std::chrono::steady_clock::now() - killed_at;
  CHECK(held_for > 1s);
  CHECK(held_for < 6s);

  // The other two members get their defrag, one at a time.
  std::vector<std::size_t> others;
  for (std::size_t i = 0; i < 3; ++i) {
    if (i != victim) others.push_back(i);
  }
  REQUIRE_EVENTUALLY(
      finished_defrags(cluster, others[0]) == 1 && finished_defrags(cluster, others[1]) == 1, 30s);
  require_no_overlap(cluster);
  // Whatever the victim had started finished before anyone else began.
  for (const auto& d : defrag_intervals(cluster.member_log(victim))) CHECK(d.end.has_value());
}

TEST_CASE("SIGTERM while holding the lock: the lease is revoked at once, exit 0",
          "[maintenance][defrag]") {
  EtcdCluster cluster({.members = 3});
  make_fragmented(cluster.member(0).client_url, 1000, 1000, 16 * 1024);
  const int leader = cluster.wait_for_leader();
  REQUIRE(leader >= 0);
  const std::size_t follower = leader == 0 ? 1 : 0;
  // A long TTL: if the lease were left to expire the key would stay 30 s.
  MaintenanceWarden warden(cluster, follower, kDefragFast + "coordination: {lock_ttl: 30s}\n");
  INFO(warden.log());
  REQUIRE(warden.process->wait_ready());
  const std::string lock_key = "/etcd-warden/defrag/lock";
  const std::string ep = cluster.member(0).client_url;
  REQUIRE(wait_until([&] { return !get_value(ep, lock_key).empty(); }, 20s, 2ms));
  const auto stopped_at = std::chrono::steady_clock::now();
  const auto code = warden.process->stop(5s);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(get_value(ep, lock_key).empty());
  CHECK(std::chrono::steady_clock::now() - stopped_at < 5s);
  CHECK(warden.logged("defrag lock released"));
}

TEST_CASE("NOSPACE: the wardens recover with no human action", "[maintenance][alarms]") {
  EtcdCluster cluster({.members = 3, .extra_flags = {"--quota-backend-bytes=16777216"}});
  // Defrag thresholds out of reach: only the alarms job may act here.
  auto wardens = start_wardens(
      cluster,
      "defrag: {every: 1s, jitter: 0s, min_free: 1GiB, max_quota_usage: 1, disk_margin: 1MiB}\n");
  INFO(all_logs(wardens));
  const std::string ep = cluster.member(0).client_url;
  // Every warden has published its free disk space (read by the actor under NOSPACE).
  REQUIRE_EVENTUALLY(count_prefix(ep, "/etcd-warden/disk/") == 3, 15s);

  REQUIRE(fill_until_nospace(ep, 512 * 1024, 200));
  CHECK_THAT(cluster.etcdctl({"alarm", "list"}).output, Catch::Contains("NOSPACE"));

  REQUIRE_EVENTUALLY(
      cluster.etcdctl({"alarm", "list"}).output.empty() && try_put(ep, "/after", "ok").empty(),
      45s);
  CHECK(get_value(cluster.member(1).client_url, "/after") == "ok");
  std::size_t actors = 0;
  for (const auto& w : wardens) actors += w->logged("NOSPACE recovered: compacted") ? 1 : 0;
  CHECK(actors == 1);
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    INFO("member m" << i + 1);
    CHECK(finished_defrags(cluster, i) == 1);
  }
  require_no_overlap(cluster);
  REQUIRE_EVENTUALLY(wardens[0]->metrics().find("etcd_warden_alarm_active{type=\"NOSPACE\"} 0") !=
                         std::string::npos,
                     10s);
}

TEST_CASE("not enough free disk for the copy: defrag refused with a clear reason",
          "[maintenance][defrag]") {
  EtcdCluster cluster({.members = 3});
  make_fragmented(cluster.member(0).client_url, 1500, 1500, 8 * 1024);  // ~12 MiB in use and free
  const fs::path data = cluster.member(0).data_dir;
  const fs::path saved = cluster.member(0).dir / "data.saved";

  // Put member 1's data dir on a small tmpfs: stop it, move the data aside,
  // mount, copy back, shrink the tmpfs to leave less room than the copy needs.
  cluster.stop_member(0);
  fs::rename(data, saved);
  fs::create_directories(data);
  if (::mount("tmpfs", data.c_str(), "tmpfs", 0, "size=512m,mode=0700") != 0) {
    const std::string why = std::strerror(errno);
    fs::remove_all(data);
    fs::rename(saved, data);
    WARN("SKIPPED: cannot mount a tmpfs (" << why << "); this test needs root");
    return;
  }
  struct Unmount {
    fs::path path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{data};
  fs::copy(saved, data, fs::copy_options::recursive);
  struct statvfs before {};
  REQUIRE(::statvfs(data.c_str(), &before) == 0);
  const auto used = (before.f_blocks - before.f_bfree) * before.f_frsize;
  // Room for a few MiB of growth, but not for the ~12 MiB copy.
  const auto size = used + 4 * 1024 * 1024;
  const std::string remount = "size=" + std::to_string(size);
  REQUIRE(::mount("tmpfs", data.c_str(), "tmpfs", MS_REMOUNT, remount.c_str()) == 0);
  cluster.start_member(0);
  REQUIRE(cluster.wait_for_leader() >= 0);

  // The CLI run of the member's warden says why, and does nothing.
  TempDir dir("nodisk");
  write_file(dir / "config.yaml", maintenance_yaml(cluster, 0, 0, kDefragFast));
  auto once = run_cli({"-c", (dir / "config.yaml").string(), "job", "defrag"}, 30s);
  INFO(once.output);
  CHECK(once.exit_code == 0);
  CHECK_THAT(once.output,
             Catch::Contains("defrag: skipped (not enough free disk on " + data.string() + ": "));
  CHECK_THAT(once.output, Catch::Contains("the copy needs"));
  CHECK(defrag_intervals(cluster.member_log(0)).empty());

  // With wardens everywhere, the other members are defragmented and member 1
  // is left alone; the cluster keeps working.
  auto wardens = start_wardens(cluster, kDefragFast);
  INFO(all_logs(wardens));
  REQUIRE_EVENTUALLY(finished_defrags(cluster, 1) == 1 && finished_defrags(cluster, 2) == 1, 30s);
  REQUIRE_EVENTUALLY(wardens[0]->logged("not enough free disk on " + data.string()), 10s);
  CHECK(defrag_intervals(cluster.member_log(0)).empty());
  CHECK(try_put(cluster.member(0).client_url, "/still", "writable").empty());
  wardens.clear();
  cluster.stop_member(0);
}

TEST_CASE("etcd-warden job compact and job defrag run one round in the foreground",
          "[maintenance][cli]") {
  EtcdCluster cluster({.members = 3});
  make_fragmented(cluster.member(0).client_url, 0, 1000, 8 * 1024);
  put_values(cluster.member(0).client_url, "/after-compaction/", 20, 100);
  const int leader = cluster.wait_for_leader();
  REQUIRE(leader >= 0);
  std::vector<std::size_t> followers;
  for (std::size_t i = 0; i < 3; ++i) {
    if (static_cast<int>(i) != leader) followers.push_back(i);
  }
  const std::size_t follower = followers[0];
  TempDir dir("job-cli");
  auto config_for = [&](std::size_t i) {
    const auto path = dir / ("m" + std::to_string(i + 1) + ".yaml");
    write_file(path, maintenance_yaml(cluster, i, 0,
                                      kDefragFast + "compaction: {enabled: true, mode: revision, "
                                                    "retention: 5}\n"));
    return path.string();
  };

  auto not_leader = run_cli({"-c", config_for(follower), "job", "compact"});
  INFO(not_leader.output);
  CHECK(not_leader.exit_code == 0);
  CHECK_THAT(not_leader.output, Catch::Contains("compact: skipped (not the leader"));

  auto compact = run_cli({"-c", config_for(static_cast<std::size_t>(leader)), "job", "compact"});
  INFO(compact.output);
  CHECK(compact.exit_code == 0);
  CHECK_THAT(compact.output, Catch::Contains("compact: success (compacted to revision"));
  CHECK_THAT(compact.output, Catch::Contains("keeping the last 5"));

  auto defrag_follower = run_cli({"-c", config_for(follower), "job", "defrag"});
  INFO(defrag_follower.output);
  CHECK(defrag_follower.exit_code == 0);
  CHECK_THAT(defrag_follower.output, Catch::Contains("defrag: success (member=m"));
  CHECK_THAT(defrag_follower.output, Catch::Contains("reclaimed="));
  CHECK(finished_defrags(cluster, follower) == 1);

  // The leader goes last in a round: not while a follower still needs it.
  auto leader_early =
      run_cli({"-c", config_for(static_cast<std::size_t>(leader)), "job", "defrag"});
  INFO(leader_early.output);
  CHECK_THAT(leader_early.output, Catch::Contains("defrag: skipped (the leader goes last"));
  auto defrag_other = run_cli({"-c", config_for(followers[1]), "job", "defrag"});
  INFO(defrag_other.output);
  CHECK_THAT(defrag_other.output, Catch::Contains("defrag: success (member=m"));

  auto defrag_leader =
      run_cli({"-c", config_for(static_cast<std::size_t>(leader)), "job", "defrag"});
  INFO(defrag_leader.output);
  CHECK(defrag_leader.exit_code == 0);
  CHECK_THAT(defrag_leader.output, Catch::Contains("(leadership handed off first)"));
  CHECK(finished_defrags(cluster, static_cast<std::size_t>(leader)) == 1);
  CHECK(cluster.leader_index() != leader);

  // Nothing left to reclaim: a second run says so and does nothing.
  auto again = run_cli({"-c", config_for(follower), "job", "defrag"});
  CHECK_THAT(again.output, Catch::Contains("defrag: skipped (not needed"));
  CHECK(finished_defrags(cluster, follower) == 1);
  // The lock is released after each run.
  CHECK(get_value(cluster.member(0).client_url, "/etcd-warden/defrag/lock").empty());
}
