// `etcd-warden snapshot verify FILE | list` and `etcd-warden restore-plan [SNAPSHOT]`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace etcd_warden::app {

// words: {"snapshot", "verify"|"list", ...}. Exit code.
int snapshot_command(const std::vector<std::string>& words, const std::string& config_path,
                     std::ostream& out, std::ostream& err);
// words: {"restore-plan"[, SNAPSHOT]}. Exit code.
int restore_plan_command(const std::vector<std::string>& words, const std::string& config_path,
                         std::ostream& out, std::ostream& err);

}  // namespace etcd_warden::app
