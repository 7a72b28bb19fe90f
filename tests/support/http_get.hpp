// A tiny blocking HTTP/1.0 GET for tests (etcd's /health and /metrics, the
// warden's /metrics). Plain HTTP only; one timeout covers connect, send and read.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace etcd_warden::testing {

struct HttpResult {
  int status = 0;
  std::string body;
};

// The status and body of any complete HTTP response; nullopt on connection
// errors, timeouts or a malformed response.
std::optional<HttpResult> http_get_full(
    const std::string& host, std::uint16_t port, const std::string& path,
    std::chrono::milliseconds timeout = std::chrono::seconds(2));

// The body of a 200 response; nullopt otherwise.
std::optional<std::string> http_get(const std::string& host, std::uint16_t port,
                                    const std::string& path,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(2));

}  // namespace etcd_warden::testing
