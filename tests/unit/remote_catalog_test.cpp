// What a bucket holds for a member: verified means "sidecar listed beside
// it", other members' and other tools' objects are not ours, and which
// unfinished multipart uploads are old enough to abort.
#include <catch2/catch.hpp>

#include <vector>

#include "etcd_warden/remote/remote_catalog.hpp"
#include "etcd_warden/remote/upload.hpp"
#include "etcd_warden/snapshot/sidecar.hpp"

using namespace etcd_warden;
using namespace etcd_warden::remote;
using namespace std::chrono_literals;

namespace {

objstore::ObjectEntry obj(std::string key, std::uint64_t size = 100) {
  return {std::move(key), size, "etag"};
}

sched::WallTime at(const char* rfc3339) {
  return *snapshot::parse_rfc3339(rfc3339);
}

}  // namespace

TEST_CASE("remote catalog: our snapshots, newest first, verified by their sidecar", "[remote]") {
  const std::vector<objstore::ObjectEntry> listing{
      obj("etcd/etcd-m1-r000000000010-20261201T000000Z.db.zst"),
      obj("etcd/etcd-m1-r000000000010-20261201T000000Z.db.zst.json", 10),
      obj("etcd/etcd-m1-r000000000020-20261202T000000Z.db.zst"),  // no sidecar yet
      obj("etcd/etcd-m2-r000000000015-20261201T120000Z.db"),
      obj("etcd/etcd-m2-r000000000015-20261201T120000Z.db.json"),
      obj("etcd/notes.txt"),
      obj("etcd/old/etcd-m1-r000000000001-20200101T000000Z.db"),  // a deeper folder
      obj("other/etcd-m1-r000000000030-20261203T000000Z.db"),
  };
  const auto all = remote_entries(listing, "etcd/", "");
  REQUIRE(all.size() == 3);
  CHECK(all[0].file == "etcd-m1-r000000000020-20261202T000000Z.db.zst");
  CHECK_FALSE(all[0].verified);
  CHECK(all[1].name.member == "m2");
  CHECK(all[1].verified);
  CHECK(all[2].key == "etcd/etcd-m1-r000000000010-20261201T000000Z.db.zst");
  CHECK(all[2].verified);
  CHECK(all[2].size == 100);

  const auto m1 = remote_entries(listing, "etcd/", "m1");
  REQUIRE(m1.size() == 2);
  const auto candidates = retention_candidates(m1);
  CHECK(candidates[0].name == m1[0].file);
  CHECK_FALSE(candidates[0].verified);
  CHECK(candidates[1].verified);

  // keep_last 1 with a newer unverified object: the verified one stays.
  const auto deletions =
      snapshot::decide_retention(candidates, {1, std::nullopt}, at("2026-12-05T00:00:00Z"));
  CHECK(deletions.empty());
}

TEST_CASE("remote catalog: only old uploads of our own names are aborted", "[remote]") {
  const auto now = at("2026-12-06T12:00:00Z");
  const std::vector<StaleUpload> pending{
      {"etcd/etcd-m1-r000000000010-20261206T100000Z.db.zst", "old", at("2026-12-06T10:00:00Z")},
      {"etcd/etcd-m1-r000000000011-20261206T115000Z.db.zst", "young", at("2026-12-06T11:50:00Z")},
      {"etcd/etcd-m1-r000000000012-20261206T120000Z.db.zst", "current", at("2026-12-06T09:00:00Z")},
      {"etcd/etcd-m2-r000000000010-20261206T100000Z.db.zst", "m2's", at("2026-12-06T09:00:00Z")},
      {"etcd/other-tool.bin", "theirs", at("2026-12-06T09:00:00Z")},
      {"etcd/etcd-m1-r000000000009-20261206T090000Z.db.zst", "no-time", std::nullopt},
  };
  const auto stale = stale_uploads(
      pending, "etcd/", "m1", "etcd/etcd-m1-r000000000012-20261206T120000Z.db.zst", now, 30min);
  REQUIRE(stale.size() == 1);
  CHECK(stale[0].upload_id == "old");
}

TEST_CASE("remote: part size grows only past S3's 10000 parts", "[remote]") {
  CHECK(effective_part_size(Bytes::mib(16), Bytes::mib(400)).value == Bytes::mib(16).value);
  const Bytes huge{200ull << 30};  // 200 GiB at 16 MiB would be 12800 parts
  const auto part = effective_part_size(Bytes::mib(16), huge);
  CHECK(part.value > Bytes::mib(16).value);
  CHECK((huge.value + part.value - 1) / part.value <= 10000);
}
