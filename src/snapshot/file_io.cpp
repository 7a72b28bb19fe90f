#include "file_io.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace etcd_warden::snapshot::detail {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    reset();
    fd_ = o.release();
  }
  return *this;
}

void UniqueFd::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int UniqueFd::close_checked() noexcept {
  if (fd_ < 0) return 0;
  const int rc = ::close(fd_);
  fd_ = -1;
  // EINTR on close: the descriptor is gone on Linux; nothing to retry.
  return rc == 0 || errno == EINTR ? 0 : errno;
}

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r returns the message (maybe not in buf).
  return ::strerror_r(err, buf, sizeof buf);
}

std::string sys_error(std::string_view op, const std::filesystem::path& p, int err) {
  std::string s(op);
  s += ' ';
  s += p.string();
  s += ": ";
  s += errno_text(err);
  return s;
}

std::optional<std::string> write_all(int fd, std::span<const std::byte> data,
                                     const std::filesystem::path& p) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write", p, errno);
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return std::nullopt;
}

std::optional<std::string> fsync_dir(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("open", dir, errno);
  if (::fsync(fd.get()) != 0) return sys_error("fsync", dir, errno);
  return std::nullopt;
}

std::optional<std::string> create_locked_partial(const std::filesystem::path& partial,
                                                 UniqueFd& fd) {
  fd = UniqueFd(::open(partial.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
  if (!fd.valid()) return sys_error("open", partial, errno);
  const auto raced = [&] {
    fd.reset();
    return partial.string() +
           ": removed by a stale-partial cleanup while being created; the next run retries";
  };
  // A cleaner that opened the new file before our lock holds its own and
  // unlinks; one that was quicker still has unlinked it: either way the name
  // no longer leads to our file, and writing on would be writing into nothing.
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return raced();
  struct stat ours {
  }, named{};
  if (::fstat(fd.get(), &ours) != 0) return sys_error("stat", partial, errno);
  if (::stat(partial.c_str(), &named) != 0 || named.st_ino != ours.st_ino ||
      named.st_dev != ours.st_dev) {
    return raced();
  }
  return std::nullopt;
}

std::optional<std::string> rename_noreplace(const std::filesystem::path& from,
                                            const std::filesystem::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return std::nullopt;
  }
  if (errno != EINVAL && errno != ENOSYS) {
    return "rename " + from.string() + " -> " + to.string() + ": " + errno_text(errno);
  }
  // Filesystems without RENAME_NOREPLACE (some NFS, old kernels): link(2) also
  // refuses an existing target, atomically.
  if (::link(from.c_str(), to.c_str()) != 0) {
    return "link " + from.string() + " -> " + to.string() + ": " + errno_text(errno);
  }
  if (::unlink(from.c_str()) != 0) return sys_error("unlink", from, errno);
  return std::nullopt;
}

std::string hex(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 0xf];
  }
  return s;
}

}  // namespace etcd_warden::snapshot::detail
