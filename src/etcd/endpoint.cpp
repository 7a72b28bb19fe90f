#include "etcd_warden/etcd/endpoint.hpp"

#include <charconv>

namespace etcd_warden::etcd {

std::optional<Endpoint> parse_endpoint(std::string_view url) {
  Endpoint e;
  e.url = std::string(url);
  std::string_view rest;
  if (url.starts_with("https://")) {
    e.tls = true;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return std::nullopt;
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return std::nullopt;
  // "[::1]:2379" or "host:2379": the port follows the last colon.
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::string_view port = rest.substr(colon + 1);
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || ptr != port.data() + port.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  std::string_view host = rest.substr(0, colon);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  if (host.empty()) return std::nullopt;
  e.host = std::string(host);
  e.target = std::string(rest);
  return e;
}

}  // namespace etcd_warden::etcd
