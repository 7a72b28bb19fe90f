// The throwaway single-member etcd a drill restores into and starts: its own
// name, cluster token and loopback ports, never the member's. The restore
// rewrites the membership to this one member, so it cannot reach, nor be
// reached by, the real cluster.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "etcd_warden/util/bytes.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::drill {

inline constexpr const char* kDrillMemberName = "etcd-warden-drill";

struct Throwaway {
  std::uint16_t client_port = 0;
  std::uint16_t peer_port = 0;
  std::string client_url() const;  // http://127.0.0.1:PORT
  std::string peer_url() const;
};

// Two distinct ports the kernel says are free on 127.0.0.1 now.
util::Result<Throwaway> pick_ports();

// `snapshot restore FILE ...` for etcdutl (3.5+) and etcdctl (3.4) alike.
std::vector<std::string> restore_args(const Throwaway& t, const std::filesystem::path& snapshot,
                                      const std::filesystem::path& data_dir);

// The etcd command line; the quota is large enough for the restored
// database, so a big snapshot does not start in NOSPACE.
std::vector<std::string> etcd_args(const Throwaway& t, const std::filesystem::path& data_dir,
                                   Bytes db_bytes);

}  // namespace etcd_warden::drill
