#include "checks.hpp"

#include <charconv>
#include <optional>

#include "etcd_warden/util/url.hpp"

namespace etcd_warden::config::detail {
namespace {

// The whole text as a number in [0, max]; digits only.
std::optional<unsigned> number(std::string_view text, unsigned max) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

bool is_host(std::string_view host) {
  if (host.starts_with('[')) return host.size() > 2 && host.ends_with(']');
  // A bare IPv6 address is ambiguous with the port: it needs brackets.
  return !host.empty() && host.find(':') == std::string_view::npos &&
         host.find('/') == std::string_view::npos;
}

}  // namespace

bool is_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  return is_host(text.substr(0, colon)) && number(text.substr(colon + 1), 65535).has_value();
}

bool is_http_url(std::string_view text) {
  return util::parse_http_url(text).has_value();
}

bool is_bus(std::string_view text) {
  return text == "system" || text == "session" || text.find('=') != std::string_view::npos;
}

}  // namespace etcd_warden::config::detail
