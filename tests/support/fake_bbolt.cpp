#include "support/fake_bbolt.hpp"

#include <openssl/evp.h>

#include <array>
#include <random>
#include <stdexcept>

namespace etcd_warden::testing {

namespace {

constexpr std::uint16_t kMetaFlag = 0x04;
constexpr std::uint16_t kLeafFlag = 0x02;
constexpr std::uint16_t kFreelistFlag = 0x10;

void page_header(std::span<std::byte> page, std::uint64_t id, std::uint16_t flags) {
  put_le(page.subspan(0), id, 8);
  put_le(page.subspan(8), flags, 2);
}

void meta_page(std::span<std::byte> page, const FakeBbolt& o, std::uint64_t index) {
  page_header(page, index, kMetaFlag);
  std::span<std::byte> meta = page.subspan(16);
  put_le(meta.subspan(0), 0xED0CDAED, 4);   // magic
  put_le(meta.subspan(4), 2, 4);            // version
  put_le(meta.subspan(8), o.page_size, 4);  // pageSize
  put_le(meta.subspan(16), 3, 8);           // root bucket's page
  put_le(meta.subspan(32), 2, 8);           // freelist page
  put_le(meta.subspan(40), o.pages, 8);     // pgid, the high-water mark
  put_le(meta.subspan(48), o.txid - index, 8);
}

}  // namespace

void put_le(std::span<std::byte> at, std::uint64_t value, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) at[i] = std::byte((value >> (8 * i)) & 0xff);
}

void reseal_meta(std::span<std::byte> db, std::uint32_t page_size, std::uint64_t index) {
  std::span<std::byte> page = db.subspan(index * page_size, page_size);
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 over the meta before its checksum
  for (std::size_t i = 16; i < kFakeMetaChecksum; ++i) {
    h = (h ^ std::to_integer<std::uint64_t>(page[i])) * 0x100000001b3ULL;
  }
  put_le(page.subspan(kFakeMetaChecksum), h, 8);
}

Blob fake_bbolt_db(const FakeBbolt& o) {
  if (o.pages < 4 || o.page_size < 128) throw std::invalid_argument("fake_bbolt_db: too small");
  Blob db(o.pages * o.page_size);
  std::span<std::byte> all(db);
  for (std::uint64_t i = 0; i < 2; ++i) {
    meta_page(all.subspan(i * o.page_size), o, i);
    reseal_meta(db, o.page_size, i);
  }
  page_header(all.subspan(2 * o.page_size), 2, kFreelistFlag);
  page_header(all.subspan(3 * o.page_size), 3, kLeafFlag);
  // Padding: unreachable leaf pages whose bodies half compress.
  std::mt19937 rng(o.seed);
  for (std::uint64_t id = 4; id < o.pages; ++id) {
    const std::size_t start = id * o.page_size;
    page_header(all.subspan(start), id, kLeafFlag);
    for (std::size_t i = start + 16; i < start + o.page_size; ++i) {
      db[i] = (i / 4096) % 2 ? std::byte(i % 251) : std::byte(rng() & 0xff);
    }
  }
  return db;
}

Blob with_sha256_trailer(std::span<const std::byte> db) {
  Blob out(db.begin(), db.end());
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(db.data(), db.size(), md.data(), &len, EVP_sha256(), nullptr);
  for (unsigned i = 0; i < len; ++i) out.push_back(std::byte(md[i]));
  return out;
}

Blob fake_bbolt_snapshot(const FakeBbolt& o) {
  return with_sha256_trailer(fake_bbolt_db(o));
}

}  // namespace etcd_warden::testing
