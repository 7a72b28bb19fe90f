// Minimal bbolt databases for tests that need a snapshot without an etcd: what
// bbolt's DB.init writes (meta pages 0 and 1, an empty freelist at page 2, an
// empty leaf as the root bucket at page 3), with meta page 1 one txid behind
// as Tx.WriteTo writes it, and optional padding pages after them so that a
// test gets the size it wants. Written independently of the warden's own
// reader (src/snapshot/bbolt_meta.cpp), so that a mistake there shows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace etcd_warden::testing {

using Blob = std::vector<std::byte>;

struct FakeBbolt {
  std::uint32_t page_size = 4096;
  std::uint64_t pages = 4;  // at least the 4 of DB.init; the rest is padding
  std::uint64_t txid = 2;   // meta page 0's; meta page 1 gets txid - 1
  unsigned seed = 1;        // padding: alternately random and repetitive 4 KiB runs
};

// Offsets in a meta page: the 16-byte page header, then the meta.
inline constexpr std::size_t kFakeMetaMagic = 16;
inline constexpr std::size_t kFakeMetaPageSize = 24;
inline constexpr std::size_t kFakeMetaPgid = 56;
inline constexpr std::size_t kFakeMetaChecksum = 72;

// The database alone: pages * page_size bytes.
Blob fake_bbolt_db(const FakeBbolt& options = {});

// `db` followed by sha256(db), as etcd's Maintenance.Snapshot sends it.
Blob with_sha256_trailer(std::span<const std::byte> db);

// fake_bbolt_db + trailer.
Blob fake_bbolt_snapshot(const FakeBbolt& options = {});

// Recomputes the FNV-1a checksum of meta page `index` after a test edited it.
void reseal_meta(std::span<std::byte> db, std::uint32_t page_size, std::uint64_t index);

// Little-endian store, for tests that edit a field.
void put_le(std::span<std::byte> at, std::uint64_t value, std::size_t bytes);

}  // namespace etcd_warden::testing
