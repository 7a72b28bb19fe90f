// Free space on a filesystem. statvfs(2) can hang for seconds on a slow NFS
// mount: call it through util::offload, never on the event loop.
#pragma once

#include <filesystem>

#include "etcd_warden/util/bytes.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::io {

// Bytes an unprivileged writer may still use on the filesystem holding `dir`;
// the error names the directory and the reason.
util::Result<Bytes> free_space(const std::filesystem::path& dir);

}  // namespace etcd_warden::io
