// A private temporary directory ($TMPDIR or /tmp) removed with everything in it
// when the object goes away. Set ETCD_WARDEN_KEEP_TEST_DIRS=1 to keep it for a
// post-mortem (the path is printed to stderr then).
#pragma once

#include <filesystem>
#include <string_view>

namespace etcd_warden::testing {

class TempDir {
 public:
  // Creates e.g. /tmp/etcd-warden-test-XXXXXX (mode 0700) in `base`, or in
  // $TMPDIR or /tmp when `base` is empty. Throws on failure.
  explicit TempDir(std::string_view prefix = "etcd-warden-test",
                   const std::filesystem::path& base = {});
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& rel) const { return path_ / rel; }

 private:
  void remove() noexcept;
  std::filesystem::path path_;
};

// Writes `content` to `path` (truncating), creating parent directories.
void write_file(const std::filesystem::path& path, std::string_view content);
// The whole file, or "" when it cannot be read.
std::string read_file(const std::filesystem::path& path);
// XORs the byte at `at` with `mask` in place and puts the mtime back: bit
// rot, which no mtime shows.
void flip_byte(const std::filesystem::path& file, std::streamoff at, char mask = 0x01);

}  // namespace etcd_warden::testing
