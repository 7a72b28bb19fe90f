#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "etcd_warden/snapshot/retention.hpp"

using namespace etcd_warden;
using namespace etcd_warden::snapshot;
using namespace std::chrono_literals;

namespace {

const sched::WallTime kNow =
    sched::WallTime{std::chrono::sys_days{std::chrono::year{2026} / 11 / 23}};

// Name "s<hours ago>" (+ "u" if unverified), taken that many hours before kNow.
RetentionCandidate snap(int hours_ago, bool verified = true) {
  return {"s" + std::to_string(hours_ago) + (verified ? "" : "u"),
          kNow - std::chrono::hours{hours_ago}, verified};
}

struct Case {
  const char* what;
  std::vector<RetentionCandidate> snapshots;
  unsigned keep_last;
  std::optional<std::chrono::milliseconds> max_age;
  std::vector<std::string> deleted;  // names, in input order
};

std::vector<std::string> names(const std::vector<Deletion>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) out.push_back(d.name);
  return out;
}

}  // namespace

TEST_CASE("retention: table of rules", "[snapshot][retention]") {
  const std::vector<Case> cases{
      {"empty list", {}, 3, std::nullopt, {}},
      {"fewer than keep_last", {snap(1), snap(2)}, 3, std::nullopt, {}},
      {"exactly keep_last", {snap(1), snap(2), snap(3)}, 3, std::nullopt, {}},
      {"beyond keep_last",
       {snap(1), snap(2), snap(3), snap(4), snap(5)},
       3,
       std::nullopt,
       {"s4", "s5"}},
      {"input order does not matter",
       {snap(5), snap(1), snap(4), snap(2), snap(3)},
       2,
       std::nullopt,
       {"s5", "s4", "s3"}},
      {"keep_last 0 still keeps the newest", {snap(1), snap(2)}, 0, std::nullopt, {"s2"}},
      {"keep_last 1", {snap(1), snap(2), snap(3)}, 1, std::nullopt, {"s2", "s3"}},
      {"max_age deletes old ones within keep_last",
       {snap(1), snap(30), snap(50)},
       10,
       std::chrono::milliseconds{24h},
       {"s30", "s50"}},
      {"age exactly max_age is kept", {snap(1), snap(24)}, 10, std::chrono::milliseconds{24h}, {}},
      {"max_age never deletes the newest verified",
       {snap(100), snap(200)},
       10,
       std::chrono::milliseconds{24h},
       {"s200"}},
      {"a single old snapshot survives max_age",
       {snap(1000)},
       10,
       std::chrono::milliseconds{1h},
       {}},
      {"unverified do not count toward keep_last",
       {snap(1, false), snap(2), snap(3, false), snap(4), snap(5)},
       2,
       std::nullopt,
       {"s3u", "s5"}},
      {"unverified newer than every verified is left for a person",
       {snap(1, false), snap(2, false), snap(5)},
       1,
       std::chrono::milliseconds{1h},
       {}},
      {"unverified older than the newest verified is deleted",
       {snap(1), snap(9, false)},
       5,
       std::nullopt,
       {"s9u"}},
      {"only unverified: nothing deleted",
       {snap(1, false), snap(500, false)},
       1,
       std::chrono::milliseconds{1h},
       {}},
      {"failed newest snapshot costs no good one",
       {snap(0, false), snap(6), snap(12), snap(18)},
       3,
       std::nullopt,
       {}},
      {"keep_last and max_age together",
       {snap(1), snap(2), snap(3), snap(30), snap(40), snap(50)},
       4,
       std::chrono::milliseconds{24h},
       {"s30", "s40", "s50"}},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      const auto got = decide_retention(c.snapshots, {c.keep_last, c.max_age}, kNow);
      CHECK(names(got) == c.deleted);
    }
  }
}

TEST_CASE("retention: reasons say why", "[snapshot][retention]") {
  const std::vector<RetentionCandidate> s{snap(1), snap(2), snap(3), snap(100), snap(4, false)};
  const auto got = decide_retention(s, {5, std::chrono::milliseconds{48h}}, kNow);
  REQUIRE(got.size() == 2);
  CHECK(got[0].name == "s100");
  CHECK(got[0].why == DeleteReason::older_than_max_age);
  CHECK(got[0].reason == "older than max_age=2d (age 4d)");
  CHECK(got[1].name == "s4u");
  CHECK(got[1].why == DeleteReason::unverified_superseded);
  CHECK(got[1].reason == "unverified and older than the newest verified snapshot s1");

  const auto beyond = decide_retention(s, {2, std::nullopt}, kNow);
  REQUIRE(names(beyond) == std::vector<std::string>{"s3", "s100", "s4u"});
  CHECK(beyond[0].why == DeleteReason::beyond_keep_last);
  CHECK(beyond[0].reason == "beyond keep_last=2 (3rd newest verified)");
}

TEST_CASE("retention: the newest verified snapshot is never deleted", "[snapshot][retention]") {
  // Every combination of small policies over a mixed list: the invariant holds.
  std::vector<RetentionCandidate> s;
  for (int h = 0; h < 12; ++h) s.push_back(snap(h * 7, h % 3 != 0));
  const auto newest = std::min_element(s.begin(), s.end(), [](const auto& a, const auto& b) {
    if (a.verified != b.verified) return a.verified;
    return a.taken > b.taken;
  });
  REQUIRE(newest->verified);
  for (unsigned keep = 0; keep < 6; ++keep) {
    for (auto age :
         {std::optional<std::chrono::milliseconds>{}, std::optional{std::chrono::milliseconds{1ms}},
          std::optional{std::chrono::milliseconds{10h}}}) {
      const auto got = names(decide_retention(s, {keep, age}, kNow));
      CHECK(std::find(got.begin(), got.end(), newest->name) == got.end());
    }
  }
}

TEST_CASE("retention: a duplicate entry never takes the newest verified file",
          "[snapshot][retention]") {
  const std::vector<RetentionCandidate> s{snap(1), {"s1", kNow - 5h, true}, snap(2)};
  const auto got = names(decide_retention(s, {1, std::nullopt}, kNow));
  CHECK(got == std::vector<std::string>{"s2"});
}
