// snapshot/catalog and sidecar: "verified" means the bytes on disk are the
// ones that were checked, never merely that a sidecar exists (issue 18's
// probe: a flipped byte, and sidecars whose sha256 was wrong, empty or "x",
// all listed as verified, and restore-plan and retention trusted them).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "etcd_warden/snapshot/catalog.hpp"
#include "etcd_warden/snapshot/naming.hpp"
#include "etcd_warden/snapshot/sidecar.hpp"
#include "support/sidecar_text.hpp"
#include "support/temp_dir.hpp"

using namespace etcd_warden;
using namespace etcd_warden::snapshot;
using namespace std::chrono_literals;
using etcd_warden::testing::TempDir;
using etcd_warden::testing::write_file;
namespace fs = std::filesystem;

namespace {

constexpr const char* kFile = "etcd-m1-r000000000042-20261123T120102Z.db";
const sched::WallTime kTaken =
    std::chrono::sys_days{std::chrono::year{2026} / 11 / 23} + 12h + 1min + 2s;

SnapshotInfo info_for(std::uint64_t file_bytes) {
  SnapshotInfo info;
  info.file = kFile;
  info.member = "m1";
  info.member_id = 1;
  info.cluster_id = 2;
  info.revision = 42;
  info.etcd_version = "3.4.23";
  info.taken_at = kTaken;
  info.verified_at = kTaken;
  info.db_bytes = Bytes{file_bytes - 32};
  info.file_bytes = Bytes{file_bytes};
  info.sha256 = std::string(64, 'a');  // an uncompressed file of 'a' bytes ends in it
  return info;
}

void set_mtime(const fs::path& p, sched::WallTime t) {
  const auto since_epoch = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch());
  const timespec times[2] = {{since_epoch.count(), 0}, {since_epoch.count(), 0}};
  REQUIRE(::utimensat(AT_FDCWD, p.c_str(), times, 0) == 0);
}

}  // namespace

TEST_CASE("catalog: a snapshot changed after its sidecar was written is not verified",
          "[snapshot][catalog]") {
  TempDir tmp;
  const auto file = tmp / kFile;
  write_file(file, std::string(4096, '\xaa'));
  REQUIRE(write_sidecar(sidecar_path(file), info_for(4096)));
  set_mtime(file, kTaken);
  set_mtime(sidecar_path(file), kTaken);  // written in the same instant: fine
  auto listed = list_snapshots(tmp.path());
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().verified());

  // A byte flipped in place, same size: the file's mtime moves past the sidecar's.
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('y');
  }
  set_mtime(file, kTaken + 1s);
  listed = list_snapshots(tmp.path());
  REQUIRE(listed);
  CHECK_FALSE(listed->front().verified());
  CHECK(listed->front().problem == std::string(kFile) +
                                       " was modified after its sidecar was written; run "
                                       "`etcd-warden snapshot verify " +
                                       file.string() + "`");
}

TEST_CASE("catalog: a sidecar written long after the check it records is not verified",
          "[snapshot][catalog]") {
  TempDir tmp;
  const auto file = tmp / kFile;
  write_file(file, std::string(4096, '\xaa'));
  REQUIRE(write_sidecar(sidecar_path(file), info_for(4096)));
  set_mtime(file, kTaken);
  // Written a minute after its verified_at (a large copy's sidecar): fine.
  set_mtime(sidecar_path(file), kTaken + 1min);
  auto listed = list_snapshots(tmp.path());
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().verified());

  // An hour later: a hand edit (a sha256 "corrected"), or a copy made with
  // cp, vouches for bytes nobody compared with it. A re-check can tell.
  set_mtime(sidecar_path(file), kTaken + 1h);
  listed = list_snapshots(tmp.path());
  REQUIRE(listed);
  CHECK_FALSE(listed->front().verified());
  CHECK(listed->front().modified_after_check);
  CHECK(listed->front().problem == sidecar_path(file).filename().string() +
                                       " was written after the check it records "
                                       "(2026-11-23T12:01:02Z); run `etcd-warden snapshot "
                                       "verify " +
                                       file.string() + "`");
}

TEST_CASE("sidecar: a hash that is not 64 hex digits, or a zero size, is no sidecar",
          "[snapshot][sidecar]") {
  const auto good = testing::without_checksum(to_json(info_for(4096)));
  REQUIRE(parse_sidecar(good));
  const auto with = [&](const std::string& key, const std::string& value) {
    std::string text = good;
    const auto at = text.find("\"" + key + "\": ");
    REQUIRE(at != std::string::npos);
    const auto start = at + key.size() + 4;
    const auto end = text.find_first_of(",\n", start);
    text.replace(start, end - start, value);
    const auto parsed = parse_sidecar(text);
    return parsed ? std::string("accepted") : parsed.error();
  };
  const std::string hex = "expected 64 lower-case hex digits";
  CHECK(with("sha256", "\"\"") == "key 'sha256': " + hex);
  CHECK(with("sha256", "\"x\"") == "key 'sha256': " + hex);
  CHECK(with("sha256", "\"" + std::string(63, 'a') + "\"") == "key 'sha256': " + hex);
  CHECK(with("sha256", "\"" + std::string(64, 'A') + "\"") == "key 'sha256': " + hex);
  CHECK(with("sha256", "\"" + std::string(64, 'g') + "\"") == "key 'sha256': " + hex);
  CHECK(with("file_bytes", "0") == "key 'file_bytes': expected a size above 0");
  CHECK(with("db_bytes", "0") == "key 'db_bytes': expected a size above 0");
}

// Found by tests/probe/hostile_probe.py: sidecars edited with their mtime put
// back, a verified_at moved into the future to outlast the mtime rule, and a
// compression that is not the file's, all listed as verified.
TEST_CASE("catalog: a sidecar that cannot be right is not trusted, whatever its mtime",
          "[snapshot][catalog]") {
  TempDir tmp;
  const auto file = tmp / kFile;
  write_file(file, std::string(4096, '\xaa'));
  const auto listed_problem = [&](SnapshotInfo info) {
    REQUIRE(write_sidecar(sidecar_path(file), info));
    set_mtime(file, kTaken);
    set_mtime(sidecar_path(file), kTaken);
    auto listed = list_snapshots(tmp.path());
    REQUIRE(listed);
    REQUIRE(listed->size() == 1);
    return listed->front().problem;
  };
  CHECK(listed_problem(info_for(4096)).empty());

  auto info = info_for(4096);
  info.sha256 = std::string(63, 'a') + "b";  // the file ends in aa...aa
  CHECK(listed_problem(info) == std::string(kFile) + " ends in the sha256 " + std::string(64, 'a') +
                                    ", its sidecar says " + info.sha256);

  info = info_for(4096);
  info.compression = config::Compression::zstd;
  CHECK(listed_problem(info) ==
        sidecar_path(file).string() + ": says compression zstd, the name says none");

  info = info_for(4096);
  info.verified_at = std::chrono::sys_days{std::chrono::year{2200} / 1 / 1};
  CHECK(listed_problem(info) == sidecar_path(file).string() +
                                    ": says its check was at 2200-01-01T00:00:00Z, which has not "
                                    "come yet");
}
