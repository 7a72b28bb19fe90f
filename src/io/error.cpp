#include "etcd_warden/io/error.hpp"

#include <cerrno>
#include <cstring>

namespace etcd_warden::io {

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r returns the message (maybe not in buf).
  return ::strerror_r(err, buf, sizeof buf);
}

std::string sys_error(std::string_view op, const std::filesystem::path& path, int err) {
  std::string s(op);
  s += ' ';
  s += path.string();
  s += ": ";
  s += errno_text(err);
  return s;
}

bool SysError::missing() const {
  return code == ENOENT;
}

std::string SysError::reason() const {
  if (!detail.empty()) return detail;
  if (code == EFBIG) return "larger than the reader's limit";
  return errno_text(code);
}

}  // namespace etcd_warden::io
