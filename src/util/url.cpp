#include "etcd_warden/util/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace etcd_warden::util {
namespace {

bool valid_port(std::string_view digits) {
  if (digits.empty() || digits.size() > 5) return false;
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return ec == std::errc{} && ptr == digits.data() + digits.size() && value >= 1 && value <= 65535;
}

bool valid_scheme(std::string_view scheme) {
  return !scheme.empty() && std::all_of(scheme.begin(), scheme.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

// Where the "user:secret@" of "scheme://user:secret@host/path" ends (the
// last '@'); npos when none. Any '@' counts, also one after a '/': a careless
// password holds a raw '/' too, and must not be echoed for it.
std::string_view::size_type userinfo_end(std::string_view text) {
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) return std::string_view::npos;
  const auto at = text.rfind('@');
  return at != std::string_view::npos && at > sep + 2 ? at : std::string_view::npos;
}

}  // namespace

bool has_userinfo(std::string_view text) {
  return userinfo_end(text) != std::string_view::npos;
}

std::string without_userinfo(std::string_view text) {
  const auto at = userinfo_end(text);
  if (at == std::string_view::npos) return std::string(text);
  return std::string(text.substr(0, text.find("://") + 3)) + "***" + std::string(text.substr(at));
}

std::string without_credentials(std::string_view text) {
  if (has_userinfo(text)) return without_userinfo(text);
  const auto at = text.rfind('@');
  if (at == std::string_view::npos || text.substr(0, at).find(':') == std::string_view::npos) {
    return std::string(text);
  }
  return "***" + std::string(text.substr(at));
}

std::string Url::target() const {
  const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (!port.empty()) return shown + ":" + port;
  return shown + ":" + (tls() ? "443" : "80");
}

std::optional<Url> parse_url(std::string_view text) {
  const auto sep = text.find("://");
  if (sep == std::string_view::npos || !valid_scheme(text.substr(0, sep))) return std::nullopt;
  Url out;
  out.url = std::string(text);
  out.scheme = std::string(text.substr(0, sep));
  std::string_view rest = text.substr(sep + 3);
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos) out.path = std::string(rest.substr(slash));
  std::string_view authority = rest.substr(0, slash);

  std::string_view host = authority;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos || close < 2) return std::nullopt;
    host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':') || !valid_port(after.substr(1))) return std::nullopt;
      out.port = std::string(after.substr(1));
    }
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos) {
      // One colon only: a bare IPv6 address is ambiguous with the port.
      if (authority.find(':', colon + 1) != std::string_view::npos) return std::nullopt;
      if (!valid_port(authority.substr(colon + 1))) return std::nullopt;
      out.port = std::string(authority.substr(colon + 1));
      host = authority.substr(0, colon);
    }
  }
  if (host.empty()) return std::nullopt;
  out.host = std::string(host);
  return out;
}

std::optional<Url> parse_http_url(std::string_view text) {
  auto url = parse_url(text);
  if (!url || (url->scheme != "http" && url->scheme != "https")) return std::nullopt;
  return url;
}

std::optional<Url> parse_endpoint(std::string_view text) {
  auto url = parse_http_url(text);
  if (!url || url->port.empty() || (!url->path.empty() && url->path != "/")) return std::nullopt;
  return url;
}

}  // namespace etcd_warden::util
