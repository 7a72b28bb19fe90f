// The places that say how etcd is started, read without the process: the
// systemd unit (over D-Bus), the kubeadm manifest, the env files. Each is
// resolved as etcd would resolve it; unreadable or malformed places are
// skipped with a note.
#pragma once

#include <string>
#include <vector>

#include "etcd_warden/config/config.hpp"
#include "launch.hpp"

namespace etcd_warden::tuning::detail {

// In discovery order: unit, manifest, env files (those that exist).
std::vector<LaunchSettings> read_static_sources(const config::TuningJob& tuning,
                                                std::vector<std::string>& notes);

}  // namespace etcd_warden::tuning::detail
