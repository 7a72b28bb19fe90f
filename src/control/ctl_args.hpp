// Internal to src/control: the words of `etcd-warden ctl` turned into
// Options, with every usage error as one line. Pure: nothing is printed and
// nothing is read, so run_ctl (ctl.cpp) decides where the text goes and what
// the exit code is (2 for anything here).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace etcd_warden::control::detail {

// Printed after a usage error, and for nothing else.
inline constexpr const char* kUsage =
    "usage: etcd-warden [-c FILE] ctl COMMAND [-o table|json] [--bus ADDRESS]\n"
    "\n"
    "Talks to the running daemon over D-Bus: --bus, else the config's control.bus\n"
    "(system, session or an address), else the system bus.\n"
    "\n"
    "commands:\n"
    "  status              member, jobs, pause state\n"
    "  run NAME [--no-wait]\n"
    "                      run a job now and wait for its result (exit 1 if it failed)\n"
    "  pause [--for D]     hold scheduled jobs, until resumed or for D (e.g. 30m, 2h)\n"
    "  resume              schedule jobs again\n"
    "  snapshots           the snapshots in the daemon's snapshot directory\n"
    "\n"
    "Running jobs, pausing and resuming are for root; status and snapshots for everyone.\n";

struct Options {
  std::string command;            // status, run, pause, resume or snapshots
  std::vector<std::string> args;  // run: the job's name; otherwise empty
  std::optional<std::string> bus;
  bool json = false;
  std::optional<std::string> pause_for;  // as given; checked by pause_seconds()
  bool no_wait = false;
};

// Options, or the usage error ("unknown option '-x'"), never both.
struct Parsed {
  std::optional<Options> options;
  std::string error;
};

// `words` starts with "ctl". Flags may come anywhere, as `--flag VALUE` or
// `--flag=VALUE`.
Parsed parse(const std::vector<std::string>& words);

// What `pause` sends: whole seconds, rounded up so the pause is never
// shorter than asked; 0 (until resumed) without --for. Or the error for a
// --for that is not a duration of at least 1s.
struct PauseSeconds {
  std::optional<std::uint64_t> seconds;
  std::string error;
};
PauseSeconds pause_seconds(const std::optional<std::string>& pause_for);

}  // namespace etcd_warden::control::detail
