#include "file_io.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>

#include "etcd_warden/io/error.hpp"

namespace etcd_warden::snapshot::detail {

util::Status create_locked_partial(const std::filesystem::path& partial, io::UniqueFd& fd) {
  fd = io::UniqueFd(::open(partial.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
  if (!fd.valid()) return util::fail(io::sys_error("open", partial, errno));
  const auto raced = [&] {
    fd.reset();
    return util::fail(partial.string() +
                      ": removed by a stale-partial cleanup while being created; the next run "
                      "retries");
  };
  // A cleaner that opened the new file before our lock holds its own and
  // unlinks; one that was quicker still has unlinked it: either way the name
  // no longer leads to our file, and writing on would be writing into nothing.
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return raced();
  struct stat ours {
  }, named{};
  if (::fstat(fd.get(), &ours) != 0) return util::fail(io::sys_error("stat", partial, errno));
  if (::stat(partial.c_str(), &named) != 0 || named.st_ino != ours.st_ino ||
      named.st_dev != ours.st_dev) {
    return raced();
  }
  return util::ok();
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
