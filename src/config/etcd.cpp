#include "etcd_warden/config/config.hpp"

namespace etcd_warden::config {

std::string Etcd::local_metrics_url() const {
  if (!metrics_url.empty()) return metrics_url;
  if (endpoints.empty()) return "";
  const std::string& local = endpoints.front();
  if (!local.starts_with("http://") && !local.starts_with("https://")) return "";
  return (local.ends_with('/') ? local.substr(0, local.size() - 1) : local) + "/metrics";
}

}  // namespace etcd_warden::config
