#include "etcd_warden/snapshot/verify.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "bbolt_meta.hpp"
#include "etcd_warden/io/error.hpp"
#include "etcd_warden/io/file.hpp"
#include "etcd_warden/io/unique_fd.hpp"
#include "file_io.hpp"
#include "trailer_hash.hpp"

namespace etcd_warden::snapshot {

namespace {

using io::sys_error;
using io::UniqueFd;

constexpr std::size_t kReadSize = std::size_t{1} << 20;
constexpr std::array<std::byte, 4> kZstdMagic{std::byte{0x28}, std::byte{0xB5}, std::byte{0x2F},
                                              std::byte{0xFD}};

// Receives the plain snapshot bytes; returns an error to stop.
using Sink = std::function<util::Status(std::span<const std::byte>)>;

struct FreeDCtx {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Reads up to buf.size() bytes; fewer only at the end of the file.
util::Status read_some(int fd, std::span<std::byte> buf, const std::filesystem::path& p,
                       std::size_t& got) {
  got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return util::fail(sys_error("read", p, errno));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return util::ok();
}

// What one pass over the plain content checks: the trailer, and the bbolt
// structure of the database before it.
struct Checks {
  detail::TrailerHasher hasher;
  detail::BboltMetaChecker bbolt;
};

// Feeds the plain content of `path` to the checks and `sink`; fills the size
// and compression in `r`, and leaves the verdicts to the caller.
util::Status scan(const std::filesystem::path& path, VerifiedSnapshot& r, Checks& checks,
                  const Sink& sink) {
  // O_NONBLOCK: a FIFO in the snapshot's place must not block the open (the
  // fstat below then refuses it); reads of a regular file ignore the flag.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return util::fail(sys_error("open", path, errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return util::fail(sys_error("stat", path, errno));
  if (!S_ISREG(st.st_mode)) return util::fail(path.string() + ": not a regular file");
  r.file_bytes = Bytes{static_cast<std::uint64_t>(st.st_size)};

  std::vector<std::byte> in(kReadSize);
  std::size_t got = 0;
  if (auto read = read_some(fd.get(), in, path, got); !read) return read;
  r.compressed =
      got >= kZstdMagic.size() && std::memcmp(in.data(), kZstdMagic.data(), kZstdMagic.size()) == 0;

  const auto emit = [&](std::span<const std::byte> plain) -> util::Status {
    checks.hasher.update(plain);
    checks.bbolt.update(plain);
    return sink ? sink(plain) : util::ok();
  };

  if (!r.compressed) {
    while (got > 0) {
      if (auto emitted = emit(std::span(in).first(got)); !emitted) return emitted;
      if (auto read = read_some(fd.get(), in, path, got); !read) return read;
    }
    return util::ok();
  }

  std::unique_ptr<ZSTD_DCtx, FreeDCtx> dctx(ZSTD_createDCtx());
  if (!dctx) return util::fail(path.string() + ": zstd: cannot create a decompression context");
  std::vector<std::byte> out(ZSTD_DStreamOutSize());
  std::size_t last = 1;           // 0 once the frame is complete and flushed
  std::uint64_t read_before = 0;  // compressed bytes before `in`
  while (got > 0) {
    ZSTD_inBuffer zin{in.data(), got, 0};
    // zstd keeps the last byte of a frame until all its output is flushed, so
    // "input consumed" also means "output drained".
    while (zin.pos < zin.size) {
      if (last == 0) {
        // Our writer makes exactly one frame. zstd would go on decoding a
        // second one, and skip a skippable frame silently: either way bytes
        // nobody checked would ride along, so anything after the frame fails.
        const std::uint64_t frame_end = read_before + zin.pos;
        const std::uint64_t after =
            r.file_bytes.value > frame_end ? r.file_bytes.value - frame_end : got - zin.pos;
        return util::fail(path.string() + ": zstd: data after the end of the snapshot's frame (" +
                          std::to_string(after) + " bytes)");
      }
      ZSTD_outBuffer zout{out.data(), out.size(), 0};
      last = ZSTD_decompressStream(dctx.get(), &zout, &zin);
      if (ZSTD_isError(last)) {
        return util::fail(path.string() + ": zstd: " + ZSTD_getErrorName(last));
      }
      if (auto emitted = emit(std::span(out).first(zout.pos)); !emitted) return emitted;
    }
    read_before += got;
    if (auto read = read_some(fd.get(), in, path, got); !read) return read;
  }
  if (last != 0) {
    return util::fail(path.string() +
                      ": truncated: the zstd stream ends in the middle of a frame (after " +
                      std::to_string(checks.hasher.total_bytes()) + " decompressed bytes)");
  }
  return util::ok();
}

VerifyResult run(const std::filesystem::path& path, const Sink& sink) {
  VerifiedSnapshot r;
  Checks checks;
  if (auto scanned = scan(path, r, checks, sink); !scanned) return util::fail(scanned.error());
  // The trailer first: damage in transit reads best as a hash mismatch. The
  // bbolt check then refuses what hashes right but is no database etcd opens.
  auto digest = checks.hasher.finish("file says");
  if (!digest) return util::fail(path.string() + ": " + digest.error());
  const auto layout = checks.bbolt.finish(digest->db_bytes);
  if (!layout) return util::fail(path.string() + ": " + layout.error());
  r.db_bytes = Bytes{digest->db_bytes};
  r.sha256 = std::move(digest->sha256);
  r.page_size = layout->page_size;
  r.pages = layout->pages;
  return r;
}

}  // namespace

VerifyResult verify_file(const std::filesystem::path& file) {
  return run(file, nullptr);
}

util::Status decompress_to(const std::filesystem::path& in, const std::filesystem::path& out) {
  UniqueFd fd(::open(out.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
  if (!fd.valid()) return util::fail(sys_error("open", out, errno));
  const auto fail = [&](std::string err) {
    fd.reset();
    ::unlink(out.c_str());
    return util::fail(std::move(err));
  };
  const Sink sink = [&](std::span<const std::byte> plain) {
    return io::write_all(fd.get(), plain, out);
  };
  if (auto verified = run(in, sink); !verified) return fail(verified.error());
  if (auto synced = io::sync_and_close(fd, out); !synced) return fail(synced.error());
  return util::ok();
}

}  // namespace etcd_warden::snapshot
