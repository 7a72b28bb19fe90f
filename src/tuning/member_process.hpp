// Finding this member's etcd among the host's processes (/proc), and what it
// runs with, for discovery.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "etcd_warden/config/config.hpp"
#include "launch.hpp"

namespace etcd_warden::tuning::detail {

struct MemberProcess {
  int pid = 0;
  LaunchSettings settings;
};

struct ProcessSearch {
  std::optional<MemberProcess> member;
  std::vector<std::string> notes;  // how it was chosen when not plainly, what could not be read
};

// The etcd process (comm or argv[0] "etcd") whose data dir is etcd.data_dir,
// or else whose client URLs use the port of etcd.endpoints[0]. When none
// matches and there is exactly one etcd process about which neither can be
// told, that one is taken, with a note; an etcd known to use another data
// dir and port is never taken (it is another member or another cluster).
ProcessSearch find_member_process(const config::Etcd& etcd, const std::filesystem::path& proc_root);

}  // namespace etcd_warden::tuning::detail
