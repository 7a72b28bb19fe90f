#include "bbolt_meta.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

namespace etcd_warden::snapshot::detail {

namespace {

// Offsets in a page: the header (page.go, Page), then the meta (meta.go, Meta).
constexpr std::size_t kPageId = 0;
constexpr std::size_t kPageFlags = 8;
constexpr std::size_t kMeta = kBboltPageHeaderSize;
constexpr std::size_t kMagic = kMeta + 0;
constexpr std::size_t kVersion = kMeta + 4;
constexpr std::size_t kPageSize = kMeta + 8;
constexpr std::size_t kRoot = kMeta + 16;  // InBucket{root, sequence}
constexpr std::size_t kFreelist = kMeta + 32;
constexpr std::size_t kPgid = kMeta + 40;
constexpr std::size_t kTxid = kMeta + 48;
constexpr std::size_t kChecksum = kMeta + 56;

template <class T>
T little_endian(std::span<const std::byte> bytes, std::size_t at) {
  T v = 0;
  for (std::size_t i = sizeof(T); i-- > 0;)
    v = static_cast<T>((v << 8) | std::to_integer<T>(bytes[at + i]));
  return v;
}

std::string hex(std::uint64_t v, int digits) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

bool valid_page_size(std::uint32_t size) {
  return std::has_single_bit(size) && size >= kBboltMinPageSize && size <= kBboltMaxPageSize;
}

struct Meta {
  std::uint32_t page_size = 0;
  std::uint64_t pages = 0;
  std::uint64_t txid = 0;
};

// bbolt's Meta.Validate (magic, version, checksum), plus what Tx.WriteTo
// always writes and a forged page could get wrong: the page header of a meta
// page with its own id (tx.go, WriteTo: SetFlags(MetaPageFlag), SetId(0) and
// SetId(1)), a page size bbolt can reopen, and the root and freelist below the
// high-water mark (Meta.Write panics otherwise).
util::Result<Meta> parse_meta(std::span<const std::byte> page, std::uint64_t index) {
  const std::string which = "not a bbolt database: meta page " + std::to_string(index);
  const auto magic = little_endian<std::uint32_t>(page, kMagic);
  if (magic != kBboltMagic) {
    return util::fail(which + " has magic " + hex(magic, 8) + ", expected " + hex(kBboltMagic, 8));
  }
  const auto version = little_endian<std::uint32_t>(page, kVersion);
  if (version != kBboltVersion) {
    return util::fail(which + " has version " + std::to_string(version) + ", expected " +
                      std::to_string(kBboltVersion));
  }
  const auto stored = little_endian<std::uint64_t>(page, kChecksum);
  const auto computed = fnv1a64(page.subspan(kMeta, kChecksum - kMeta));
  if (stored != computed) {
    return util::fail(which + " has checksum " + hex(stored, 16) + ", its content sums to " +
                      hex(computed, 16));
  }
  const auto flags = little_endian<std::uint16_t>(page, kPageFlags);
  if (flags != kBboltMetaPageFlag) {
    return util::fail(which + " has page flags " + hex(flags, 2) + ", expected " +
                      hex(kBboltMetaPageFlag, 2) + " (meta)");
  }
  const auto id = little_endian<std::uint64_t>(page, kPageId);
  if (id != index) {
    return util::fail(which + " has page id " + std::to_string(id) + ", expected " +
                      std::to_string(index));
  }
  Meta m;
  m.page_size = little_endian<std::uint32_t>(page, kPageSize);
  if (!valid_page_size(m.page_size)) {
    return util::fail(which + " declares a page size of " + std::to_string(m.page_size) +
                      " bytes, expected a power of two from " + std::to_string(kBboltMinPageSize) +
                      " to " + std::to_string(kBboltMaxPageSize));
  }
  m.pages = little_endian<std::uint64_t>(page, kPgid);
  m.txid = little_endian<std::uint64_t>(page, kTxid);
  const auto root = little_endian<std::uint64_t>(page, kRoot);
  if (root >= m.pages) {
    return util::fail(which + " puts the root bucket at page " + std::to_string(root) +
                      ", beyond its " + std::to_string(m.pages) + " pages");
  }
  const auto freelist = little_endian<std::uint64_t>(page, kFreelist);
  if (freelist != kBboltNoFreelist && freelist >= m.pages) {
    return util::fail(which + " puts the freelist at page " + std::to_string(freelist) +
                      ", beyond its " + std::to_string(m.pages) + " pages");
  }
  return m;
}

}  // namespace

std::uint64_t fnv1a64(std::span<const std::byte> data) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const std::byte b : data) {
    h ^= std::to_integer<std::uint64_t>(b);
    h *= 0x100000001b3ULL;
  }
  return h;
}

void BboltMetaChecker::capture(MetaPrefix& into, std::uint64_t start, std::uint64_t at,
                               std::span<const std::byte> data) {
  const std::uint64_t end = start + into.size();
  const std::uint64_t from = std::max(start, at);
  const std::uint64_t to = std::min(end, at + data.size());
  if (from >= to) return;
  std::memcpy(into.data() + (from - start), data.data() + (from - at), to - from);
}

void BboltMetaChecker::update(std::span<const std::byte> data) {
  capture(page0_, 0, seen_, data);
  if (page1_at_ == 0 && seen_ + data.size() >= page0_.size()) {
    // Page 1 starts one page in, by the size page 0 declares. A size that is
    // no page size leaves page 1 unread: finish() fails on page 0 anyway.
    const auto size = little_endian<std::uint32_t>(page0_, kPageSize);
    if (valid_page_size(size)) page1_at_ = size;
  }
  if (page1_at_ != 0) capture(page1_, page1_at_, seen_, data);
  seen_ += data.size();
}

util::Result<BboltLayout> BboltMetaChecker::finish(std::uint64_t db_bytes) const {
  if (db_bytes > seen_) {
    return util::fail("truncated: " + std::to_string(seen_) + " bytes, expected " +
                      std::to_string(db_bytes));
  }
  if (db_bytes < page0_.size()) {
    return util::fail("not a bbolt database: " + std::to_string(db_bytes) +
                      " bytes, too short for a meta page");
  }
  const auto meta0 = parse_meta(page0_, 0);
  if (!meta0) return util::fail(meta0.error());
  const std::uint64_t page_size = meta0->page_size;
  if (db_bytes < 2 * page_size) {
    return util::fail("truncated: " + std::to_string(db_bytes) +
                      " bytes, less than the two meta pages of " + std::to_string(page_size) +
                      " bytes each");
  }
  // bbolt opens a file when one meta page validates (db.go, mmap), since a
  // crash can tear the one being written. A snapshot is not such a file:
  // Tx.WriteTo writes both meta pages from the same in-memory meta, so in a
  // genuine snapshot both validate, and a bad one means damage or forgery.
  const auto meta1 = parse_meta(page1_, 1);
  if (!meta1) return util::fail(meta1.error());
  if (meta1->page_size != meta0->page_size) {
    return util::fail("not a bbolt database: meta page 0 declares pages of " +
                      std::to_string(meta0->page_size) + " bytes, meta page 1 of " +
                      std::to_string(meta1->page_size));
  }
  // The meta bbolt would use: the one with the higher txid (db.go, meta()).
  const Meta& current = meta1->txid > meta0->txid ? *meta1 : *meta0;
  // Tx.WriteTo writes exactly tx.Size() = pgid * pageSize bytes (tx.go).
  const std::string declared = "the database declares " + std::to_string(current.pages) +
                               " pages of " + std::to_string(page_size) + " bytes";
  const std::string holds = ", the file holds " + std::to_string(db_bytes);
  if (current.pages > db_bytes / page_size) {
    const bool fits = current.pages <= std::numeric_limits<std::uint64_t>::max() / page_size;
    return util::fail("truncated: " + declared +
                      (fits ? " (" + std::to_string(current.pages * page_size) + " bytes)" : "") +
                      holds);
  }
  if (current.pages * page_size != db_bytes) {
    return util::fail("not a bbolt snapshot: " + declared + " (" +
                      std::to_string(current.pages * page_size) + " bytes)" + holds +
                      ", more than bbolt writes");
  }
  return BboltLayout{.page_size = meta0->page_size, .pages = current.pages, .txid = current.txid};
}

}  // namespace etcd_warden::snapshot::detail
