// How systemd starts a unit (ExecStart, Environment, EnvironmentFiles), read
// from systemd's manager over D-Bus for tuning discovery. Read-only, every
// call has a deadline, and "no systemd here" is an answer, not an error.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace etcd_warden::systemd {

struct ExecCommand {
  std::string path;
  std::vector<std::string> argv;  // as written in the unit: $VARIABLES not yet expanded
};

struct EnvironmentFileRef {
  std::filesystem::path path;
  bool ignore_if_missing = false;  // EnvironmentFile=-/path
};

struct UnitStartup {
  std::string unit;  // "etcd.service"
  std::vector<ExecCommand> exec_start;
  std::vector<std::string> environment;  // Environment=, "KEY=VALUE"
  std::vector<EnvironmentFileRef> environment_files;
};

// The unit's start-up settings, or why there are none: "cannot connect to
// the system bus: ...", "systemd has no unit etcd.service (LoadState
// not-found)".
struct UnitLookup {
  std::optional<UnitStartup> startup;
  std::string unavailable;
};

inline constexpr std::chrono::milliseconds kSystemdCallTimeout{2000};

// Blocking. `bus` is "system", "session" or a D-Bus address (as control.bus);
// a unit name without a suffix means NAME.service, as with systemctl.
UnitLookup read_unit_startup(const std::string& bus, const std::string& unit,
                             std::chrono::milliseconds call_timeout = kSystemdCallTimeout);

// systemd's variable expansion in ExecStart= (systemd.service(5), "Command
// lines"): a word that is exactly $NAME becomes the variable's value split
// at whitespace (zero or more words), ${NAME} is replaced inside a word, and
// $$ is a '$'. `env` holds "KEY=VALUE" entries; a later one wins.
std::vector<std::string> expand_exec_argv(const std::vector<std::string>& argv,
                                          const std::vector<std::string>& env);

}  // namespace etcd_warden::systemd
