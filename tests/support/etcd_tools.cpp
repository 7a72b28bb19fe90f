#include "support/etcd_tools.hpp"

#include <unistd.h>

#include <cstdlib>
#include <mutex>

namespace etcd_warden::testing {

namespace fs = std::filesystem;

fs::path etcd_bin_dir() {
  const char* dir = std::getenv("ETCD_BIN_DIR");
  return (dir != nullptr && *dir != '\0') ? fs::path(dir) : fs::path("/usr/bin");
}

fs::path etcd_tool(std::string_view name) {
  return etcd_bin_dir() / name;
}

bool has_etcd_tool(std::string_view name) {
  return ::access(etcd_tool(name).c_str(), X_OK) == 0;
}

fs::path etcd_snapshot_tool() {
  return has_etcd_tool("etcdutl") ? etcd_tool("etcdutl") : etcd_tool("etcdctl");
}

const std::string& etcd_version() {
  static std::once_flag once;
  static std::string version;
  std::call_once(once, [] {
    const auto r = run_command({etcd_tool("etcd").string(), "--version"},
                               {.unset_env = {"ETCD_*"}, .timeout = 10s, .separate_stderr = true});
    constexpr std::string_view kPrefix = "etcd Version: ";
    const auto pos = r.output.find(kPrefix);
    if (r.exit_code != 0 || pos == std::string::npos) return;
    const auto begin = pos + kPrefix.size();
    version = r.output.substr(begin, r.output.find('\n', begin) - begin);
  });
  return version;
}

EnvVars etcd_tools_env() {
  const char* path = std::getenv("PATH");
  std::string value = etcd_bin_dir().string();
  if (path != nullptr && *path != '\0') value += std::string(":") + path;
  return {{"PATH", value}, {"ETCDCTL_API", "3"}};
}

}  // namespace etcd_warden::testing
