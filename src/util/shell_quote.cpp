#include "etcd_warden/util/shell_quote.hpp"

#include <cstdio>
#include <stdexcept>

#include "etcd_warden/util/utf8.hpp"

namespace etcd_warden::util {
namespace {

bool is_safe(char c) {
  // Characters that sh, bash and zsh take literally inside a word.
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
}

bool is_ascii_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// The length of the UTF-8 character at text[i], or 0 when the bytes there are
// ill-formed.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  const std::size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  if (i + n > text.size() || !is_valid_utf8(text.substr(i, n))) return 0;
  return n;
}

// U+0080..U+009F: C1 controls, which some terminals obey when UTF-8 encoded.
bool is_c1_control(std::string_view character) {
  return character.size() == 2 && static_cast<unsigned char>(character[0]) == 0xC2 &&
         static_cast<unsigned char>(character[1]) < 0xA0;
}

std::string hex_byte(unsigned char c) {
  char out[8];
  std::snprintf(out, sizeof out, "\\x%02x", c);
  return out;
}

// escaped() and one_line(): `quotes` says whether \ and " are escaped too.
std::string printable(std::string_view value, bool quotes) {
  std::string out;
  for (std::size_t i = 0; i < value.size();) {
    const auto c = static_cast<unsigned char>(value[i]);
    const std::size_t n = utf8_length(value, i);
    if (quotes && (c == '\\' || c == '"')) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (is_ascii_control(c) || n == 0 || is_c1_control(value.substr(i, n))) {
      out += hex_byte(c);  // one byte at a time: a C1 control shows as both of its bytes
      i += 1;
      continue;
    } else {
      out.append(value.substr(i, n));
    }
    i += n == 0 ? 1 : n;
  }
  return out;
}

}  // namespace

std::optional<std::string> paste_hazard(std::string_view value) {
  for (std::size_t i = 0; i < value.size();) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '\0') return "contains a NUL byte";
    if (c == '\n') return "contains a newline";
    if (c == '\r') return "contains a carriage return";
    if (is_ascii_control(c)) return "contains the control character " + hex_byte(c);
    const std::size_t n = utf8_length(value, i);
    if (n == 0) return "is not valid UTF-8 (byte " + hex_byte(c) + ")";
    if (is_c1_control(value.substr(i, n)))
      return "contains the control character " + hex_byte(c) +
             hex_byte(static_cast<unsigned char>(value[i + 1]));
    i += n;
  }
  return std::nullopt;
}

std::string shell_quote(std::string_view value) {
  if (auto hazard = paste_hazard(value))
    throw std::invalid_argument("shell_quote: the value " + *hazard);
  // A leading '=' is safe for sh but zsh expands "=cmd" to a path.
  bool safe = !value.empty() && value.front() != '=';
  for (char c : value) safe = safe && is_safe(c);
  if (safe) return std::string(value);
  std::string out = "'";
  for (char c : value) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string escaped(std::string_view value) {
  return printable(value, true);
}

std::string one_line(std::string_view value) {
  return printable(value, false);
}

}  // namespace etcd_warden::util
