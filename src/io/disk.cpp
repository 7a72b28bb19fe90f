#include "etcd_warden/io/disk.hpp"

#include <sys/statvfs.h>

#include <cerrno>

#include "etcd_warden/io/error.hpp"

namespace etcd_warden::io {

util::Result<Bytes> free_space(const std::filesystem::path& dir) {
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) return util::fail(sys_error("statvfs", dir, errno));
  return Bytes{static_cast<std::uint64_t>(vfs.f_bavail) * static_cast<std::uint64_t>(vfs.f_frsize)};
}

}  // namespace etcd_warden::io
