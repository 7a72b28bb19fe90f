// Member and cluster IDs as etcd prints them (etcdctl member list): lower-case
// hex without padding, e.g. "8e9e05c52164694d".
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace etcd_warden {

inline std::string hex_id(std::uint64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

}  // namespace etcd_warden
