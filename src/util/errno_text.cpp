#include "etcd_warden/util/errno_text.hpp"

#include <cstring>

namespace etcd_warden::util {

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r returns the message (maybe not in buf).
  return ::strerror_r(err, buf, sizeof buf);
}

}  // namespace etcd_warden::util
