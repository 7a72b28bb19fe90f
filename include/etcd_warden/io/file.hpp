// Whole-file reads and durable writes. Every function returns a one-line
// error naming the path (io/error.hpp); none throws. They block: on the event
// loop's thread, call them through util::offload.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

#include "etcd_warden/io/error.hpp"
#include "etcd_warden/io/unique_fd.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::io {

// All of `data`, through EINTR and short writes; `path` names fd in the error.
util::Status write_all(int fd, std::span<const std::byte> data, const std::filesystem::path& path);

// fsync(2), then close(2) with its deferred error (NFS reports write errors
// there): the end of writing a file that must survive a crash. On an fsync
// error `fd` stays open for the caller to discard.
util::Status sync_and_close(UniqueFd& fd, const std::filesystem::path& path);

// Makes a create, rename or unlink inside `dir` durable.
util::Status fsync_dir(const std::filesystem::path& dir);

// rename(2) that fails with EEXIST instead of replacing `to`.
util::Status rename_noreplace(const std::filesystem::path& from, const std::filesystem::path& to);

// Writes the whole of `from` to the open `out` (named `out_path` in errors),
// then fsyncs `out`. The caller owns `out`: its creation, lock and close.
util::Status copy_into(const std::filesystem::path& from, int out,
                       const std::filesystem::path& out_path);

// The whole of a regular file, up to `max_bytes` (the error is EFBIG above
// it). A FIFO, device, socket or directory is refused without blocking
// (EISDIR for a directory, EINVAL for the others); /dev/null reads as empty.
// "a FIFO", "a directory", ...: how errors name a file that is not regular.
const char* file_type_name(mode_t mode);

util::Result<std::string, SysError> read_file(const std::filesystem::path& path,
                                              std::size_t max_bytes = std::size_t{1} << 20);

}  // namespace etcd_warden::io
