#include "etcd_warden/io/unique_fd.hpp"

#include <unistd.h>

#include <cerrno>

namespace etcd_warden::io {

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

}  // namespace etcd_warden::io
