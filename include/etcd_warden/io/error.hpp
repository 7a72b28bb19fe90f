// One-line system errors that name the operation and the place:
// "write /var/lib/x/.y.partial: No space left on device".
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace etcd_warden::io {

// The text for an errno value ("No space left on device"), safe on any
// thread: file and disk errors are formatted on the blocking pool, where
// std::strerror's shared buffer is not.
std::string errno_text(int err);

// "<op> <path>: <errno text>"
std::string sys_error(std::string_view op, const std::filesystem::path& path, int err);

// An error that callers branch on by its errno (a missing file is often no
// error at all) and report by its message.
struct SysError {
  int code = 0;         // errno; EFBIG when a file is over the reader's limit
  std::string message;  // "open /etc/default/etcd: Permission denied"
  std::string detail;   // when errno's text is not the reason: "a FIFO, not a regular file"

  bool missing() const;        // ENOENT
  std::string reason() const;  // "Permission denied": detail, else errno's text
};

}  // namespace etcd_warden::io
