// The one URL parser: etcd endpoints ("https://10.0.0.1:2379"), metrics URLs
// ("http://127.0.0.1:2381/metrics") and the client URLs read from a running
// etcd's command line all go through here, so "[::1]:2379", a trailing slash
// and a missing port mean the same thing everywhere.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace etcd_warden::util {

struct Url {
  std::string url;     // as given
  std::string scheme;  // "http", "https", "unix", ... (lower case as written)
  std::string host;    // without IPv6 brackets
  std::string port;    // digits, 1-65535; empty when the URL names none
  std::string path;    // "" or from the first '/' on ("/metrics")
  bool tls() const { return scheme == "https"; }
  // "host:port" as written (brackets kept), the scheme's port when none given:
  // what gRPC and a resolver take.
  std::string target() const;
};

// Any "scheme://host[:port][/path]"; nullopt when the host is empty, the port
// is not a number in 1-65535, or a bare IPv6 address lacks its brackets.
std::optional<Url> parse_url(std::string_view text);

// http or https only, with a host.
std::optional<Url> parse_http_url(std::string_view text);

// An etcd endpoint: http(s)://host:port with an explicit port and no path
// (a trailing '/' is allowed).
std::optional<Url> parse_endpoint(std::string_view text);

// "scheme://user:secret@host..." has credentials in its authority; none of
// our URLs may (they end up in logs, STATUS and DNS lookups).
bool has_userinfo(std::string_view text);
// The URL with its credentials shown as "***": the only way to name such a
// URL in an error.
std::string without_userinfo(std::string_view text);
// Any text with whatever may be credentials shown as "***": a URL's
// userinfo, and a scheme-less "user:secret@host" too. For echoing a value
// the user wrote (a config error) when it might be a mistyped endpoint.
std::string without_credentials(std::string_view text);

}  // namespace etcd_warden::util
