// Member and cluster IDs as etcd prints them (etcdctl member list): lower-case
// hex without padding, e.g. "8e9e05c52164694d".
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace etcd_warden {

inline std::string hex_id(std::uint64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

// The reverse: 1 to 16 hex digits, nothing else (padded IDs from older
// sidecars parse too); nullopt otherwise.
inline std::optional<std::uint64_t> parse_hex_id(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty() || s.size() > 16) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace etcd_warden
