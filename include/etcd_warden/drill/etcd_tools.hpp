// Which etcd the drill runs: drill.etcd_bin_dir when set; else the binaries
// beside the running member's etcd (the directory of /proc/PID/exe, reached
// through /proc/PID/root, so a containerised etcd's own build is used, as on
// kubeadm hosts); else etcd on PATH. Its version comes from `etcd --version`,
// and with it the restore tool (etcdutl from 3.5, etcdctl before).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/drill/drill_rule.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::drill {

struct EtcdTools {
  std::filesystem::path etcd;
  std::filesystem::path restore_tool;  // etcdutl or etcdctl, in the same directory
  bool etcdutl = false;
  EtcdVersion version;
  std::string where;  // "/usr/bin (beside the running etcd, pid 812)"
};

// Blocking (runs etcd --version, 10 s deadline). Errors name the directory
// and what is missing or wrong there.
util::Result<EtcdTools> find_etcd_tools(const config::Config& config,
                                        std::vector<std::string>& notes,
                                        const std::filesystem::path& proc_root = "/proc");

}  // namespace etcd_warden::drill
