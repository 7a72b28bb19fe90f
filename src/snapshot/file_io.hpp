// The snapshot directory's own file protocol, on top of io/: the partial files
// a writer holds while it writes, and hex digests for sidecars.
#pragma once

#include <filesystem>
#include <span>
#include <string>

#include "etcd_warden/io/unique_fd.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::snapshot::detail {

// The partial-file protocol (".<name>.partial" files, see catalog.hpp):
//   a writer creates its partial with O_EXCL, then holds an exclusive flock
//   on it for as long as it writes;
//   a cleaner removes a partial only while holding that lock itself.
// Creates `partial` (0600, O_EXCL) and takes its lock. Fails with a one-line
// error if the file exists, or if a cleaner got to it between the create and
// the lock (the cleaner holds the lock, or has already unlinked the file).
util::Status create_locked_partial(const std::filesystem::path& partial, io::UniqueFd& fd);

std::string hex(std::span<const unsigned char> bytes);

}  // namespace etcd_warden::snapshot::detail
