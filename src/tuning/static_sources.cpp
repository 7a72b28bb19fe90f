#include "static_sources.hpp"

#include <algorithm>

#include "etcd_warden/io/file.hpp"
#include "etcd_warden/systemd/unit_startup.hpp"

namespace etcd_warden::tuning::detail {

namespace {

namespace fs = std::filesystem;

void add_problems(std::vector<std::string>& notes, const std::string& place,
                  const std::vector<std::string>& problems) {
  for (const auto& p : problems) notes.push_back(place + ": " + p);
}

void keep_notes(const LaunchSettings& s, std::vector<std::string>& notes) {
  notes.insert(notes.end(), s.notes.begin(), s.notes.end());
}

// A file the user named is worth a note when it is missing; the default
// places are only guesses, and most hosts have only one of them.
bool is_default_place(const fs::path& path) {
  const config::TuningJob defaults;
  return path == defaults.kubeadm_manifest ||
         std::find(defaults.env_files.begin(), defaults.env_files.end(), path) !=
             defaults.env_files.end();
}

// An env file's entries, or nullopt when it cannot be used (noted unless
// it is simply absent and `silent_if_missing`).
std::optional<std::vector<std::string>> read_env_file(const fs::path& path, const std::string& role,
                                                      bool silent_if_missing,
                                                      std::vector<std::string>& notes) {
  const auto file = io::read_file(path);
  if (!file && file.error().missing()) {
    if (!silent_if_missing) notes.push_back(path.string() + " (" + role + ") does not exist");
    return std::nullopt;
  }
  if (!file) {
    notes.push_back("cannot read " + path.string() + " (" + role + "): " + file.error().reason());
    return std::nullopt;
  }
  std::vector<std::string> problems;
  auto entries = parse_env_file(*file, &problems);
  add_problems(notes, path.string(), problems);
  return entries;
}

// The ExecStart that runs etcd; with several (Type=oneshot) the first one.
const systemd::ExecCommand* etcd_command(const std::vector<systemd::ExecCommand>& commands) {
  for (const auto& c : commands) {
    if (fs::path(c.path).filename() == "etcd" ||
        (!c.argv.empty() && fs::path(c.argv[0]).filename() == "etcd")) {
      return &c;
    }
  }
  return commands.empty() ? nullptr : &commands.front();
}

// systemd passes Environment= overridden by the EnvironmentFiles, a later
// file over an earlier one (systemd.exec(5)), and expands ExecStart's
// $VARIABLES from the same. A working directory is not read: system
// services start in "/" unless WorkingDirectory= says otherwise.
Launch launch_of_unit(const systemd::UnitStartup& unit, std::vector<std::string>& notes) {
  Launch launch;
  const std::string role = "an EnvironmentFile of " + unit.unit;
  std::vector<std::string> merged = unit.environment;
  for (const auto& ref : unit.environment_files) {
    auto entries = read_env_file(ref.path, role, ref.ignore_if_missing, notes);
    if (!entries) continue;
    launch.env.insert(launch.env.begin(), EnvLayer{ref.path.string(), role, *entries});
    merged.insert(merged.end(), entries->begin(), entries->end());
  }
  launch.env.push_back({unit.unit + " Environment", "", unit.environment});
  if (const systemd::ExecCommand* command = etcd_command(unit.exec_start)) {
    launch.argv_place = unit.unit + " ExecStart";
    launch.argv = systemd::expand_exec_argv(command->argv, merged);
  } else {
    notes.push_back(unit.unit + " has no ExecStart");
  }
  return launch;
}

void read_unit(const config::TuningJob& tuning, std::vector<LaunchSettings>& out,
               std::vector<std::string>& notes) {
  if (tuning.etcd_unit.empty()) return;
  const systemd::UnitLookup lookup =
      systemd::read_unit_startup(tuning.systemd_bus, tuning.etcd_unit);
  if (!lookup.startup) {
    notes.push_back(lookup.unavailable);
    return;
  }
  out.push_back(resolve_launch(launch_of_unit(*lookup.startup, notes)));
  keep_notes(out.back(), notes);
}

void read_manifest(const fs::path& path, std::vector<LaunchSettings>& out,
                   std::vector<std::string>& notes) {
  if (path.empty()) return;
  const auto file = io::read_file(path);
  if (!file && file.error().missing()) {
    if (!is_default_place(path))
      notes.push_back(path.string() + " (tuning.kubeadm_manifest) does not exist");
    return;
  }
  if (!file) {
    notes.push_back("cannot read " + path.string() + ": " + file.error().reason());
    return;
  }
  auto command = kubeadm_etcd_command(*file);
  if (!command) {
    notes.push_back(path.string() + ": " + command.error());
    return;
  }
  Launch launch;
  launch.argv_place = path.string();
  launch.argv = std::move(*command);
  out.push_back(resolve_launch(launch));
  keep_notes(out.back(), notes);
}

void read_env_files(const std::vector<fs::path>& paths, std::vector<LaunchSettings>& out,
                    std::vector<std::string>& notes) {
  for (const auto& path : paths) {
    auto entries = read_env_file(path, "tuning.env_files", is_default_place(path), notes);
    if (!entries) continue;
    Launch launch;
    launch.env.push_back({path.string(), "", std::move(*entries)});
    out.push_back(resolve_launch(launch));
    keep_notes(out.back(), notes);
  }
}

}  // namespace

std::vector<LaunchSettings> read_static_sources(const config::TuningJob& tuning,
                                                std::vector<std::string>& notes) {
  std::vector<LaunchSettings> out;
  read_unit(tuning, out, notes);
  read_manifest(tuning.kubeadm_manifest, out, notes);
  read_env_files(tuning.env_files, out, notes);
  return out;
}

}  // namespace etcd_warden::tuning::detail
