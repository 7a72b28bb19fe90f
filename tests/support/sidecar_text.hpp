// Sidecar JSON as tests edit it by hand. to_json() adds a "checksum" of the
// other keys, so any edit makes the sidecar unreadable ("edited or damaged");
// tests of one key's validation start from a sidecar without it, as older
// warden versions wrote them.
#pragma once

#include <string>

namespace etcd_warden::testing {

inline std::string without_checksum(std::string json) {
  const auto at = json.find("  \"checksum\": ");
  if (at == std::string::npos) return json;
  json.erase(at, json.find('\n', at) + 1 - at);
  return json;
}

}  // namespace etcd_warden::testing
