// The snapshot building blocks on a real filesystem: writer, verify, sidecar,
// catalog. Against etcd's own tools: tests/integration/snapshot_files_test.cpp.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "etcd_warden/snapshot/catalog.hpp"
#include "etcd_warden/snapshot/naming.hpp"
#include "etcd_warden/snapshot/sidecar.hpp"
#include "etcd_warden/snapshot/snapshot_writer.hpp"
#include "etcd_warden/snapshot/verify.hpp"
#include "support/fake_bbolt.hpp"
#include "support/result_printing.hpp"
#include "support/sidecar_text.hpp"
#include "support/temp_dir.hpp"

using namespace etcd_warden;
using namespace etcd_warden::snapshot;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Catch::Matchers::StartsWith;

namespace {

using Blob = std::vector<std::byte>;

using etcd_warden::testing::TempDir;

std::string sha256_hex(std::span<const std::byte> data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr);
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    static constexpr char kDigits[] = "0123456789abcdef";
    s += kDigits[md[i] >> 4];
    s += kDigits[md[i] & 0xf];
  }
  return s;
}

// A stand-in for etcd's stream: a bbolt database of `db_bytes` (4 KiB pages,
// padded with half random, half repetitive data), then sha256(db) as 32 raw bytes.
Blob fake_stream(std::size_t db_bytes, unsigned seed = 1) {
  REQUIRE(db_bytes % 4096 == 0);
  return testing::fake_bbolt_snapshot({.pages = db_bytes / 4096, .seed = seed});
}

Blob read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Blob b(chars.size());
  std::memcpy(b.data(), chars.data(), chars.size());
  return b;
}

void write_all(const fs::path& p, std::span<const std::byte> data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::vector<std::string> dir_names(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

const std::string kName = "etcd-m1-r000000000042-20261123T120102Z.db";

std::string name_for(Compression c) {
  return c == Compression::zstd ? kName + ".zst" : kName;
}

// Feeds `stream` in chunks of `chunk` bytes and finishes; REQUIREs success.
WriteResult write_snapshot(const fs::path& dir, const std::string& name, Compression c,
                           std::span<const std::byte> stream, std::size_t chunk,
                           std::optional<Bytes> expected = std::nullopt) {
  SnapshotWriter w(dir, name, c, 3);
  REQUIRE(w.open());
  for (std::size_t off = 0; off < stream.size(); off += chunk) {
    REQUIRE(w.write(stream.subspan(off, std::min(chunk, stream.size() - off))));
  }
  return w.finish(expected);
}

}  // namespace

TEST_CASE("writer: any chunking, plain and zstd, gives a verified private file",
          "[snapshot][writer]") {
  const Compression compression = GENERATE(Compression::none, Compression::zstd);
  const std::size_t chunk = GENERATE(as<std::size_t>{}, 1, 7, 31, 32, 33, 512, 4096, 32768, 1 << 20,
                                     (1 << 20) + 1, 64 << 20);
  // Tiny chunks on a smaller stream keep the test fast; big ones cross the 1 MiB buffer.
  const Blob stream = fake_stream(chunk < 512 ? 96 * 1024 : 3 * 1024 * 1024 + 5 * 4096, chunk);
  const std::string db_sha = sha256_hex(std::span(stream).first(stream.size() - 32));
  INFO("chunk " << chunk << (compression == Compression::zstd ? " zstd" : " plain"));

  TempDir tmp;
  const fs::path dir = tmp / "state" / "snapshots";
  const auto r = write_snapshot(dir, name_for(compression), compression, stream, chunk,
                                Bytes{stream.size() - 32});
  REQUIRE(r);
  CHECK(r->path == dir / name_for(compression));
  CHECK(r->stream_bytes.value == stream.size());
  CHECK(r->db_bytes.value == stream.size() - 32);
  CHECK(r->file_bytes.value == fs::file_size(r->path));
  CHECK(r->sha256 == db_sha);
  CHECK(dir_names(dir) == std::vector<std::string>{name_for(compression)});  // no partial left

  // Invariant 6: private file and directories.
  CHECK(mode_of(r->path) == 0600);
  CHECK(mode_of(dir) == 0700);
  CHECK(mode_of(tmp / "state") == 0700);

  const auto v = verify_file(r->path);
  REQUIRE(v);
  CHECK(v->compressed == (compression == Compression::zstd));
  CHECK(v->db_bytes == r->db_bytes);
  CHECK(v->sha256 == db_sha);
  CHECK(v->file_bytes == r->file_bytes);

  if (compression == Compression::none) {
    CHECK(read_all(r->path) == stream);  // the whole stream, trailer included
  } else {
    CHECK(r->file_bytes.value < stream.size());  // the repetitive half compresses
  }
  const fs::path plain = tmp / "plain.db";
  REQUIRE(decompress_to(r->path, plain));
  CHECK(read_all(plain) == stream);
  CHECK(mode_of(plain) == 0600);
}

TEST_CASE("writer: tightens a loose directory it owns, reports one it does not",
          "[snapshot][writer]") {
  TempDir tmp;
  const fs::path dir = tmp / "snaps";
  fs::create_directory(dir);
  ::chmod(dir.c_str(), 0755);
  const Blob stream = fake_stream(16384);
  {
    SnapshotWriter w(dir, kName, Compression::none);
    REQUIRE(w.open());
    CHECK(mode_of(dir) == 0700);
    REQUIRE(w.notes().size() == 1);
    CHECK_THAT(w.notes()[0], Contains("had mode 0755, set to 0700"));
    REQUIRE(w.write(stream));
    CHECK(w.finish());
  }
  if (::geteuid() == 0) {
    // Only root can hand the directory to someone else for this check.
    const fs::path other = tmp / "other";
    fs::create_directory(other);
    REQUIRE(::chown(other.c_str(), 65534, 65534) == 0);
    ::chmod(other.c_str(), 0755);
    SnapshotWriter w(other, kName, Compression::none);
    REQUIRE(w.open());
    CHECK(mode_of(other) == 0755);
    REQUIRE(w.notes().size() == 1);
    CHECK_THAT(w.notes()[0], Contains("belongs to uid 65534") && Contains("left as is"));
  }
}

TEST_CASE("writer: a bad trailer or size leaves neither final file nor partial",
          "[snapshot][writer]") {
  const Compression compression = GENERATE(Compression::none, Compression::zstd);
  TempDir tmp;
  Blob stream = fake_stream(64 * 1024);
  const std::string name = name_for(compression);

  SECTION("corrupted trailer") {
    stream.back() ^= std::byte{1};
    const auto r = write_snapshot(tmp.path(), name, compression, stream, 10000);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), StartsWith((tmp / partial_file_name(name)).string() + ": ") &&
                              Contains("sha256 trailer mismatch: etcd sent ") &&
                              Contains(", content hashes to " +
                                       sha256_hex(std::span(stream).first(stream.size() - 32))));
  }
  SECTION("corrupted content") {
    stream[1000] ^= std::byte{0x80};
    const auto r = write_snapshot(tmp.path(), name, compression, stream, 4096);
    CHECK_THAT(r.error(), Contains("sha256 trailer mismatch"));
  }
  SECTION("stream cut short") {
    const auto r =
        write_snapshot(tmp.path(), name, compression, std::span(stream).first(5000), 4096);
    CHECK_THAT(r.error(), Contains("truncated: "));
  }
  SECTION("empty stream") {
    const auto r = write_snapshot(tmp.path(), name, compression, {}, 4096);
    CHECK_THAT(r.error(), Contains("truncated: 0 bytes"));
  }
  SECTION("etcd announced another size") {
    const auto r = write_snapshot(tmp.path(), name, compression, stream, 4096, Bytes{12345});
    CHECK_THAT(r.error(), Contains("etcd announced 12345 database bytes, received 65536"));
  }
  CHECK(dir_names(tmp.path()).empty());
}

TEST_CASE("writer: never replaces an existing file", "[snapshot][writer]") {
  TempDir tmp;
  const Blob stream = fake_stream(16384);
  const Blob old = fake_stream(32768, 99);  // padded, so unlike `stream`
  write_all(tmp / kName, old);

  SECTION("refused at open, before any byte is streamed") {
    SnapshotWriter w(tmp.path(), kName, Compression::none);
    const auto opened = w.open();
    REQUIRE_FALSE(opened);
    CHECK(opened.error() == (tmp / kName).string() + ": already exists, refusing to overwrite it");
    CHECK_FALSE(w.write(stream));  // spent
  }
  SECTION("refused at the rename when the file appeared meanwhile") {
    fs::remove(tmp / kName);
    SnapshotWriter w(tmp.path(), kName, Compression::none);
    REQUIRE(w.open());
    REQUIRE(w.write(stream));
    write_all(tmp / kName, old);
    const auto r = w.finish();
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Contains("-> " + (tmp / kName).string() + ": File exists"));
  }
  CHECK(read_all(tmp / kName) == old);
  CHECK(dir_names(tmp.path()) == std::vector<std::string>{kName});
}

TEST_CASE("writer: a second writer for the same name is refused", "[snapshot][writer]") {
  TempDir tmp;
  const Blob stream = fake_stream(16384);
  SnapshotWriter first(tmp.path(), kName, Compression::none);
  REQUIRE(first.open());
  SnapshotWriter second(tmp.path(), kName, Compression::none);
  const auto opened = second.open();
  REQUIRE_FALSE(opened);
  CHECK_THAT(opened.error(),
             StartsWith("open " + (tmp / partial_file_name(kName)).string() + ": File exists"));
  REQUIRE(first.write(stream));
  CHECK(first.finish());
}

TEST_CASE("writer: abort, destructor and move", "[snapshot][writer]") {
  TempDir tmp;
  const Blob stream = fake_stream(16384);
  const fs::path partial = tmp / partial_file_name(kName);

  SECTION("abort removes the partial") {
    SnapshotWriter w(tmp.path(), kName, Compression::zstd);
    REQUIRE(w.open());
    REQUIRE(w.write(std::span(stream).first(1000)));
    CHECK(w.partial_path() == partial);
    CHECK(fs::exists(partial));
    CHECK(mode_of(partial) == 0600);
    w.abort();
    CHECK_FALSE(fs::exists(partial));
    CHECK_THAT(w.write(stream).error(), Contains("aborted"));
    CHECK_FALSE(w.finish());
    w.abort();  // twice is fine
  }
  SECTION("the destructor removes the partial") {
    {
      SnapshotWriter w(tmp.path(), kName, Compression::none);
      REQUIRE(w.open());
      REQUIRE(w.write(stream));
    }
    CHECK_FALSE(fs::exists(partial));
  }
  SECTION("a moved writer carries on") {
    SnapshotWriter a(tmp.path(), kName, Compression::zstd);
    REQUIRE(a.open());
    REQUIRE(a.write(std::span(stream).first(100)));
    SnapshotWriter b = std::move(a);
    CHECK_FALSE(a.write(stream));  // NOLINT(bugprone-use-after-move): that is the test
    REQUIRE(b.write(std::span(stream).subspan(100)));
    CHECK(b.bytes_received().value == stream.size());
    const auto r = b.finish();
    REQUIRE(r);
    CHECK(verify_file(r->path));
  }
  SECTION("finish twice") {
    SnapshotWriter w(tmp.path(), kName, Compression::none);
    REQUIRE(w.open());
    REQUIRE(w.write(stream));
    REQUIRE(w.finish());
    CHECK_THAT(w.finish().error(), Contains("already finished"));
    w.abort();  // must not remove a finished snapshot
    CHECK(verify_file(tmp / kName));
  }
}

TEST_CASE("writer: a write error names the partial and removes it", "[snapshot][writer]") {
  // RLIMIT_FSIZE stands in for a full disk: write(2) fails with EFBIG.
  TempDir tmp;
  const Blob stream = fake_stream(3 << 20);
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 256 * 1024;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);

  SnapshotWriter w(tmp.path(), kName, Compression::none);
  util::Status wrote = w.open();
  for (std::size_t off = 0; wrote && off < stream.size(); off += 65536) {
    wrote = w.write(std::span(stream).subspan(off, 65536));
  }
  const auto r = w.finish();
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);

  REQUIRE_FALSE(wrote);
  CHECK(wrote.error() == "write " + (tmp / partial_file_name(kName)).string() + ": File too large");
  REQUIRE_FALSE(r);
  CHECK(r.error() == wrote.error());
  CHECK(dir_names(tmp.path()).empty());
}

TEST_CASE("verify: damaged files fail with a clear message", "[snapshot][verify]") {
  TempDir tmp;
  const Blob stream = fake_stream(256 * 1024);
  const std::string db_sha = sha256_hex(std::span(stream).first(stream.size() - 32));
  const auto plain = write_snapshot(tmp.path(), kName, Compression::none, stream, 32768);
  const auto zst = write_snapshot(tmp.path(), kName + ".zst", Compression::zstd, stream, 32768);
  REQUIRE(plain);
  REQUIRE(zst);
  const fs::path bad = tmp / "bad.db";

  SECTION("plain, one byte flipped") {
    Blob b = stream;
    b[77777] ^= std::byte{4};
    write_all(bad, b);
    const auto v = verify_file(bad);
    REQUIRE_FALSE(v);
    // Read as plain (no zstd error), and hashed to something else.
    CHECK_THAT(v.error(), StartsWith(bad.string() + ": sha256 trailer mismatch: file says " +
                                     db_sha + ", content hashes to "));
    CHECK_THAT(v.error(), !Contains("content hashes to " + db_sha));
  }
  SECTION("plain, truncated") {
    write_all(bad, std::span(stream).first(stream.size() - 100));
    CHECK_THAT(verify_file(bad).error(),
               Equals(bad.string() + ": truncated: " + std::to_string(stream.size() - 132) +
                      " bytes before the trailer, not a whole number of 512-byte blocks"));
  }
  SECTION("plain, cut at a block boundary") {
    write_all(bad, std::span(stream).first(stream.size() - 512));
    CHECK_THAT(verify_file(bad).error(), Contains("sha256 trailer mismatch"));
  }
  SECTION("tiny and empty files") {
    write_all(bad, std::span(stream).first(10));
    CHECK_THAT(verify_file(bad).error(), Contains(": truncated: 10 bytes"));
    write_all(bad, {});
    CHECK_THAT(verify_file(bad).error(), Contains(": truncated: 0 bytes"));
  }
  SECTION("zstd, one byte flipped") {
    Blob b = read_all(zst->path);
    b[b.size() / 2] ^= std::byte{4};
    write_all(bad, b);
    const auto v = verify_file(bad);
    REQUIRE_FALSE(v);
    CHECK_THAT(v.error(), StartsWith(bad.string() + ": zstd: "));  // recognised as zstd
  }
  SECTION("zstd, truncated") {
    const Blob b = read_all(zst->path);
    write_all(bad, std::span(b).first(b.size() - 100));
    CHECK_THAT(
        verify_file(bad).error(),
        StartsWith(bad.string() + ": truncated: the zstd stream ends in the middle of a frame"));
  }
  SECTION("zstd, garbage after the frame") {
    Blob b = read_all(zst->path);
    b.insert(b.end(), 64, std::byte{'x'});
    write_all(bad, b);
    CHECK_THAT(verify_file(bad).error(), StartsWith(bad.string() + ": zstd: "));
  }
  SECTION("missing file, directory") {
    CHECK(verify_file(tmp / "nope.db").error() ==
          "open " + (tmp / "nope.db").string() + ": No such file or directory");
    CHECK_THAT(verify_file(tmp.path()).error(), Contains("not a regular file"));
  }
  SECTION("decompress_to refuses to overwrite, and leaves nothing on failure") {
    write_all(bad, {});
    CHECK_THAT(decompress_to(zst->path, bad).error(), Contains("File exists"));
    Blob b = read_all(zst->path);
    b[b.size() / 2] ^= std::byte{4};
    write_all(tmp / "bad.db.zst", b);
    const fs::path out = tmp / "out.db";
    CHECK_FALSE(decompress_to(tmp / "bad.db.zst", out));
    CHECK_FALSE(fs::exists(out));
  }
}

TEST_CASE("sidecar: round trip, atomic private write, clear errors", "[snapshot][sidecar]") {
  SnapshotInfo info;
  info.file = kName + ".zst";
  info.member = "m1";
  info.member_id = 0x8e9e05c52164694dULL;
  info.cluster_id = 0xcdf818194e3a8c32ULL;
  info.revision = 42;
  info.etcd_version = "3.4.23";
  info.taken_at = std::chrono::sys_days{std::chrono::year{2026} / 11 / 23} + 12h + 1min + 2s;
  info.db_bytes = Bytes{20480};
  info.file_bytes = Bytes{4711};
  info.sha256 = std::string(64, 'a');
  info.compression = Compression::zstd;
  info.duration = std::chrono::duration<double>(1.25);

  const std::string json = testing::without_checksum(to_json(info));
  CHECK_THAT(json, Contains("\"member_id\": \"8e9e05c52164694d\"") &&
                       Contains("\"taken_at\": \"2026-11-23T12:01:02Z\"") &&
                       Contains("\"compression\": \"zstd\"") &&
                       Contains("\"duration_seconds\": 1.25"));
  const auto parsed = parse_sidecar(json);
  REQUIRE(parsed.ok());
  CHECK(*parsed == info);

  TempDir tmp;
  const fs::path side = sidecar_path(tmp / info.file);
  REQUIRE(write_sidecar(side, info));
  CHECK(mode_of(side) == 0600);
  CHECK(dir_names(tmp.path()) == std::vector<std::string>{info.file + ".json"});
  const auto read = read_sidecar(side);
  REQUIRE(read.ok());
  CHECK(*read == info);
  info.revision = 43;  // rewriting replaces the old one
  REQUIRE(write_sidecar(side, info));
  CHECK(read_sidecar(side)->revision == 43);

  const auto error_of = [](std::string_view text) {
    const auto r = parse_sidecar(text);
    return r.ok() ? std::string() : r.error();
  };
  // As written, with its checksum: one value changed by hand and it is refused.
  std::string edited = to_json(info);
  REQUIRE(parse_sidecar(edited));
  edited.replace(edited.find("\"revision\": 43"), 14, "\"revision\": 44");
  CHECK(error_of(edited) ==
        "key 'checksum': does not match the other keys: the sidecar was edited or damaged since "
        "it was written");
  CHECK_THAT(error_of("{"), StartsWith("not valid JSON: "));
  CHECK(error_of("[]") == "not a JSON object");
  std::string no_sha = json;
  no_sha.replace(no_sha.find("\"sha256\""), 6, "\"shaXX");
  CHECK(error_of(no_sha) == "key 'sha256': missing");
  std::string bad_rev = json;
  bad_rev.replace(bad_rev.find("\"revision\": 42"), 14, "\"revision\": \"42\"");
  CHECK(error_of(bad_rev) == "key 'revision': expected an integer");
  std::string bad_time = json;
  bad_time.replace(bad_time.find("12:01:02Z"), 9, "25:01:02Z");
  CHECK_THAT(error_of(bad_time), StartsWith("key 'taken_at': expected RFC 3339"));
  // Found by tests/fuzz/sidecar_fuzz.cpp: year 3206 overflowed the clock's
  // nanoseconds (undefined behaviour) on the way in.
  for (const char* year : {"3206", "9999", "1969"}) {
    std::string far = json;
    far.replace(far.find("2026-"), 4, year);
    CHECK_THAT(error_of(far), StartsWith("key 'taken_at': expected RFC 3339"));
  }
  std::string extra = json;
  extra.insert(1, "\"added_later\": true,");
  CHECK(error_of(extra) == "");

  CHECK_THAT(read_sidecar(tmp / "missing.json").error(),
             Equals("open " + (tmp / "missing.json").string() + ": No such file or directory"));
  CHECK(parse_rfc3339("2026-11-23T12:01:02.5Z") == info.taken_at + 500ms);
  CHECK_FALSE(parse_rfc3339("2026-11-23T12:01:02+01:00"));
}

TEST_CASE("catalog: lists our snapshots with sidecars, finds stale partials",
          "[snapshot][catalog]") {
  TempDir tmp;
  const fs::path dir = tmp / "snaps";
  CHECK(list_snapshots(dir)->empty());  // missing dir

  const auto t0 = std::chrono::sys_days{std::chrono::year{2026} / 11 / 23} + 12h;
  const std::string older = snapshot_file_name("m1", 10, t0, Compression::none);
  const std::string newer = snapshot_file_name("m1", 20, t0 + 6h, Compression::zstd);
  const std::string newest = snapshot_file_name("m1", 30, t0 + 12h, Compression::none);
  const Blob stream = fake_stream(16384);
  const auto a = write_snapshot(dir, older, Compression::none, stream, 4096);
  const auto b = write_snapshot(dir, newer, Compression::zstd, stream, 4096);
  const auto c = write_snapshot(dir, newest, Compression::none, stream, 4096);
  REQUIRE((a && b && c));

  SnapshotInfo info;
  info.member = "m1";
  info.file = newer;
  info.revision = 20;
  info.file_bytes = b->file_bytes;
  info.db_bytes = Bytes{4096};
  info.sha256 = std::string(64, 'a');
  info.compression = Compression::zstd;
  info.verified_at = std::chrono::system_clock::now();  // the bytes just written
  REQUIRE(write_sidecar(sidecar_path(b->path), info));
  info.file = newest;
  info.revision = 30;
  info.file_bytes = Bytes{1};  // does not match the file
  REQUIRE(write_sidecar(sidecar_path(c->path), info));
  write_all(dir / "README.txt", stream);
  fs::create_symlink(a->path, dir / snapshot_file_name("m1", 40, t0 + 24h, Compression::none));

  // One writer still at work, one crashed snapshot, one crashed sidecar, one unrelated file.
  SnapshotWriter live(dir, snapshot_file_name("m1", 50, t0 + 30h, Compression::none),
                      Compression::none);
  REQUIRE(live.open());
  const fs::path crashed =
      dir / partial_file_name(snapshot_file_name("m1", 5, t0, Compression::zstd));
  const fs::path crashed_side = dir / partial_file_name(older + ".json");
  write_all(crashed, stream);
  write_all(crashed_side, stream);
  write_all(dir / ".unrelated.partial", stream);

  const auto listed = list_snapshots(dir);
  REQUIRE(listed.ok());
  const auto& entries = *listed;
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].path == c->path);
  CHECK(entries[1].path == b->path);
  CHECK(entries[2].path == a->path);
  CHECK_FALSE(entries[0].verified());
  CHECK_THAT(entries[0].problem, Contains("says 1 bytes, the file has"));
  CHECK(entries[1].verified());
  CHECK(entries[1].info->revision == 20);
  CHECK(entries[1].name.compression == Compression::zstd);
  CHECK(entries[1].file_bytes == b->file_bytes);
  CHECK_FALSE(entries[2].verified());
  CHECK(entries[2].problem == "no sidecar " + older + ".json");

  CHECK(stale_partials(dir) == std::vector<fs::path>{crashed, crashed_side});
  const auto cleaned = remove_stale_partials(dir);
  CHECK(cleaned.removed == std::vector<fs::path>{crashed, crashed_side});
  CHECK(cleaned.errors.empty());
  CHECK(fs::exists(live.partial_path()));
  CHECK(fs::exists(dir / ".unrelated.partial"));
  CHECK_FALSE(fs::exists(crashed));
  live.abort();
  CHECK(stale_partials(dir).empty());
}
