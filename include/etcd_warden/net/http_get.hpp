// A plain-HTTP GET on the loop with one deadline for the whole exchange.
// Used to read etcd's own /metrics (served without TLS on --listen-metrics-urls).
#pragma once

#include <string>

#include "etcd_warden/asio.hpp"
#include "etcd_warden/config/config.hpp"

namespace etcd_warden::net {

struct HttpResponse {
  unsigned status = 0;
  std::string body;
  std::string error;  // empty on success: "http://127.0.0.1:2381/metrics: connection refused"
  bool ok() const { return error.empty() && status == 200; }
};

// `url` is http://host:port/path. Never throws; every failure is in `error`.
Task<HttpResponse> http_get(std::string url, config::Duration timeout);

}  // namespace etcd_warden::net
