#include "text_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "etcd_warden/util/errno_text.hpp"

namespace etcd_warden::tuning::detail {

std::string TextFile::reason() const {
  if (error == EFBIG) return "larger than discovery reads";
  return util::errno_text(error);
}

TextFile read_text_file(const std::filesystem::path& path, std::size_t max_bytes) {
  TextFile out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    out.error = errno;
    return out;
  }
  std::string text;
  char buffer[8192];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out.error = errno;  // e.g. EISDIR, or EACCES on /proc/PID/environ of another user
      break;
    }
    if (n == 0) {
      out.text = std::move(text);
      break;
    }
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > max_bytes) {
      out.error = EFBIG;
      break;
    }
  }
  ::close(fd);
  return out;
}

}  // namespace etcd_warden::tuning::detail
