// UTF-8 for what leaves the daemon as text: D-Bus strings must be valid
// UTF-8 (sd-bus refuses to send anything else, and sdbus-c++ throws), and so
// must the JSON it serves. File names, sidecars and etcd's answers are bytes
// that anyone can make invalid.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace etcd_warden::util {

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or
// code points above U+10FFFF).
bool is_valid_utf8(std::string_view text);

// `text` with each ill-formed sequence replaced by U+FFFD, the replacement
// character (one per maximal ill-formed subpart, as Unicode recommends).
std::string valid_utf8(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` that does not end
// inside a multi-byte character.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

}  // namespace etcd_warden::util
