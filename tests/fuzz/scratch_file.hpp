// One file per fuzzing process for the targets that read from a path
// (snapshot verification streams from a file descriptor, as in the daemon):
// each input overwrites it. It lives in $TMPDIR (or /tmp) and is removed at exit.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>

#include "fuzz_check.hpp"

namespace etcd_warden::fuzz {

class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    path_ = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
            ("etcd-warden-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Replaces the file `name` with `bytes`, mode 0600, and returns its path.
  std::filesystem::path write(const std::string& name, std::span<const std::byte> bytes) const {
    const auto file = path_ / name;
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    require(fd >= 0, "cannot create the scratch file");
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      require(n > 0, "cannot write the scratch file");
      done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return file;
  }

 private:
  std::filesystem::path path_;
};

// The process's scratch directory, made on first use.
inline const ScratchDir& scratch() {
  static const ScratchDir dir;
  return dir;
}

}  // namespace etcd_warden::fuzz
