// An HTTP(S) GET on the loop with one deadline for the whole exchange. Used to
// read etcd's own /metrics: plain HTTP on --listen-metrics-urls (kubeadm's
// 2381), or HTTPS on a client URL, with the same CA and client certificate
// as the gRPC connection (etcd.tls).
#pragma once

#include <optional>
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

// `url` is http(s)://host:port/path. For https, `tls` gives the CA that signs
// the server's certificate (the system's roots when absent or empty), the
// client certificate and key, and the name to check instead of the host.
// Never throws; every failure is in `error`.
Task<HttpResponse> http_get(std::string url, config::Duration timeout,
                            std::optional<config::Tls> tls = std::nullopt);

}  // namespace etcd_warden::net
