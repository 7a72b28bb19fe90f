// Endpoint URLs as etcd writes them ("https://10.0.0.1:2379") split into what
// gRPC needs: a "host:port" target and whether to use TLS.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace etcd_warden::etcd {

struct Endpoint {
  std::string url;     // as given
  std::string target;  // host:port for gRPC
  std::string host;
  bool tls = false;
};

// nullopt for anything but http(s)://host:port (a path or no port is refused).
std::optional<Endpoint> parse_endpoint(std::string_view url);

}  // namespace etcd_warden::etcd
