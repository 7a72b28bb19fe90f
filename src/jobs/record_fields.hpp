// The "key=value key=value" text of the records wardens keep in etcd
// (defrag_records.hpp, consistency_rule.hpp): split, numbers, and
// percent-encoded free text.
#pragma once

#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace etcd_warden::jobs::detail {

using Fields = std::map<std::string, std::string, std::less<>>;

// "key=value key=value" records, as the encode() functions write them.
inline Fields fields(std::string_view text) {
  Fields out;
  while (!text.empty()) {
    const auto space = text.find(' ');
    const auto item = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    out.emplace(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
  }
  return out;
}

template <class T>
inline bool number(const Fields& f, std::string_view key, T& out, int base = 10) {
  const auto it = f.find(key);
  if (it == f.end() || it->second.empty()) return false;
  const char* end = it->second.data() + it->second.size();
  auto [ptr, ec] = std::from_chars(it->second.data(), end, out, base);
  return ec == std::errc{} && ptr == end;
}

// Free-form values (paths, URLs) are percent-encoded so that a space or a
// control character cannot break the record apart.
inline std::string escape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : value) {
    if (c <= 0x20 || c >= 0x7f || c == '%') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

inline std::optional<std::string> unescape(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out += value[i];
      continue;
    }
    unsigned byte = 0;
    if (i + 2 >= value.size()) return std::nullopt;
    const auto [ptr, ec] = std::from_chars(value.data() + i + 1, value.data() + i + 3, byte, 16);
    if (ec != std::errc{} || ptr != value.data() + i + 3) return std::nullopt;
    out += static_cast<char>(byte);
    i += 2;
  }
  return out;
}

inline std::string text_field(const Fields& f, std::string_view key) {
  const auto it = f.find(key);
  if (it == f.end()) return {};
  return unescape(it->second).value_or(std::string());
}

}  // namespace etcd_warden::jobs::detail
