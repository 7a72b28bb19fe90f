#include "support/loop_filesystem.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "support/process.hpp"

namespace etcd_warden::testing {

namespace {

std::runtime_error failed(const std::string& what, const std::string& why) {
  return std::runtime_error("LoopFilesystem: " + what + ": " + why);
}

void write_zeros(const std::filesystem::path& image, std::uint64_t size) {
  std::error_code ec;
  if (std::filesystem::file_size(image, ec) == size && !ec) return;
  const int fd = ::open(image.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw failed("create " + image.string(), std::strerror(errno));
  const std::vector<char> zeros(8 << 20, 0);
  for (std::uint64_t done = 0; done < size;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), size - done));
    const ssize_t w = ::write(fd, zeros.data(), n);
    if (w <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw failed("write " + image.string(), why);
    }
    done += static_cast<std::uint64_t>(w);
  }
  const bool synced = ::fdatasync(fd) == 0;
  const std::string why = std::strerror(errno);
  ::close(fd);
  if (!synced) throw failed("fdatasync " + image.string(), why);
}

// losetup and mkfs.ext4: stdout only (losetup --show prints the device).
std::string run(std::vector<std::string> argv) {
  CommandOptions options;
  options.timeout = std::chrono::minutes(2);
  options.separate_stderr = true;
  return run_checked(std::move(argv), "LoopFilesystem", options);
}

}  // namespace

LoopFilesystem::LoopFilesystem(const std::filesystem::path& image, std::uint64_t size_bytes) {
  write_zeros(image, size_bytes);
  device_ = run({"losetup", "--find", "--show", "--direct-io=on", image.string()});
  while (!device_.empty() && (device_.back() == '\n' || device_.back() == ' ')) device_.pop_back();
  try {
    run({"mkfs.ext4", "-q", "-F", "-E", "nodiscard,lazy_itable_init=0,lazy_journal_init=0",
         device_});
    if (::mount(device_.c_str(), path().c_str(), "ext4", 0, nullptr) != 0) {
      throw failed("mount " + device_ + " on " + path().string(), std::strerror(errno));
    }
    mounted_ = true;
  } catch (...) {
    release();
    throw;
  }
}

LoopFilesystem::~LoopFilesystem() {
  release();
}

void LoopFilesystem::release() noexcept {
  if (mounted_ && ::umount2(path().c_str(), 0) != 0) {
    // Still busy (a process of ours has a file open): detach it lazily so
    // that nothing outlives the benchmark.
    std::cerr << "LoopFilesystem: umount " << path() << ": " << std::strerror(errno)
              << "; detaching lazily\n";
    ::umount2(path().c_str(), MNT_DETACH);
  }
  mounted_ = false;
  if (!device_.empty()) {
    try {
      run({"losetup", "--detach", device_});
    } catch (const std::exception& e) {
      std::cerr << e.what() << "\n";
    }
    device_.clear();
  }
}

}  // namespace etcd_warden::testing
