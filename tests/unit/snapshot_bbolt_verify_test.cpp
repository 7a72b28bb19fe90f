// verify_file refuses what hashes right but is no snapshot etcd wrote: junk
// with a correct trailer, a damaged or cut bbolt database with a recomputed
// trailer, and a zstd file with anything after its one frame.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "etcd_warden/snapshot/snapshot_writer.hpp"
#include "etcd_warden/snapshot/verify.hpp"
#include "snapshot/bbolt_meta.hpp"
#include "support/fake_bbolt.hpp"
#include "support/result_printing.hpp"
#include "support/temp_dir.hpp"

using namespace etcd_warden;
using namespace etcd_warden::snapshot;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Catch::Matchers::StartsWith;
using etcd_warden::testing::Blob;
using etcd_warden::testing::fake_bbolt_db;
using etcd_warden::testing::fake_bbolt_snapshot;
using etcd_warden::testing::FakeBbolt;
using etcd_warden::testing::put_le;
using etcd_warden::testing::reseal_meta;
using etcd_warden::testing::TempDir;
using etcd_warden::testing::with_sha256_trailer;

namespace {

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

// `stream` written as our writer writes it with zstd: one frame.
fs::path write_zstd(const fs::path& dir, const std::string& name,
                    std::span<const std::byte> stream) {
  SnapshotWriter w(dir, name, config::Compression::zstd, 3);
  REQUIRE(w.open());
  REQUIRE(w.write(stream));
  const auto r = w.finish();
  REQUIRE(r);
  return r->path;
}

// The error verify_file gives for a plain file holding `stream`.
std::string error_for(const TempDir& tmp, std::span<const std::byte> stream) {
  const fs::path bad = tmp / "bad.db";
  write_all(bad, stream);
  const auto v = verify_file(bad);
  return v ? std::string("(verified)") : v.error();
}

}  // namespace

TEST_CASE("bbolt verify: a fake bbolt snapshot passes, plain and zstd", "[snapshot][verify]") {
  const std::uint32_t page_size = GENERATE(as<std::uint32_t>{}, 512, 4096, 16384, 65536);
  TempDir tmp;
  const Blob stream = fake_bbolt_snapshot({.page_size = page_size, .pages = 9});
  write_all(tmp / "plain.db", stream);
  const auto plain = verify_file(tmp / "plain.db");
  REQUIRE(plain);
  CHECK(plain->page_size == page_size);
  CHECK(plain->pages == 9);
  CHECK(plain->db_bytes.value == 9ULL * page_size);

  const auto zst = verify_file(write_zstd(tmp.path(), "s.db.zst", stream));
  REQUIRE(zst);
  CHECK(zst->compressed);
  CHECK(zst->page_size == page_size);
  CHECK(zst->pages == 9);
  CHECK(zst->sha256 == plain->sha256);
}

TEST_CASE("bbolt verify: junk with a correct sha256 trailer is no bbolt database",
          "[snapshot][verify]") {
  TempDir tmp;
  const Blob junk(512, std::byte{0x5a});
  CHECK(error_for(tmp, with_sha256_trailer(junk)) ==
        (tmp / "bad.db").string() +
            ": not a bbolt database: meta page 0 has magic 0x5a5a5a5a, expected 0xed0cdaed");
}

TEST_CASE("bbolt verify: a damaged meta page fails even with the trailer recomputed",
          "[snapshot][verify]") {
  TempDir tmp;
  const std::string prefix = (tmp / "bad.db").string() + ": not a bbolt database: ";
  const FakeBbolt fake{.page_size = 4096, .pages = 6};
  Blob db = fake_bbolt_db(fake);

  SECTION("a flipped byte in meta page 0's checksummed range") {
    db[testing::kFakeMetaPgid] ^= std::byte{1};
    CHECK_THAT(
        error_for(tmp, with_sha256_trailer(db)),
        StartsWith(prefix + "meta page 0 has checksum 0x") && Contains(", its content sums to 0x"));
  }
  SECTION("a flipped byte in meta page 1's: bbolt would open it, a snapshot must not have it") {
    db[4096 + testing::kFakeMetaPgid + 3] ^= std::byte{0x10};
    CHECK_THAT(error_for(tmp, with_sha256_trailer(db)),
               StartsWith(prefix + "meta page 1 has checksum 0x"));
  }
  SECTION("a flipped checksum") {
    db[4096 + testing::kFakeMetaChecksum] ^= std::byte{0x80};
    CHECK_THAT(error_for(tmp, with_sha256_trailer(db)),
               StartsWith(prefix + "meta page 1 has checksum 0x"));
  }
  SECTION("another version, resealed") {
    put_le(std::span(db).subspan(testing::kFakeMetaMagic + 4), 1, 4);
    reseal_meta(db, 4096, 0);
    CHECK(error_for(tmp, with_sha256_trailer(db)) ==
          prefix + "meta page 0 has version 1, expected 2");
  }
  SECTION("not flagged as a meta page (the page header is outside the checksum)") {
    db[4096 + 8] = std::byte{0x02};
    CHECK(error_for(tmp, with_sha256_trailer(db)) ==
          prefix + "meta page 1 has page flags 0x02, expected 0x04 (meta)");
  }
  SECTION("meta pages swapped") {
    std::swap_ranges(db.begin(), db.begin() + 4096, db.begin() + 4096);
    CHECK(error_for(tmp, with_sha256_trailer(db)) ==
          prefix + "meta page 0 has page id 1, expected 0");
  }
  SECTION("a page size that is no power of two, resealed") {
    put_le(std::span(db).subspan(testing::kFakeMetaPageSize), 3000, 4);
    reseal_meta(db, 4096, 0);
    CHECK(error_for(tmp, with_sha256_trailer(db)) ==
          prefix +
              "meta page 0 declares a page size of 3000 bytes, expected a power of two from 512 "
              "to 16777216");
  }
  SECTION("meta pages that disagree on the page size, resealed") {
    put_le(std::span(db).subspan(4096 + testing::kFakeMetaPageSize), 8192, 4);
    reseal_meta(db, 4096, 1);
    CHECK(error_for(tmp, with_sha256_trailer(db)) ==
          prefix + "meta page 0 declares pages of 4096 bytes, meta page 1 of 8192");
  }
  SECTION("a root bucket beyond the high-water mark, resealed") {
    put_le(std::span(db).subspan(testing::kFakeMetaMagic + 16), 6, 8);
    reseal_meta(db, 4096, 0);
    CHECK(error_for(tmp, with_sha256_trailer(db)) ==
          prefix + "meta page 0 puts the root bucket at page 6, beyond its 6 pages");
  }
  SECTION("no freelist page (etcd's NoFreelistSync) is fine") {
    for (std::uint64_t i = 0; i < 2; ++i) {
      put_le(std::span(db).subspan(i * 4096 + testing::kFakeMetaMagic + 32), ~0ULL, 8);
      reseal_meta(db, 4096, i);
    }
    CHECK(error_for(tmp, with_sha256_trailer(db)) == "(verified)");
  }
}

TEST_CASE("bbolt verify: the database must hold exactly the pages its meta declares",
          "[snapshot][verify]") {
  TempDir tmp;
  const std::string bad = (tmp / "bad.db").string();
  const Blob db = fake_bbolt_db({.page_size = 4096, .pages = 8});

  SECTION("pages removed from the end, trailer recomputed") {
    CHECK(error_for(tmp, with_sha256_trailer(std::span(db).first(5 * 4096))) ==
          bad +
              ": truncated: the database declares 8 pages of 4096 bytes (32768 bytes), the "
              "file holds 20480");
  }
  SECTION("cut inside a page but at a 512-byte block") {
    CHECK_THAT(error_for(tmp, with_sha256_trailer(std::span(db).first(7 * 4096 + 512))),
               StartsWith(bad + ": truncated: the database declares 8 pages"));
  }
  SECTION("cut before meta page 1 ends") {
    CHECK(error_for(tmp, with_sha256_trailer(std::span(db).first(4096 + 512))) ==
          bad + ": truncated: 4608 bytes, less than the two meta pages of 4096 bytes each");
  }
  SECTION("a page more than declared") {
    Blob longer = db;
    longer.resize(db.size() + 4096);
    CHECK(error_for(tmp, with_sha256_trailer(longer)) ==
          bad +
              ": not a bbolt snapshot: the database declares 8 pages of 4096 bytes (32768 "
              "bytes), the file holds 36864, more than bbolt writes");
  }
  SECTION("a high-water mark no file can hold") {
    Blob forged = db;
    for (std::uint64_t i = 0; i < 2; ++i) {
      put_le(std::span(forged).subspan(i * 4096 + testing::kFakeMetaPgid), ~0ULL, 8);
      reseal_meta(forged, 4096, i);
    }
    CHECK(error_for(tmp, with_sha256_trailer(forged)) ==
          bad +
              ": truncated: the database declares 18446744073709551615 pages of 4096 bytes, "
              "the file holds 32768");
  }
}

TEST_CASE("bbolt verify: nothing may follow the zstd frame", "[snapshot][verify]") {
  TempDir tmp;
  const Blob stream = fake_bbolt_snapshot({.pages = 16});
  const fs::path good = write_zstd(tmp.path(), "good.db.zst", stream);
  REQUIRE(verify_file(good));
  const Blob frame = read_all(good);
  const fs::path bad = tmp / "bad.db.zst";

  SECTION("a skippable frame") {
    Blob b = frame;
    const std::uint8_t skippable[] = {0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 'j', 'u', 'n', 'k'};
    for (const auto byte : skippable) b.push_back(std::byte{byte});
    write_all(bad, b);
    CHECK(verify_file(bad).error() ==
          bad.string() + ": zstd: data after the end of the snapshot's frame (12 bytes)");
  }
  SECTION("a second regular frame") {
    const fs::path other = write_zstd(tmp.path(), "other.db.zst", fake_bbolt_snapshot());
    Blob b = frame;
    const Blob second = read_all(other);
    b.insert(b.end(), second.begin(), second.end());
    write_all(bad, b);
    CHECK(verify_file(bad).error() == bad.string() +
                                          ": zstd: data after the end of the snapshot's frame (" +
                                          std::to_string(second.size()) + " bytes)");
  }
  SECTION("a skippable frame past the first read buffer") {
    // A database big enough that its frame ends after the first 1 MiB read.
    const Blob big = fake_bbolt_snapshot({.pages = 1024, .seed = 7});
    Blob b = read_all(write_zstd(tmp.path(), "big.db.zst", big));
    REQUIRE(b.size() > (1u << 20));
    const std::uint8_t skippable[] = {0x5F, 0x2A, 0x4D, 0x18, 0, 0, 0, 0};
    for (const auto byte : skippable) b.push_back(std::byte{byte});
    write_all(bad, b);
    CHECK(verify_file(bad).error() ==
          bad.string() + ": zstd: data after the end of the snapshot's frame (8 bytes)");
  }
  SECTION("decompress_to refuses it too and leaves nothing") {
    Blob b = frame;
    b.insert(b.end(), frame.begin(), frame.end());
    write_all(bad, b);
    const fs::path out = tmp / "out.db";
    CHECK_THAT(decompress_to(bad, out).error(), Contains("data after the end"));
    CHECK_FALSE(fs::exists(out));
  }
}

TEST_CASE("bbolt verify: the meta checker gives the same verdict for any chunking",
          "[snapshot][verify]") {
  const Blob db = fake_bbolt_db({.page_size = 1024, .pages = 5});
  const std::size_t chunk = GENERATE(as<std::size_t>{}, 1, 7, 80, 81, 1023, 1024, 1025, 5120);
  detail::BboltMetaChecker checker;
  for (std::size_t off = 0; off < db.size(); off += chunk) {
    checker.update(std::span(db).subspan(off, std::min(chunk, db.size() - off)));
  }
  checker.update(std::span(db).first(32));  // a trailer after the database is ignored
  const auto layout = checker.finish(db.size());
  REQUIRE(layout);
  CHECK(layout->page_size == 1024);
  CHECK(layout->pages == 5);
  CHECK(layout->txid == 2);  // meta page 0's, one ahead of meta page 1, as Tx.WriteTo writes
}

TEST_CASE("bbolt verify: FNV-1a 64 matches the published test vectors", "[snapshot][verify]") {
  const auto fnv = [](std::string_view s) {
    return detail::fnv1a64(std::as_bytes(std::span(s.data(), s.size())));
  };
  CHECK(fnv("") == 0xcbf29ce484222325ULL);
  CHECK(fnv("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv("foobar") == 0x85944171f73967e8ULL);
}

// A FIFO in a snapshot's place blocked open(2) until a writer came; now it is
// refused at once. (Were it to block again, ctest's timeout fails this case.)
TEST_CASE("verify: a FIFO in the snapshot's place is refused, not waited on",
          "[snapshot][verify]") {
  TempDir tmp;
  const auto fifo = tmp / "etcd-m1-r000000000001-20261204T000000Z.db";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const auto r = verify_file(fifo);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error(), Equals(fifo.string() + ": not a regular file"));
}
