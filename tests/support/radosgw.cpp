#include "support/radosgw.hpp"

#include <sstream>
#include <stdexcept>

#include "support/awscli.hpp"
#include "support/process.hpp"

namespace etcd_warden::testing {

namespace {

std::filesystem::path script() {
  return std::filesystem::path(ETCD_WARDEN_SOURCE_DIR) / "tests/scripts/radosgw.sh";
}

}  // namespace

std::string RadosGw::missing() {
  for (const char* tool :
       {"/usr/bin/ceph-mon", "/usr/bin/ceph-osd", "/usr/bin/radosgw", "/usr/bin/radosgw-admin"}) {
    if (!std::filesystem::exists(tool)) {
      return std::string(tool) +
             " is missing: scripts/install-deps installs ceph-mon, ceph-osd "
             "and radosgw";
    }
  }
  return "";
}

RadosGw::RadosGw(const std::string& bucket) : state_(dir_ / "cluster") {
  if (auto why = missing(); !why.empty()) throw std::runtime_error("radosgw: " + why);
  auto started = run_command({script().string(), "start", state_.string()},
                             {.timeout = std::chrono::seconds(120), .separate_stderr = true});
  if (started.exit_code != 0) {
    throw std::runtime_error("radosgw.sh start exited " + std::to_string(started.exit_code) +
                             ":\n" + started.output + started.error);
  }
  std::istringstream lines(started.output);
  for (std::string line; std::getline(lines, line);) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "endpoint") endpoint_ = value;
    if (key == "access_key") access_key_ = value;
    if (key == "secret_key") secret_key_ = value;
  }
  if (endpoint_.empty() || access_key_.empty() || secret_key_.empty()) {
    throw std::runtime_error("radosgw.sh start printed no endpoint and keys:\n" + started.output);
  }
  AwsCli aws(endpoint_, {.access_key_id = access_key_, .secret_access_key = secret_key_});
  aws.create_bucket(bucket);
}

std::uint16_t RadosGw::port() const {
  return static_cast<std::uint16_t>(std::stoi(endpoint_.substr(endpoint_.rfind(':') + 1)));
}

RadosGw::~RadosGw() {
  run_command({script().string(), "stop", state_.string()}, {.timeout = std::chrono::seconds(60)});
}

}  // namespace etcd_warden::testing
