// snapshot/recheck: kept snapshots are read again against their sidecars'
// sha256 on a schedule, so bit rot (bytes changed, mtime not) stops counting
// as verified; `snapshot verify` and the re-check record their answer in the
// sidecar, and a file only touched since is verified again.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "etcd_warden/snapshot/catalog.hpp"
#include "etcd_warden/snapshot/naming.hpp"
#include "etcd_warden/snapshot/recheck.hpp"
#include "etcd_warden/snapshot/sidecar.hpp"
#include "support/fake_bbolt.hpp"
#include "support/sidecar_text.hpp"
#include "support/temp_dir.hpp"

using namespace etcd_warden;
using namespace etcd_warden::snapshot;
using namespace std::chrono_literals;
using etcd_warden::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr const char* kFile = "etcd-m1-r000000000042-20261123T120102Z.db";
const sched::WallTime kTaken =
    std::chrono::sys_days{std::chrono::year{2026} / 11 / 23} + 12h + 1min + 2s;

std::string hex_of(std::span<const std::byte> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += digits[static_cast<unsigned>(b) >> 4];
    out += digits[static_cast<unsigned>(b) & 15];
  }
  return out;
}

void set_mtime(const fs::path& p, std::chrono::seconds since_epoch) {
  const timespec times[2] = {{since_epoch.count(), 0}, {since_epoch.count(), 0}};
  REQUIRE(::utimensat(AT_FDCWD, p.c_str(), times, 0) == 0);
}
void set_mtime(const fs::path& p, sched::WallTime t) {
  const auto since_epoch = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch());
  const timespec times[2] = {{since_epoch.count(), 0}, {since_epoch.count(), 0}};
  REQUIRE(::utimensat(AT_FDCWD, p.c_str(), times, 0) == 0);
}

// A real (fake_bbolt) snapshot with a sidecar that matches it, both with
// mtime `at`, checked at `kTaken`.
template <class Time>
fs::path write_snapshot(const fs::path& dir, Time at) {
  const auto blob = testing::fake_bbolt_snapshot({.pages = 8});
  const fs::path file = dir / kFile;
  testing::write_file(file,
                      std::string_view(reinterpret_cast<const char*>(blob.data()), blob.size()));
  SnapshotInfo info;
  info.file = kFile;
  info.member = "m1";
  info.member_id = 1;
  info.cluster_id = 2;
  info.revision = 42;
  info.etcd_version = "3.4.23";
  info.taken_at = kTaken;
  info.verified_at = kTaken;
  info.db_bytes = Bytes{blob.size() - 32};
  info.file_bytes = Bytes{blob.size()};
  info.sha256 = hex_of(std::span(blob).last(32));
  REQUIRE(write_sidecar(sidecar_path(file), info));
  set_mtime(file, at);
  set_mtime(sidecar_path(file), at);
  return file;
}

// Flips one byte in place and puts the mtime back: what bit rot looks like.
void rot_one_byte(const fs::path& file, off_t at) {
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  const int fd = ::open(file.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  unsigned char c = 0;
  REQUIRE(::pread(fd, &c, 1, at) == 1);
  c ^= 0x01;
  REQUIRE(::pwrite(fd, &c, 1, at) == 1);
  ::close(fd);
  set_mtime(file, std::chrono::seconds(st.st_mtim.tv_sec));
}

const SnapshotEntry& only(const std::vector<SnapshotEntry>& entries) {
  REQUIRE(entries.size() == 1);
  return entries.front();
}

}  // namespace

TEST_CASE("recheck: bit rot in a kept snapshot is found and it stops counting as verified",
          "[snapshot][recheck]") {
  TempDir tmp;
  const auto file = write_snapshot(tmp.path(), 1'000'000s);
  rot_one_byte(file, 5 * 4096 + 100);  // a padding page: only the hash can tell

  // Unchanged mtime: the catalog cannot know, and says verified.
  auto listed = list_snapshots(tmp.path());
  REQUIRE(listed);
  CHECK(only(*listed).verified());

  // Not due before recheck_every has passed since the last check.
  CHECK(recheck_due({tmp.path()}, kTaken + 23h, 24h).empty());

  const auto results = recheck_due({tmp.path()}, kTaken + 25h, 24h);
  REQUIRE(results.size() == 1);
  CHECK(results[0].path == file);
  CHECK_THAT(results[0].error, Catch::Contains("sha256 trailer mismatch"));
  CHECK(results[0].record_error.empty());

  listed = list_snapshots(tmp.path());
  REQUIRE(listed);
  const auto& e = only(*listed);
  CHECK_FALSE(e.verified());
  CHECK_THAT(e.problem, Catch::StartsWith("re-check failed at 2026-11-24T13:01:02Z: "));
  CHECK_THAT(e.problem, Catch::Contains("sha256 trailer mismatch"));
  // The sidecar keeps its facts and when they were last true.
  CHECK(e.info->verified_at == kTaken);
  CHECK(e.info->sha256.size() == 64);

  // A failed re-check is not retried on a schedule (it is evidence) ...
  CHECK(recheck_due({tmp.path()}, kTaken + 100h, 24h).empty());
  // ... but restoring the bytes and running `snapshot verify` clears it.
  rot_one_byte(file, 5 * 4096 + 100);
  const auto checked = check_snapshot(file);
  REQUIRE(checked);
  REQUIRE(record_check(file, *e.info, checked, kTaken + 101h));
  listed = list_snapshots(tmp.path());
  REQUIRE(listed);
  CHECK(only(*listed).verified());
  CHECK(only(*listed).info->verified_at == kTaken + 101h);
}

TEST_CASE("recheck: a snapshot passes and its verified_at moves on", "[snapshot][recheck]") {
  TempDir tmp;
  const auto file = write_snapshot(tmp.path(), 1'000'000s);
  const auto results = recheck_due({tmp.path()}, kTaken + 25h, 24h);
  REQUIRE(results.size() == 1);
  CHECK(results[0].error.empty());
  auto listed = list_snapshots(tmp.path());
  REQUIRE(listed);
  CHECK(only(*listed).verified());
  CHECK(only(*listed).info->verified_at == kTaken + 25h);
  CHECK(recheck_due({tmp.path()}, kTaken + 26h, 24h).empty());
}

TEST_CASE("recheck: a file touched after its sidecar is checked now and verified again",
          "[snapshot][recheck]") {
  TempDir tmp;
  const auto file = write_snapshot(tmp.path(), 1'000'000s);
  set_mtime(file, 1'000'100s);
  auto listed = list_snapshots(tmp.path());
  REQUIRE(listed);
  CHECK_FALSE(only(*listed).verified());
  CHECK(only(*listed).modified_after_check);

  // Due at once, though its last check is recent.
  const auto results = recheck_due({tmp.path()}, kTaken + 1h, 24h);
  REQUIRE(results.size() == 1);
  CHECK(results[0].error.empty());
  listed = list_snapshots(tmp.path());
  REQUIRE(listed);
  CHECK(only(*listed).verified());
}

TEST_CASE("recheck: an edited sidecar is refused, the right one copied back is checked again",
          "[snapshot][recheck]") {
  TempDir tmp;
  const auto file = write_snapshot(tmp.path(), kTaken);
  const auto side = sidecar_path(file);
  auto text = testing::read_file(side);
  const std::string good = text;
  const auto at = text.find("\"sha256\": \"");
  REQUIRE(at != std::string::npos);
  text[at + 11] = text[at + 11] == 'a' ? 'b' : 'a';  // one hex digit "corrected" by hand
  testing::write_file(side, text);
  set_mtime(side, kTaken);  // even with its old mtime

  auto listed = list_snapshots(tmp.path());
  REQUIRE(listed);
  CHECK_FALSE(only(*listed).verified());
  CHECK_THAT(only(*listed).problem, Catch::Contains("key 'checksum': does not match"));
  CHECK(recheck_due({tmp.path()}, kTaken + 3h, 24h).empty());  // nothing to compare with

  // The right sidecar copied back by hand (cp, not cp -a): checked, and verified again.
  testing::write_file(side, good);
  set_mtime(side, kTaken + 4h);
  listed = list_snapshots(tmp.path());
  REQUIRE(listed);
  CHECK(only(*listed).modified_after_check);
  const auto results = recheck_due({tmp.path()}, kTaken + 4h, 24h);
  REQUIRE(results.size() == 1);
  CHECK(results[0].error.empty());
  listed = list_snapshots(tmp.path());
  REQUIRE(listed);
  CHECK(only(*listed).verified());
}

TEST_CASE("check_snapshot: bytes that verify but are not the sidecar's snapshot fail",
          "[snapshot][recheck]") {
  TempDir tmp;
  const auto file = write_snapshot(tmp.path(), 1'000'000s);
  auto info = read_sidecar(sidecar_path(file));
  REQUIRE(info);
  info->sha256 = std::string(64, 'b');
  REQUIRE(write_sidecar(sidecar_path(file), *info));
  const auto checked = check_snapshot(file);
  REQUIRE_FALSE(checked);
  CHECK_THAT(checked.error(), Catch::StartsWith(file.string() + ": sha256 "));
  CHECK_THAT(checked.error(),
             Catch::EndsWith("differs from its sidecar's " + std::string(64, 'b')));

  // No sidecar: the bytes are sound, and the answer says there is nothing to compare with.
  fs::remove(sidecar_path(file));
  const auto alone = check_snapshot(file);
  REQUIRE(alone);
  CHECK_FALSE(alone->sidecar);
  CHECK(alone->no_sidecar == "no sidecar " + sidecar_path(file).filename().string());
}

TEST_CASE("due_for_recheck: most overdue first, failed and unreadable ones are left alone",
          "[snapshot][recheck]") {
  const auto entry = [](sched::WallTime checked, std::string problem, bool modified) {
    SnapshotEntry e;
    e.info = SnapshotInfo{};
    e.info->verified_at = checked;
    e.problem = std::move(problem);
    e.modified_after_check = modified;
    return e;
  };
  std::vector<SnapshotEntry> entries{
      entry(kTaken + 10h, "", false),                   // 0: checked 38 h ago: due
      entry(kTaken, "", false),                         // 1: 48 h ago: due first
      entry(kTaken + 40h, "", false),                   // 2: 8 h ago: not due
      entry(kTaken, "re-check failed at ...", false),   // 3: failed: stays failed
      entry(kTaken + 47h, "modified after ...", true),  // 4: touched: due
  };
  entries.push_back(SnapshotEntry{});  // 5: no sidecar at all
  const auto due = due_for_recheck(entries, kTaken + 48h, 24h);
  REQUIRE(due.size() == 3);
  CHECK(due[0] == &entries[1]);
  CHECK(due[1] == &entries[0]);
  CHECK(due[2] == &entries[4]);
}

TEST_CASE("sidecar: verified_at and recheck_failed read back, older sidecars lack them",
          "[snapshot][sidecar]") {
  SnapshotInfo info;
  info.file = kFile;
  info.member = "m1";
  info.revision = 42;
  info.taken_at = kTaken;
  info.verified_at = kTaken + 30h;
  info.db_bytes = Bytes{4096};
  info.file_bytes = Bytes{4128};
  info.sha256 = std::string(64, 'a');
  info.recheck_failed = "2026-11-25T00:00:00Z: x: truncated";
  auto back = parse_sidecar(to_json(info));
  REQUIRE(back);
  CHECK(*back == info);

  info.recheck_failed.clear();
  const std::string json = testing::without_checksum(to_json(info));
  CHECK(json.find("recheck_failed") == std::string::npos);

  // Written before the key existed: verified at the end of its run.
  std::string old = json;
  const auto at = old.find(",\n  \"verified_at\"");
  REQUIRE(at != std::string::npos);
  old.erase(at, old.find('\n', at + 2) - at);
  back = parse_sidecar(old);
  INFO(old);
  REQUIRE(back);
  CHECK(back->verified_at == kTaken);

  std::string empty_reason = json;
  empty_reason.insert(1, "\"recheck_failed\": \"\",");
  const auto refused = parse_sidecar(empty_reason);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == "key 'recheck_failed': expected a reason, got \"\"");
}
