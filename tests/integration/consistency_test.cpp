// The consistency job on a real 3-member cluster: a healthy cluster agrees;
// a member whose data silently diverged is named by the leader's warden,
// shown by every warden (job result, STATUS=, the metric) and holds defrag.
//
// How a member is made to diverge: stop it cleanly, change one byte of a
// marker value in its bbolt file in place, start it again. bbolt checksums
// only its meta pages, and etcd does not re-apply WAL entries at or below the
// consistent index saved in the same file, so the member serves the altered
// value and nothing in etcd 3.4 or 3.5 (corruption checks off by default)
// notices. etcd's own e2e tests corrupt members the same way.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "support/etcd_cluster.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kMarker = "DIVERGE-MARKER-0123456789abcdef";

// Every copy of the marker in the member's db (the live page and stale ones
// in free pages) gets one letter changed; returns how many.
int alter_marker(const fs::path& db) {
  std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  int changed = 0;
  for (auto at = bytes.find(kMarker); at != std::string::npos; at = bytes.find(kMarker, at + 1)) {
    f.seekp(static_cast<std::streamoff>(at + 8));  // "DIVERGE-M" -> "DIVERGE-N"
    f.put('N');
    ++changed;
  }
  return changed;
}

struct Wardens {
  explicit Wardens(const EtcdCluster& cluster) : dir("etcd-warden-consistency") {
    for (std::size_t i = 0; i < cluster.size(); ++i) {
      configs.push_back(dir / ("warden-" + std::to_string(i) + ".yaml"));
      write_file(configs.back(), etcd_config_yaml(cluster, i));
    }
  }
  CommandResult job(std::size_t i, const std::string& name) const {
    return run_cli({"job", name, "-c", configs.at(i).string()}, 60s);
  }
  TempDir dir;
  std::vector<fs::path> configs;
};

}  // namespace

TEST_CASE("consistency: a healthy cluster agrees, and a follower's warden shows the leader's check",
          "[consistency]") {
  EtcdCluster cluster({.members = 3});
  for (int i = 0; i < 20; ++i) cluster.put("/k/" + std::to_string(i), "v" + std::to_string(i));
  REQUIRE(wait_until([&] { return cluster.same_revision(); }, 10s));
  const Wardens wardens(cluster);
  const int leader = cluster.leader_index();
  REQUIRE(leader >= 0);
  const std::size_t follower = (static_cast<std::size_t>(leader) + 1) % cluster.size();

  // Before any check, a follower's warden says so.
  auto r = wardens.job(follower, "consistency");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("consistency: skipped (the leader's warden compares"));
  CHECK_THAT(r.output, Catch::Contains("no result yet"));

  r = wardens.job(static_cast<std::size_t>(leader), "consistency");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("consistency: success (3 members agree at revision "));

  r = wardens.job(follower, "consistency");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("; last: 3 members agree at revision "));
}

TEST_CASE("consistency: a diverged member is named on every warden and defrag is held",
          "[consistency]") {
  EtcdCluster cluster({.members = 3});
  for (int i = 0; i < 5; ++i) cluster.put("/warden/k" + std::to_string(i), "before");
  cluster.put("/diverge", kMarker);
  for (int i = 5; i < 8; ++i) cluster.put("/warden/k" + std::to_string(i), "after");
  REQUIRE(wait_until([&] { return cluster.same_revision(); }, 10s));

  const std::size_t odd = 2;                      // m3
  REQUIRE(cluster.stop_member(odd).has_value());  // a clean stop: bbolt holds everything applied
  REQUIRE(alter_marker(cluster.member(odd).data_dir / "member" / "snap" / "db") >= 1);
  cluster.start_member(odd);
  REQUIRE(wait_until([&] { return cluster.same_revision(); }, 20s));
  // The member serves the altered value from its own store.
  const auto local =
      cluster.etcdctl_on(odd, {"get", "/diverge", "--print-value-only", "--consistency=s"});
  REQUIRE(local.output.find("DIVERGE-NARKER") != std::string::npos);

  const Wardens wardens(cluster);
  REQUIRE(cluster.wait_for_leader() >= 0);
  const auto leader = static_cast<std::size_t>(cluster.leader_index());
  auto r = wardens.job(leader, "consistency");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("consistency: failure (CONSISTENCY MISMATCH: m3 differs at "
                                       "revision "));
  CHECK_THAT(r.output, Catch::Matches("[\\s\\S]*m3 differs at revision [0-9]+: hash [0-9]+, "
                                      "m1 and m2 have [0-9]+[\\s\\S]*"));

  // Every other warden shows it too, and no warden defragments meanwhile.
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    INFO("warden of " << cluster.member(i).name);
    if (i != leader) {
      r = wardens.job(i, "consistency");
      INFO(r.output);
      CHECK(r.exit_code == 1);
      CHECK_THAT(r.output, Catch::Contains("CONSISTENCY MISMATCH: m3 differs"));
    }
    r = wardens.job(i, "defrag");
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Catch::Contains("defrag: skipped (held while CONSISTENCY MISMATCH: m3 "
                                         "differs"));
  }

  // A running follower's warden: STATUS= and the metric.
  const std::size_t follower = (leader + 1) % cluster.size();
  MetricsWarden daemon(etcd_config_yaml(cluster, follower) +
                       "consistency: {every: 1h, jitter: 0s}\n");
  CHECK_EVENTUALLY(daemon.status_contains("CONSISTENCY MISMATCH: m3 differs"), 20s);
  CHECK_EVENTUALLY(daemon.metric_is("etcd_warden_consistency_mismatch 1"), 10s);
}
