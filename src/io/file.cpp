#include "etcd_warden/io/file.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "etcd_warden/io/unique_fd.hpp"

namespace etcd_warden::io {

namespace fs = std::filesystem;

util::Status write_all(int fd, std::span<const std::byte> data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return util::fail(sys_error("write", path, errno));
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return util::ok();
}

util::Status sync_and_close(UniqueFd& fd, const fs::path& path) {
  if (::fsync(fd.get()) != 0) return util::fail(sys_error("fsync", path, errno));
  if (const int err = fd.close_checked()) return util::fail(sys_error("close", path, err));
  return util::ok();
}

util::Status fsync_dir(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return util::fail(sys_error("open", dir, errno));
  if (::fsync(fd.get()) != 0) return util::fail(sys_error("fsync", dir, errno));
  return util::ok();
}

util::Status rename_noreplace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return util::ok();
  }
  const auto pair_error = [&](const char* op) {
    return util::fail(std::string(op) + " " + from.string() + " -> " + to.string() + ": " +
                      errno_text(errno));
  };
  if (errno != EINVAL && errno != ENOSYS) return pair_error("rename");
  // Filesystems without RENAME_NOREPLACE (some NFS, old kernels): link(2) also
  // refuses an existing target, atomically.
  if (::link(from.c_str(), to.c_str()) != 0) return pair_error("link");
  if (::unlink(from.c_str()) != 0) return util::fail(sys_error("unlink", from, errno));
  return util::ok();
}

util::Status copy_into(const fs::path& from, int out, const fs::path& out_path) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return util::fail(sys_error("open", from, errno));
  std::vector<std::byte> buf(std::size_t{1} << 20);
  while (true) {
    const ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return util::fail(sys_error("read", from, errno));
    if (n == 0) break;
    auto written = write_all(out, std::span(buf).first(static_cast<std::size_t>(n)), out_path);
    if (!written) return written;
  }
  if (::fsync(out) != 0) return util::fail(sys_error("fsync", out_path, errno));
  return util::ok();
}

const char* file_type_name(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

util::Result<std::string, SysError> read_file(const fs::path& path, std::size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO without a writer would block until one comes
  // (forever, on the event loop's behalf). Only regular files are read; /proc
  // and /sys files are regular too.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) return SysError{errno, sys_error("open", path, errno)};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return SysError{errno, sys_error("stat", path, errno)};
  // /dev/null reads as empty: `-c /dev/null` is how one says "no config".
  if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) return std::string();
  if (!S_ISREG(st.st_mode)) {
    const int err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    std::string detail = std::string(file_type_name(st.st_mode)) + ", not a regular file";
    return SysError{err, "read " + path.string() + ": " + detail, detail};
  }
  std::string text;
  char buffer[8192];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    // e.g. EISDIR, or EACCES on /proc/PID/environ of another user
    if (n < 0) return SysError{errno, sys_error("read", path, errno)};
    if (n == 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > max_bytes) {
      return SysError{
          EFBIG, "read " + path.string() + ": larger than " + std::to_string(max_bytes) + " bytes"};
    }
  }
}

}  // namespace etcd_warden::io
