// Checks the sha256 trailer of an etcd snapshot stream while it passes by.
// etcd's Maintenance.Snapshot sends the bbolt file and then sha256(file) as 32
// more bytes; the end is only known when the stream ends, so the last 32 bytes
// seen are held back from the hash until then. Memory is flat whatever the size.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "etcd_warden/util/result.hpp"

namespace etcd_warden::snapshot::detail {

inline constexpr std::size_t kTrailerSize = 32;

// A stream whose trailer matched. The error otherwise: "truncated: ..." or
// "sha256 trailer mismatch: ...".
struct TrailerDigest {
  std::string sha256;          // hex of what the content hashes to
  std::uint64_t db_bytes = 0;  // bytes before the trailer
};

class TrailerHasher {
 public:
  TrailerHasher();
  ~TrailerHasher();
  TrailerHasher(TrailerHasher&&) noexcept;
  TrailerHasher& operator=(TrailerHasher&&) noexcept;

  void update(std::span<const std::byte> data);
  std::uint64_t total_bytes() const { return total_; }
  // `source` names who supplied the trailer in a mismatch: "file says X" / "etcd sent X".
  util::Result<TrailerDigest> finish(std::string_view source);

 private:
  void hash(std::span<const std::byte> data);

  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  std::array<std::byte, kTrailerSize> tail_{};
  std::size_t tail_len_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace etcd_warden::snapshot::detail
