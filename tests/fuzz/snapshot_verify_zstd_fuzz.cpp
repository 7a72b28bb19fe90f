// The same content verified plain and compressed must get the same verdict:
// the input is the plain snapshot, and a zstd frame of it (as the writer
// makes, streamed, in chunks that split pages and the trailer) is checked
// against it. This reaches the decompressing path with valid frames, which
// mutating compressed bytes rarely makes.
#include <zstd.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "etcd_warden/snapshot/verify.hpp"
#include "fuzz_check.hpp"
#include "scratch_file.hpp"

using namespace etcd_warden;

namespace {

struct FreeCCtx {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

// One frame, fed in 1000-byte pieces and without a content size, as a stream
// from etcd is compressed.
std::vector<std::byte> compressed(std::span<const std::byte> plain) {
  std::unique_ptr<ZSTD_CCtx, FreeCCtx> cctx(ZSTD_createCCtx());
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, 1);
  std::vector<std::byte> out(ZSTD_compressBound(plain.size()) + 1024);
  ZSTD_outBuffer o{out.data(), out.size(), 0};
  for (std::size_t at = 0;;) {
    const std::size_t n = std::min<std::size_t>(1000, plain.size() - at);
    ZSTD_inBuffer in{plain.data() + at, n, 0};
    const bool last = at + n == plain.size();
    const auto left =
        ZSTD_compressStream2(cctx.get(), &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
    fuzz::require(!ZSTD_isError(left), "zstd could not compress the input");
    at += in.pos;
    if (last && left == 0) break;
  }
  out.resize(o.pos);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto plain = fuzz::as_bytes(data, size);
  const auto frame = compressed(plain);
  const auto plain_result = snapshot::verify_file(fuzz::scratch().write("snapshot.db", plain));
  const auto zstd_result = snapshot::verify_file(fuzz::scratch().write("snapshot.db.zst", frame));
  if (plain_result.ok() != zstd_result.ok()) {
    fuzz::finding(std::string("plain and zstd verdicts differ: plain ") +
                  (plain_result ? "OK" : plain_result.error()) + ", zstd " +
                  (zstd_result ? "OK" : zstd_result.error()));
  }
  if (!plain_result) return 0;
  fuzz::require(zstd_result->compressed && !plain_result->compressed, "compression misread");
  fuzz::require(zstd_result->sha256 == plain_result->sha256 &&
                    zstd_result->db_bytes == plain_result->db_bytes &&
                    zstd_result->page_size == plain_result->page_size &&
                    zstd_result->pages == plain_result->pages,
                "plain and zstd verify to different contents");
  fuzz::require(zstd_result->file_bytes.value == frame.size(),
                "file_bytes is not the frame's size");
  return 0;
}
