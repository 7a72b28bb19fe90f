// `etcd-warden ctl status | run NAME | pause [--for D] | resume | snapshots`:
// the operator's side of the D-Bus control interface. Talks to the running
// daemon on the bus given by `--bus` or the config file's `control.bus`
// (default: the system bus); a readable table by default, `-o json` for
// scripts. Exit 0 on success, 1 when the daemon is not running or refuses
// (unknown job, denied by the bus policy, the job failed), 2 on usage errors.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace etcd_warden::control {

// `words` starts with "ctl". `config_path` is read only for `control.bus`
// and only when `--bus` is not given; a missing or unreadable file means the
// system bus (a non-root user may not read the daemon's config).
int run_ctl(const std::vector<std::string>& words, const std::filesystem::path& config_path);

// One line for `etcd-warden --help`.
inline constexpr const char* kCtlUsage =
    "ctl status|run NAME|pause [--for D]|resume|snapshots [-o json] [--bus ADDRESS]";

}  // namespace etcd_warden::control
