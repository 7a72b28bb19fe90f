// Small POSIX helpers shared by the snapshot files: an owning file descriptor,
// writes that survive EINTR and short writes, and one-line errors that name the
// path and the errno text ("write /x/.y.partial: No space left on device").
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace etcd_warden::snapshot::detail {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset() noexcept;
  // close(2) can report a deferred write error (NFS); this returns it (0 or errno).
  int close_checked() noexcept;

 private:
  int fd_ = -1;
};

std::string errno_text(int err);
// "<op> <path>: <errno text>"
std::string sys_error(std::string_view op, const std::filesystem::path& p, int err);

std::optional<std::string> write_all(int fd, std::span<const std::byte> data,
                                     const std::filesystem::path& p);
// Makes a rename or unlink inside `dir` durable.
std::optional<std::string> fsync_dir(const std::filesystem::path& dir);
// rename(2) that fails with EEXIST instead of replacing `to`.
std::optional<std::string> rename_noreplace(const std::filesystem::path& from,
                                            const std::filesystem::path& to);

// The partial-file protocol (".<name>.partial" files, see catalog.hpp):
//   a writer creates its partial with O_EXCL, then holds an exclusive flock
//   on it for as long as it writes;
//   a cleaner removes a partial only while holding that lock itself.
// Creates `partial` (0600, O_EXCL) and takes its lock. Fails with a one-line
// error if the file exists, or if a cleaner got to it between the create and
// the lock (the cleaner holds the lock, or has already unlinked the file).
std::optional<std::string> create_locked_partial(const std::filesystem::path& partial,
                                                 UniqueFd& fd);

std::string hex(std::span<const unsigned char> bytes);

}  // namespace etcd_warden::snapshot::detail
