// jobs/consistency_rule: which revision to hash, what the members' HashKV
// answers say, and the record every warden reads.
#include <catch2/catch.hpp>

#include "etcd_warden/jobs/consistency_rule.hpp"

using namespace etcd_warden::jobs;
using Kind = ConsistencyVerdict::Kind;

namespace {

MemberHash answer(std::uint64_t id, const char* name, std::uint32_t hash,
                  std::int64_t compact = 0) {
  return {id, name, hash, compact};
}

}  // namespace

TEST_CASE("consistency: the revision to hash is what every member applied, above the compaction",
          "[consistency]") {
  CHECK(hash_revision(1000, std::nullopt) == 1000);
  CHECK(hash_revision(1000, 950) == 1000);
  CHECK(hash_revision(1000, 999) == 1000);
  CHECK(hash_revision(1000, 1000) == std::nullopt);  // compacted right to the end
  CHECK(hash_revision(0, std::nullopt) == std::nullopt);
  CHECK(hash_revision(1000, -1) == 1000);  // -1: never compacted (etcd 3.5)
}

TEST_CASE("consistency: equal hashes agree, the odd one out is named", "[consistency]") {
  const auto match =
      judge_hashes(900, {answer(1, "m1", 7), answer(2, "m2", 7), answer(3, "m3", 7)});
  CHECK(match.kind == Kind::match);
  CHECK(match.odd.empty());
  CHECK(match.summary == "3 members agree at revision 900 (hash 7)");

  const auto odd = judge_hashes(
      900, {answer(1, "m1", 146223240), answer(2, "m2", 146223240), answer(3, "m3", 905605177)});
  CHECK(odd.kind == Kind::mismatch);
  CHECK(odd.majority);
  CHECK(odd.odd == std::vector<std::uint64_t>{3});
  CHECK(odd.summary == "m3 differs at revision 900: hash 905605177, m1 and m2 have 146223240");

  const auto five = judge_hashes(10, {answer(1, "m1", 1), answer(2, "m2", 2), answer(3, "m3", 1),
                                      answer(4, "m4", 1), answer(5, "m5", 2)});
  CHECK(five.kind == Kind::mismatch);
  CHECK(five.majority);
  CHECK(five.odd == std::vector<std::uint64_t>{2, 5});
  CHECK(five.summary == "m2 and m5 differ at revision 10: hash 2, m1, m3 and m4 have 1");
}

TEST_CASE("consistency: no majority says so, different compactions compare nothing",
          "[consistency]") {
  const auto two = judge_hashes(10, {answer(1, "m1", 1), answer(2, "m2", 2)});
  CHECK(two.kind == Kind::mismatch);
  CHECK_FALSE(two.majority);
  CHECK(two.summary ==
        "no majority at revision 10 (m1 1, m2 2): cannot tell which member is the odd one out");

  const auto moved = judge_hashes(10, {answer(1, "m1", 1, 5), answer(2, "m2", 2, 8)});
  CHECK(moved.kind == Kind::inconclusive);
  CHECK(moved.summary == "compact revisions differ (m1 5, m2 8): compared nothing");

  CHECK(judge_hashes(10, {answer(1, "m1", 1)}).kind == Kind::inconclusive);
}

TEST_CASE("consistency: the record round-trips, a damaged one is none", "[consistency]") {
  const ConsistencyRecord r{1764806400,
                            900,
                            true,
                            {0x8e9e05c52164694dULL, 3},
                            "m3 differs at revision 900: hash 1, m1 and m2 have 2",
                            "m1"};
  const auto back = parse_consistency(encode(r));
  REQUIRE(back);
  CHECK(back->checked_unix == r.checked_unix);
  CHECK(back->revision == 900);
  CHECK(back->mismatch);
  CHECK(back->odd == r.odd);
  CHECK(back->summary == r.summary);
  CHECK(back->by == "m1");
  CHECK(consistency_alert(back) ==
        "CONSISTENCY MISMATCH: m3 differs at revision 900: hash 1, m1 and m2 have 2");

  ConsistencyRecord ok = r;
  ok.mismatch = false;
  ok.odd.clear();
  CHECK(consistency_alert(parse_consistency(encode(ok))).empty());
  CHECK(consistency_alert(std::nullopt).empty());

  CHECK_FALSE(parse_consistency(""));
  CHECK_FALSE(parse_consistency("checked=1 revision=2 mismatch=7"));
  CHECK_FALSE(parse_consistency("checked=1 revision=2 mismatch=1 odd=zz"));
}
