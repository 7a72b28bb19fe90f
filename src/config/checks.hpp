// Internal to src/config: shape checks for the string values of the config
// (addresses, URLs, the defrag window). Pure functions of the text.
#pragma once

#include <string_view>

namespace etcd_warden::config::detail {

// "127.0.0.1:9379", "[::1]:9379", "localhost:0". Port 0 lets the kernel choose.
bool is_host_port(std::string_view text);

// "http://127.0.0.1:2381/metrics": http or https and a host.
bool is_http_url(std::string_view text);

// "01:00-05:00" in 24-hour local time; may wrap past midnight ("22:00-04:00"),
// but start and end must differ.

// "system", "session", or a D-Bus address ("unix:path=/run/x.sock").
bool is_bus(std::string_view text);

}  // namespace etcd_warden::config::detail
