// Free TCP ports on 127.0.0.1 for etcd members and daemons started by tests.
#pragma once

#include <cstdint>

namespace etcd_warden::testing {

// Binds 127.0.0.1:0, reads the port the kernel chose and closes the socket.
// Never returns the same port twice within one process. Another process may
// still take the port before the caller binds it; EtcdCluster retries then.
std::uint16_t free_port();

}  // namespace etcd_warden::testing
