// The maintenance jobs on the cluster shapes users run besides three equal
// voters: a single member (every one-control-plane kubeadm cluster), a
// learner being added, and a round while compaction keeps freeing pages.
// Defrags are counted from etcd's own logs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>

#include "support/etcd_cluster.hpp"
#include "support/etcd_data.hpp"
#include "support/etcd_log.hpp"
#include "support/maintenance_wardens.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;

namespace {

// Every defrag of the cluster, by start time: (member index, start).
std::vector<std::pair<std::size_t, LogTime>> defrag_sequence(const EtcdCluster& cluster) {
  std::vector<std::pair<std::size_t, LogTime>> out;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    for (const auto& d : defrag_intervals(cluster.member_log(i))) out.emplace_back(i, d.start);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  return out;
}

// Cut into rounds of `voters` distinct members: a member defragmented a
// second time before every voter had its turn breaks the rule. The text names
// the first break ("" when none).
std::string second_turn_in_a_round(const std::vector<std::pair<std::size_t, LogTime>>& seq,
                                   std::size_t voters) {
  std::vector<std::size_t> round;
  std::size_t number = 1;
  for (const auto& [member, at] : seq) {
    if (std::find(round.begin(), round.end(), member) != round.end()) {
      return "m" + std::to_string(member + 1) + " defragmented twice in round " +
             std::to_string(number) + " (" + std::to_string(round.size()) + " of " +
             std::to_string(voters) + " members done)";
    }
    round.push_back(member);
    if (round.size() == voters) {
      round.clear();
      ++number;
    }
  }
  return "";
}

}  // namespace

TEST_CASE(
    "single member: the leader is defragmented in place, its stall said in the log, STATUS and "
    "metrics",
    "[maintenance][defrag][shapes]") {
  EtcdCluster cluster({.members = 1});
  make_fragmented(cluster.member(0).client_url, 200, 2000, 8 * 1024);  // ~16 MiB free
  REQUIRE(cluster.wait_for_leader() == 0);
  auto wardens = start_wardens(cluster, kDefragFast);
  auto& w = *wardens[0];
  INFO(all_logs(wardens));
  REQUIRE_EVENTUALLY(w.logged("job=defrag result=success"), 30s);
  REQUIRE_EVENTUALLY(w.logged("not needed: db="), 10s);
  CHECK(finished_defrags(cluster, 0) == 1);
  CHECK(w.logged("defrag in place member=m1: the only voting member, so its clients stall"));
  CHECK(w.logged("(in place: the only voting member; its clients stalled for "));
  CHECK_FALSE(w.logged("no healthy voting follower"));
  const auto sent = w.process->listener().messages();
  CHECK(std::any_of(sent.begin(), sent.end(), [](const std::string& m) {
    return m.starts_with("STATUS=DEFRAG m1 in place (only voting member): its clients stall");
  }));
  CHECK(w.metrics().find("etcd_warden_defrag_reclaimed_bytes_total 0\n") == std::string::npos);
  CHECK(w.metrics().find("etcd_warden_job_runs_total{job=\"defrag\",result=\"success\"} 1") !=
        std::string::npos);
  // No election: there was nobody to hand off to.
  CHECK(leader_transfers(cluster.member_log(0)).empty());
  CHECK(try_put(cluster.member(0).client_url, "/after", "ok").empty());
}

TEST_CASE("single member: NOSPACE recovered with no human (compact, defrag in place, disarm)",
          "[maintenance][alarms][shapes]") {
  EtcdCluster cluster({.members = 1, .extra_flags = {"--quota-backend-bytes=16777216"}});
  // Defrag thresholds out of reach: only the alarms job may act here.
  auto wardens = start_wardens(
      cluster,
      "defrag: {every: 1s, jitter: 0s, min_free: 1GiB, max_quota_usage: 1, disk_margin: 1MiB}\n");
  auto& w = *wardens[0];
  INFO(all_logs(wardens));
  const std::string ep = cluster.member(0).client_url;
  REQUIRE(fill_until_nospace(ep, 512 * 1024, 200));
  CHECK_THAT(cluster.etcdctl({"alarm", "list"}).output, Catch::Contains("NOSPACE"));
  // The warden's own word last: it disarms, then proves a write, then says so.
  REQUIRE_EVENTUALLY(cluster.etcdctl({"alarm", "list"}).output.empty() &&
                         try_put(ep, "/after", "ok").empty() &&
                         w.logged("NOSPACE recovered: compacted"),
                     45s);
  CHECK(w.logged("defragmented 1 member(s)"));
  CHECK(w.logged("defrag in place member=m1"));
  CHECK(finished_defrags(cluster, 0) == 1);
  CHECK(get_value(ep, "/after") == "ok");
  REQUIRE_EVENTUALLY(
      w.metrics().find("etcd_warden_alarm_active{type=\"NOSPACE\"} 0") != std::string::npos, 10s);
}

TEST_CASE("two members: the leader still hands off to the other voter",
          "[maintenance][defrag][shapes]") {
  EtcdCluster cluster({.members = 2});
  make_fragmented(cluster.member(0).client_url, 200, 2000, 8 * 1024);
  const int leader = cluster.wait_for_leader();
  REQUIRE(leader >= 0);
  auto wardens = start_wardens(cluster, kDefragFast);
  INFO(all_logs(wardens));
  REQUIRE_EVENTUALLY(finished_defrags(cluster, 0) == 1 && finished_defrags(cluster, 1) == 1, 45s);
  const auto& leader_warden = *wardens[static_cast<std::size_t>(leader)];
  REQUIRE_EVENTUALLY(leader_warden.logged("leadership handed off first"), 15s);
  for (const auto& w : wardens) CHECK_FALSE(w->logged("defrag in place"));
  require_no_overlap(cluster);
}

TEST_CASE("five members: one round, each member once, never two at a time, the leader last",
          "[maintenance][defrag][shapes]") {
  EtcdCluster cluster({.members = 5});
  make_fragmented(cluster.member(0).client_url, 200, 2000, 8 * 1024);
  const int leader = cluster.wait_for_leader();
  REQUIRE(leader >= 0);
  auto wardens = start_wardens(cluster, kDefragFast);
  INFO(all_logs(wardens));
  const auto all_once = [&] {
    for (std::size_t i = 0; i < cluster.size(); ++i) {
      if (finished_defrags(cluster, i) != 1) return false;
    }
    return true;
  };
  REQUIRE_EVENTUALLY(all_once(), 60s);
  REQUIRE_EVENTUALLY(
      wardens[static_cast<std::size_t>(leader)]->logged("leadership handed off first"), 15s);
  const auto seq = defrag_sequence(cluster);
  REQUIRE(seq.size() == 5);
  CHECK(seq.back().first == static_cast<std::size_t>(leader));  // the leader last
  CHECK(second_turn_in_a_round(seq, 5) == "");
  require_no_overlap(cluster);
}

TEST_CASE(
    "a round while compaction keeps freeing pages: each member once per round, the leader last",
    "[maintenance][defrag][shapes]") {
  EtcdCluster cluster({.members = 3});
  const std::string ep = cluster.member(0).client_url;
  make_fragmented(ep, 200, 2000, 8 * 1024);
  REQUIRE(cluster.wait_for_leader() >= 0);
  // Old revisions that only the leader's warden's compaction frees, while
  // the round goes on: each compaction gives already-defragmented followers
  // free pages again.
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    const auto until = std::chrono::steady_clock::now() + 25s;
    while (!stop && std::chrono::steady_clock::now() < until) {
      try {
        put_values(ep, "/churn/", 150, 8 * 1024);
      } catch (const std::exception&) {
        // A write dropped during a hand-off: the next pass writes it again.
      }
    }
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& t;
    ~Join() {
      stop = true;
      t.join();
    }
  } join{stop, churn};
  auto wardens = start_wardens(
      cluster, kDefragFast +
                   "compaction: {enabled: true, mode: revision, retention: 10, every: 2s, "
                   "jitter: 0s}\n");
  INFO(all_logs(wardens));
  // At least two whole rounds happen in that time.
  REQUIRE_EVENTUALLY(defrag_sequence(cluster).size() >= 6, 60s);
  stop = true;
  const auto seq = defrag_sequence(cluster);
  if (const char* dump = std::getenv("WARDEN_TEST_DUMP")) {
    for (std::size_t i = 0; i < wardens.size(); ++i) {
      write_file(std::string(dump) + "/w" + std::to_string(i + 1) + ".log", wardens[i]->log());
    }
  }
  std::string order;
  for (const auto& [member, at] : seq) order += " m" + std::to_string(member + 1);
  INFO("defrag order:" << order);
  CHECK(second_turn_in_a_round(seq, 3) == "");
  // Whether a member that had its turn needed another before the round
  // ended depends on timing; said for the record (the unit test covers it).
  std::size_t waited = 0;
  for (const auto& w : wardens) waited += w->count("already had its turn in this defrag round");
  WARN("a member that had its turn was held back " << waited << " times");
  require_no_overlap(cluster);
}

TEST_CASE(
    "three voters and a learner: voters defragmented once each, the learner's warden healthy and "
    "its member never defragmented, then promoted and defragmented like a follower",
    "[maintenance][defrag][shapes][learner]") {
  EtcdCluster cluster({.members = 3});
  const std::string ep = cluster.member(0).client_url;
  make_fragmented(ep, 200, 2000, 8 * 1024);
  REQUIRE(cluster.wait_for_leader() >= 0);
  const std::size_t learner = cluster.add_learner();
  REQUIRE(cluster.member(learner).learner);

  auto voters = start_wardens(cluster, kDefragFast, {0, 1, 2});
  // The learner's warden knows only its own member, as on a host that was
  // just joined: it finds the voting members through their wardens' reports.
  const std::uint16_t port = free_port();
  std::string yaml = maintenance_yaml(cluster, learner, port, kDefragFast);
  const std::string own = "  endpoints: [\"" + cluster.member(learner).client_url + "\"";
  const auto from = yaml.find(own);
  REQUIRE(from != std::string::npos);
  yaml.replace(from + own.size(), yaml.find(']', from) - from - own.size(), "");
  WardenProcess lw(yaml);
  REQUIRE(lw.wait_ready());
  INFO(all_logs(voters) << "--- learner's warden ---\n" << tail_lines(lw.log(), 60));

  REQUIRE_EVENTUALLY(finished_defrags(cluster, 0) == 1 && finished_defrags(cluster, 1) == 1 &&
                         finished_defrags(cluster, 2) == 1,
                     45s);
  for (const auto& w : voters) REQUIRE_EVENTUALLY(w->logged("job=defrag result=success"), 15s);
  const auto said = [&](const std::string& text) {
    return lw.log().find(text) != std::string::npos;
  };
  REQUIRE_EVENTUALLY(said("defrag result=skipped") &&
                         said("learner: not defragmented (etcd refuses Defragment on a learner"),
                     15s);
  // Its status comes through a voting member: the whole member list, no
  // failure on any poll.
  REQUIRE_EVENTUALLY(
      lw.listener().last_status().value_or("").find("(learner)") != std::string::npos &&
          lw.listener().last_status().value_or("").find("4 members") != std::string::npos,
      20s);
  CHECK_FALSE(said("job=status result=failure"));
  CHECK_FALSE(said("partial status"));
  CHECK(defrag_intervals(cluster.member_log(learner)).empty());
  CHECK(finished_defrags(cluster, 0) + finished_defrags(cluster, 1) +
            finished_defrags(cluster, 2) ==
        3);
  for (const auto& w : voters) CHECK_FALSE(w->logged("defrag in place"));
  require_no_overlap(cluster);

  // Promoted, it is a follower: the next fragmentation gives it its turn.
  cluster.promote_member(learner);
  make_fragmented(ep, 200, 2000, 8 * 1024);
  REQUIRE_EVENTUALLY(finished_defrags(cluster, learner) == 1, 45s);
  require_no_overlap(cluster);
}
