// A disk of its own for one etcd member in a benchmark: a fresh ext4
// filesystem on a loop device over an image file, mounted on a private
// directory. Three members on one host otherwise share one filesystem, and
// with it its journal and (here) its online discard: one member's defrag,
// which writes a full copy of the database and unlinks the old file, then
// stalls every member's WAL fsync, which separate hosts never do. The
// image still lives on the host's disk, so the members keep sharing the
// device's bandwidth: the setup is closer to separate hosts, and no kinder
// than them. Needs root (losetup, mkfs.ext4, mount).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "support/temp_dir.hpp"

namespace etcd_warden::testing {

class LoopFilesystem {
 public:
  // Writes `image` in full with zeros unless it already has `size_bytes`
  // (so that the loop device never allocates blocks in the host filesystem,
  // whose journal the members would share again), attaches it with direct
  // I/O, makes a fresh ext4 on it (inode tables and journal written now,
  // not by a background thread during the measurement; no discard) and
  // mounts it. Throws std::runtime_error naming the step that failed.
  LoopFilesystem(const std::filesystem::path& image, std::uint64_t size_bytes);
  ~LoopFilesystem();  // unmounts and detaches; the image stays for reuse
  LoopFilesystem(const LoopFilesystem&) = delete;
  LoopFilesystem& operator=(const LoopFilesystem&) = delete;

  const std::filesystem::path& path() const { return mount_point_.path(); }
  const std::string& device() const { return device_; }

 private:
  void release() noexcept;
  TempDir mount_point_{"etcd-warden-disk"};  // removed after the unmount
  std::string device_;                       // /dev/loopN
  bool mounted_ = false;
};

}  // namespace etcd_warden::testing
