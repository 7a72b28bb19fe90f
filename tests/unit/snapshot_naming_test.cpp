#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "etcd_warden/snapshot/naming.hpp"

using namespace etcd_warden;
using namespace etcd_warden::snapshot;
using namespace std::chrono;

namespace {

sched::WallTime at(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return sys_days{year{y} / mo / d} + hours{h} + minutes{mi} + seconds{s};
}

}  // namespace

TEST_CASE("naming: the documented shape", "[snapshot][naming]") {
  const auto t = at(2026, 11, 23, 12, 1, 2);
  CHECK(snapshot_file_name("m1", 1234, t, Compression::none) ==
        "etcd-m1-r000000001234-20261123T120102Z.db");
  CHECK(snapshot_file_name("m1", 1234, t, Compression::zstd) ==
        "etcd-m1-r000000001234-20261123T120102Z.db.zst");
  // Sub-seconds are dropped, not rounded.
  CHECK(snapshot_file_name("m1", 1, t + 999ms, Compression::none) ==
        "etcd-m1-r000000000001-20261123T120102Z.db");
  CHECK(snapshot_file_name("m1", -5, t, Compression::none) ==
        "etcd-m1-r000000000000-20261123T120102Z.db");
}

TEST_CASE("naming: round trip", "[snapshot][naming]") {
  struct Case {
    std::string member;
    std::int64_t revision;
    sched::WallTime taken;
    Compression compression;
  };
  const Case cases[] = {
      {"m1", 1234, at(2026, 11, 23, 12, 1, 2), Compression::none},
      {"m1", 1234, at(2026, 11, 23, 12, 1, 2), Compression::zstd},
      {"node-r5.example.com", 0, at(1999, 12, 31, 23, 59, 59), Compression::zstd},
      {"a", 9'223'372'036'854'775'807, at(2028, 2, 29, 0, 0, 0), Compression::none},
      {"x_-.y", 999'999'999'999, at(2026, 1, 1, 0, 0, 0), Compression::zstd},
  };
  for (const auto& c : cases) {
    const auto name = snapshot_file_name(c.member, c.revision, c.taken, c.compression);
    INFO(name);
    const auto parsed = parse_snapshot_file_name(name);
    REQUIRE(parsed);
    CHECK(parsed->member == c.member);
    CHECK(parsed->revision == c.revision);
    CHECK(parsed->taken == c.taken);
    CHECK(parsed->compression == c.compression);
  }
}

TEST_CASE("naming: member names are sanitized into one safe component", "[snapshot][naming]") {
  CHECK(sanitize_member_name("m1") == "m1");
  CHECK(sanitize_member_name("../etc/passwd") == ".._etc_passwd");
  CHECK(sanitize_member_name("node 1:2379") == "node_1_2379");
  CHECK(sanitize_member_name("m\xc3\xbc") == "m__");  // UTF-8 bytes, one '_' each
  CHECK(sanitize_member_name("") == "unnamed");
  CHECK(sanitize_member_name(std::string(300, 'a')) == std::string(100, 'a'));

  const auto t = at(2026, 11, 23, 12, 1, 2);
  const auto name = snapshot_file_name("a/b c", 7, t, Compression::none);
  CHECK(name == "etcd-a_b_c-r000000000007-20261123T120102Z.db");
  CHECK(parse_snapshot_file_name(name)->member == "a_b_c");
}

TEST_CASE("naming: anything else is not a snapshot", "[snapshot][naming]") {
  const char* rejects[] = {
      "",
      "etcd-m1-r000000001234-20261123T120102Z",              // no extension
      "etcd-m1-r000000001234-20261123T120102Z.db.json",      // sidecar
      "etcd-m1-r000000001234-20261123T120102Z.db.zst.json",  // sidecar
      ".etcd-m1-r000000001234-20261123T120102Z.db.partial",  // being written
      ".etcd-m1-r000000001234-20261123T120102Z.db.zst.partial",
      "etcd-m1-r000000001234-20261123T120102Z.db.gz",
      "etcd-m1-r000000001234-20261123T120102Z.zst",
      "snap-m1-r000000001234-20261123T120102Z.db",          // other prefix
      "etcd--r000000001234-20261123T120102Z.db",            // empty member
      "etcd-m1-000000001234-20261123T120102Z.db",           // no 'r'
      "etcd-m1-r1234-20261123T120102Z.db",                  // short revision
      "etcd-m1-r00000000123x-20261123T120102Z.db",          // not digits
      "etcd-m1-r-00000001234-20261123T120102Z.db",          // sign
      "etcd-m1-r99999999999999999999-20261123T120102Z.db",  // overflows int64
      "etcd-m1-r000000001234-20261323T120102Z.db",          // month 13
      "etcd-m1-r000000001234-20260230T120102Z.db",          // 30 February
      "etcd-m1-r000000001234-20261123T240102Z.db",          // hour 24
      "etcd-m1-r000000001234-20261123T120160Z.db",          // second 60
      "etcd-m1-r000000001234-20261123T120102.db",           // no Z
      "etcd-m1-r000000001234-20261123 120102Z.db",
      "etcd-m1-r000000001234_20261123T120102Z.db",
      "etcd-m 1-r000000001234-20261123T120102Z.db",  // unsafe member
      "etcd.db",
      "etcd-m1-r000000001234-20261123T120102Z.db~",
  };
  for (const char* name : rejects) {
    INFO(name);
    CHECK_FALSE(parse_snapshot_file_name(name));
  }
}

TEST_CASE("naming: partial and sidecar names", "[snapshot][naming]") {
  CHECK(partial_file_name("etcd-m1-r000000000001-20261123T120102Z.db") ==
        ".etcd-m1-r000000000001-20261123T120102Z.db.partial");
  CHECK(sidecar_path("/s/etcd-m1-r000000000001-20261123T120102Z.db.zst") ==
        "/s/etcd-m1-r000000000001-20261123T120102Z.db.zst.json");
}
