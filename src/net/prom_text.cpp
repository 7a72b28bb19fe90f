#include "etcd_warden/net/prom_text.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace etcd_warden::net {

namespace {

bool parse_labels(std::string_view& rest, std::map<std::string, std::string>& labels) {
  // rest starts just after '{'
  while (true) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == ',')) rest.remove_prefix(1);
    if (rest.empty()) return false;
    if (rest.front() == '}') {
      rest.remove_prefix(1);
      return true;
    }
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos || eq + 1 >= rest.size() || rest[eq + 1] != '"') return false;
    std::string key(rest.substr(0, eq));
    rest.remove_prefix(eq + 2);
    std::string value;
    while (!rest.empty() && rest.front() != '"') {
      if (rest.front() == '\\' && rest.size() > 1) {
        rest.remove_prefix(1);
        value += rest.front() == 'n' ? '\n' : rest.front();
      } else {
        value += rest.front();
      }
      rest.remove_prefix(1);
    }
    if (rest.empty()) return false;
    rest.remove_prefix(1);  // closing quote
    labels.emplace(std::move(key), std::move(value));
  }
}

std::optional<double> parse_value(std::string_view token) {
  if (token == "+Inf" || token == "Inf") return std::numeric_limits<double>::infinity();
  if (token == "-Inf") return -std::numeric_limits<double>::infinity();
  if (token == "NaN") return std::nan("");
  std::string copy(token);
  char* end = nullptr;
  const double v = std::strtod(copy.c_str(), &end);
  if (end == copy.c_str() || *end != '\0') return std::nullopt;
  return v;
}

}  // namespace

std::optional<double> ParsedMetrics::value(std::string_view name,
                                           const std::map<std::string, std::string>& match) const {
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool all = true;
    for (const auto& [k, v] : match) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) {
        all = false;
        break;
      }
    }
    if (all) return s.value;
  }
  return std::nullopt;
}

ParsedMetrics parse_prometheus_text(std::string_view text) {
  ParsedMetrics out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;

    Sample s;
    std::size_t i = 0;
    while (i < line.size() &&
           (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_' || line[i] == ':'))
      ++i;
    s.name = std::string(line.substr(0, i));
    std::string_view rest = line.substr(i);
    bool good = !s.name.empty();
    if (good && !rest.empty() && rest.front() == '{') {
      rest.remove_prefix(1);
      good = parse_labels(rest, s.labels);
    }
    while (good && !rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto space = rest.find(' ');  // an optional timestamp follows the value
    auto value = good ? parse_value(rest.substr(0, space)) : std::nullopt;
    if (!value) {
      ++out.malformed_lines;
      continue;
    }
    s.value = *value;
    out.samples.push_back(std::move(s));
  }
  return out;
}

}  // namespace etcd_warden::net
