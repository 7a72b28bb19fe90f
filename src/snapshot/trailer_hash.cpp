#include "trailer_hash.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "file_io.hpp"

namespace etcd_warden::snapshot::detail {

namespace {

// etcdctl (clientv3/snapshot: hasChecksum) decides whether a file carries the
// trailer by `size % 512 == 32`: bbolt files are whole pages, and a page is a
// multiple of the 512-byte sector. A file failing this cannot be restored
// without --skip-hash-check, so we treat it as cut short.
constexpr std::uint64_t kBlock = 512;

}  // namespace

struct TrailerHasher::Ctx {
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> md{EVP_MD_CTX_new()};
};

TrailerHasher::TrailerHasher() : ctx_(std::make_unique<Ctx>()) {
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL: cannot initialise sha256");
  }
}

TrailerHasher::~TrailerHasher() = default;
TrailerHasher::TrailerHasher(TrailerHasher&&) noexcept = default;
TrailerHasher& TrailerHasher::operator=(TrailerHasher&&) noexcept = default;

void TrailerHasher::hash(std::span<const std::byte> data) {
  if (!data.empty()) EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size());
}

void TrailerHasher::update(std::span<const std::byte> data) {
  total_ += data.size();
  if (data.size() >= kTrailerSize) {
    // Everything held back so far, and all but the last 32 new bytes, is content.
    hash(std::span(tail_).first(tail_len_));
    hash(data.first(data.size() - kTrailerSize));
    std::memcpy(tail_.data(), data.data() + data.size() - kTrailerSize, kTrailerSize);
    tail_len_ = kTrailerSize;
    return;
  }
  const std::size_t combined = tail_len_ + data.size();
  if (combined > kTrailerSize) {
    const std::size_t spill = combined - kTrailerSize;
    hash(std::span(tail_).first(spill));
    std::memmove(tail_.data(), tail_.data() + spill, tail_len_ - spill);
    tail_len_ -= spill;
  }
  std::memcpy(tail_.data() + tail_len_, data.data(), data.size());
  tail_len_ += data.size();
}

util::Result<TrailerDigest> TrailerHasher::finish(std::string_view source) {
  TrailerDigest digest;
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md.get(), md.data(), &len);
  digest.sha256 = hex(std::span(md).first(len));
  if (total_ < kBlock + kTrailerSize) {
    return util::fail("truncated: " + std::to_string(total_) +
                      " bytes, an etcd snapshot has at least one 512-byte block and the 32-byte "
                      "sha256 trailer");
  }
  digest.db_bytes = total_ - kTrailerSize;
  if (digest.db_bytes % kBlock != 0) {
    return util::fail("truncated: " + std::to_string(digest.db_bytes) +
                      " bytes before the trailer, not a whole number of 512-byte blocks");
  }
  const std::string trailer =
      hex(std::span(reinterpret_cast<const unsigned char*>(tail_.data()), kTrailerSize));
  if (trailer != digest.sha256) {
    return util::fail("sha256 trailer mismatch: " + std::string(source) + " " + trailer +
                      ", content hashes to " + digest.sha256);
  }
  return digest;
}

}  // namespace etcd_warden::snapshot::detail
