#include "etcd_warden/tuning/fsync_probe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <vector>

#include "etcd_warden/io/error.hpp"

namespace etcd_warden::tuning {

namespace {

// Removes the probe file however the probe ends.
class ProbeFile {
 public:
  explicit ProbeFile(const std::filesystem::path& dir)
      : path_((dir / ".etcd-warden-fsync-probe.XXXXXX").string()) {
    fd_ = ::mkostemp(path_.data(), O_CLOEXEC);  // mode 0600
  }
  ~ProbeFile() {
    if (fd_ < 0) return;
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  ProbeFile(const ProbeFile&) = delete;
  ProbeFile& operator=(const ProbeFile&) = delete;
  int fd() const { return fd_; }

 private:
  std::string path_;
  int fd_ = -1;
};

double nearest_rank(const std::vector<double>& sorted, double q) {
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

ProbeResult probe_fsync(const ProbeOptions& o) {
  using Clock = std::chrono::steady_clock;
  ProbeResult r;
  auto fail = [&](const char* what) {
    r.error = "fsync probe in " + o.dir.string() + ": " + what + ": " + io::errno_text(errno);
    return r;
  };
  const auto start = Clock::now();
  ProbeFile file(o.dir);
  if (file.fd() < 0) return fail("cannot create a file");
  const auto max_syncs = static_cast<std::size_t>(std::max(o.max_syncs, 1));
  // Preallocate what the probe will write, up to 8 MiB (a time-bounded probe
  // with a huge max_syncs must not reserve gigabytes); beyond it, writes append.
  constexpr std::size_t kMaxPreallocate = 8 << 20;
  const auto total = static_cast<off_t>(std::min(max_syncs * o.write_size, kMaxPreallocate));
  if (const int e = ::posix_fallocate(file.fd(), 0, total); e != 0 && e != EOPNOTSUPP) {
    errno = e;
    return fail("cannot preallocate");
  }
  if (::fdatasync(file.fd()) != 0) return fail("fdatasync");

  // Not zeros: some storage compresses or skips them.
  std::vector<char> block(o.write_size);
  for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>((i * 131 + 7) & 0xff);

  std::vector<double> latencies;
  latencies.reserve(max_syncs);
  off_t offset = 0;
  while (latencies.size() < max_syncs && Clock::now() - start < o.max_time) {
    const auto t0 = Clock::now();
    const ssize_t n = ::pwrite(file.fd(), block.data(), block.size(), offset);
    if (n != static_cast<ssize_t>(block.size())) {
      if (n >= 0) errno = ENOSPC;
      return fail("write");
    }
    if (::fdatasync(file.fd()) != 0) return fail("fdatasync");
    latencies.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    offset += n;
    r.bytes_written += static_cast<std::uint64_t>(n);
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.syncs = latencies.size();
  if (latencies.empty()) return r;
  std::sort(latencies.begin(), latencies.end());
  r.p50 = nearest_rank(latencies, 0.50);
  r.p99 = nearest_rank(latencies, 0.99);
  r.max = latencies.back();
  return r;
}

}  // namespace etcd_warden::tuning
