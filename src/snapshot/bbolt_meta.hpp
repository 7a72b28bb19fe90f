// Checks that a snapshot's database is a bbolt file as Tx.WriteTo writes it,
// while the stream passes by: the two meta pages, and that the file holds
// exactly the pages the meta declares. A sha256 trailer only proves that the
// bytes are the ones hashed; this proves that they are what etcd can open.
//
// Only the meta part of pages 0 and 1 is kept (2 x 80 bytes), wherever the
// page size puts page 1, so memory is flat whatever the page size and the
// database size. The stream may go on past the database (the trailer): the
// caller says where the database ended in finish().
//
// bbolt's on-disk layout (go.etcd.io/bbolt, internal/common/page.go and
// meta.go): a page starts with {id u64, flags u16, count u16, overflow u32};
// a meta page follows it with {magic u32, version u32, pageSize u32, flags
// u32, root {pgid u64, sequence u64}, freelist u64, pgid u64, txid u64,
// checksum u64}, the checksum being FNV-1a 64 of the meta bytes before it.
// bbolt writes these in the machine's byte order; etcd runs on little-endian
// machines only, so only little-endian is read here (a big-endian file fails
// on its magic).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "etcd_warden/util/result.hpp"

namespace etcd_warden::snapshot::detail {

inline constexpr std::uint32_t kBboltMagic = 0xED0CDAED;
inline constexpr std::uint32_t kBboltVersion = 2;
inline constexpr std::size_t kBboltPageHeaderSize = 16;
inline constexpr std::size_t kBboltMetaSize = 64;  // up to the end of the checksum
inline constexpr std::size_t kBboltMetaPrefix = kBboltPageHeaderSize + kBboltMetaSize;
inline constexpr std::uint16_t kBboltMetaPageFlag = 0x04;
inline constexpr std::uint64_t kBboltNoFreelist = ~std::uint64_t{0};
// Page sizes bbolt itself finds when it reopens a file (db.go,
// getPageSizeFromSecondMeta probes 1 KiB .. 16 MiB); 512 is the smallest size
// etcdctl's trailer rule (size % 512 == 32) allows for.
inline constexpr std::uint32_t kBboltMinPageSize = 512;
inline constexpr std::uint32_t kBboltMaxPageSize = 16u << 20;

// FNV-1a 64, bbolt's meta checksum (hash/fnv New64a).
std::uint64_t fnv1a64(std::span<const std::byte> data);

// What the database declares, once it checked out.
struct BboltLayout {
  std::uint32_t page_size = 0;
  std::uint64_t pages = 0;  // the meta's pgid: the high-water mark
  std::uint64_t txid = 0;
};

class BboltMetaChecker {
 public:
  // The plain stream, in order, in chunks of any size.
  void update(std::span<const std::byte> data);
  // `db_bytes`: where the database ended (the trailer excluded). The error,
  // without the path: "not a bbolt database: ..." or "truncated: ...".
  util::Result<BboltLayout> finish(std::uint64_t db_bytes) const;

 private:
  using MetaPrefix = std::array<std::byte, kBboltMetaPrefix>;
  // Copies the part of `data` (at stream offset `at`) that falls in [start, start + prefix).
  static void capture(MetaPrefix& into, std::uint64_t start, std::uint64_t at,
                      std::span<const std::byte> data);

  MetaPrefix page0_{};
  MetaPrefix page1_{};
  std::uint64_t seen_ = 0;
  std::uint64_t page1_at_ = 0;  // 0 until page 0's meta says where page 1 is
};

}  // namespace etcd_warden::snapshot::detail
