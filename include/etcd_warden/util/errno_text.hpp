// The text for an errno value ("No space left on device"), safe to call from
// any thread: file and disk errors are formatted on the blocking pool, where
// std::strerror's shared buffer is not (the snapshot layer has its own copy in
// snapshot/file_io.hpp).
#pragma once

#include <string>

namespace etcd_warden::util {

std::string errno_text(int err);

}  // namespace etcd_warden::util
