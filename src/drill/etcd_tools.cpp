#include "etcd_warden/drill/etcd_tools.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "etcd_warden/drill/child.hpp"
#include "etcd_warden/tuning/discovery.hpp"

namespace etcd_warden::drill {

namespace fs = std::filesystem;

namespace {

bool executable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

struct Place {
  fs::path dir;
  std::string where;
};

// The directory of the running etcd's binary, as this host sees it.
std::optional<Place> beside_running(const config::Etcd& etcd, std::vector<std::string>& notes,
                                    const fs::path& proc_root) {
  const auto pid = tuning::find_etcd_pid(etcd, notes, proc_root);
  if (!pid) return std::nullopt;
  const fs::path proc = proc_root / std::to_string(*pid);
  std::error_code ec;
  const fs::path exe = fs::read_symlink(proc / "exe", ec);
  const std::string label = "the running etcd, pid " + std::to_string(*pid);
  if (ec) {
    notes.push_back("cannot read " + (proc / "exe").string() + " (" + label + "): " + ec.message());
    return std::nullopt;
  }
  if (exe.string().ends_with(" (deleted)")) {
    notes.push_back(label + " runs a binary since replaced (" + exe.string() + ")");
    return std::nullopt;
  }
  // Through its root: the same path on the host, its image's in a container.
  const fs::path dir = proc / "root" / exe.parent_path().relative_path();
  if (!executable(dir / "etcd")) {
    notes.push_back("no etcd binary beside " + label + " (" + exe.string() + ")");
    return std::nullopt;
  }
  return Place{dir, exe.parent_path().string() + " (beside " + label + ")"};
}

std::optional<Place> on_path() {
  const char* path = std::getenv("PATH");
  std::string_view rest =
      path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const fs::path dir(std::string(rest.substr(0, colon)));
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (!dir.empty() && executable(dir / "etcd")) return Place{dir, dir.string() + " (on PATH)"};
  }
  return std::nullopt;
}

}  // namespace

util::Result<EtcdTools> find_etcd_tools(const config::Config& config,
                                        std::vector<std::string>& notes,
                                        const fs::path& proc_root) {
  std::optional<Place> place;
  if (!config.drill.etcd_bin_dir.empty()) {
    const fs::path& dir = config.drill.etcd_bin_dir;
    if (!executable(dir / "etcd")) {
      return util::fail("drill.etcd_bin_dir " + dir.string() + ": no executable etcd there");
    }
    place = Place{dir, dir.string() + " (drill.etcd_bin_dir)"};
  }
  if (!place) place = beside_running(config.etcd, notes, proc_root);
  if (!place) place = on_path();
  if (!place) {
    return util::fail(
        "no etcd binary to run the drill: none beside the running etcd, none on PATH; set "
        "drill.etcd_bin_dir");
  }

  EtcdTools tools;
  tools.etcd = place->dir / "etcd";
  tools.where = place->where;
  auto asked = run({tools.etcd, {"--version"}, clean_env(), {}}, std::chrono::seconds(10));
  if (!asked) return util::fail(tools.etcd.string() + " --version: " + asked.error());
  const auto version = parse_etcd_version(asked->output);
  if (!asked->exit.success() || !version) {
    const std::string said = last_line(asked->output);
    return util::fail(tools.etcd.string() + " --version: " + asked->exit.describe() +
                      (said.empty() ? ", no output" : ", said \"" + said + "\"") +
                      ": not an etcd binary");
  }
  tools.version = *version;
  tools.etcdutl = restores_with_etcdutl(*version);
  tools.restore_tool = place->dir / (tools.etcdutl ? "etcdutl" : "etcdctl");
  if (!executable(tools.restore_tool)) {
    return util::fail("etcd " + to_string(*version) + " restores snapshots with " +
                      tools.restore_tool.filename().string() + ", which is not in " +
                      place->dir.string());
  }
  return tools;
}

}  // namespace etcd_warden::drill
