#include "yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "etcd_warden/config/units.hpp"
#include "etcd_warden/util/shell_quote.hpp"
#include "etcd_warden/util/url.hpp"
#include "etcd_warden/util/utf8.hpp"

namespace etcd_warden::config::detail {

void ErrorSink::add(const YAML::Mark& mark, const std::string& message) {
  if (errors_.size() >= kMaxErrors) {
    ++dropped_;
    return;
  }
  // Messages quote the file's own values and yaml-cpp's texts: any byte.
  ConfigError e{file_, 0, 0, util::one_line(message)};
  if (!mark.is_null()) {
    e.line = mark.line + 1;
    e.column = mark.column + 1;
  }
  errors_.push_back(std::move(e));
}

std::vector<ConfigError> ErrorSink::take() {
  // Sections are read in a fixed order, not file order; sort so that the
  // output reads top to bottom like the file.
  std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  if (dropped_ > 0) {
    errors_.push_back(ConfigError{file_, 0, 0,
                                  "... and " + std::to_string(dropped_) +
                                      " more errors (only the first " + std::to_string(kMaxErrors) +
                                      " are shown)"});
    dropped_ = 0;
  }
  return std::move(errors_);
}

void ErrorSink::remember(std::string key, const YAML::Mark& mark) {
  positions_.emplace_back(std::move(key), mark);
}

YAML::Mark ErrorSink::position(std::string_view key) const {
  for (const auto& [k, mark] : positions_)
    if (k == key) return mark;
  return YAML::Mark::null_mark();
}

std::string describe(const YAML::Node& node) {
  // The value as written (the error line escapes odd bytes), but never a
  // secret (a password mistyped into an endpoint) and never more than a line.
  constexpr std::size_t kMaxShown = 100;
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      std::string shown = util::without_credentials(node.Scalar());
      if (shown.size() > kMaxShown)
        shown = std::string(util::utf8_prefix(shown, kMaxShown)) + "...";
      return "'" + shown + "'";
    }
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

namespace {

Problem expected(std::string_view what, const YAML::Node& node) {
  return Problem{"expected " + std::string(what) + ", got " + describe(node), std::nullopt};
}

// The whole scalar as an unsigned number, refusing signs, fractions and junk.
template <class T>
std::optional<T> parse_unsigned(const std::string& text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

bool looks_like_number(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// YAML text is Unicode: a string or path with bytes that are not UTF-8 is
// refused where it is written (render() could not print it back, and D-Bus
// and the journal could not carry it).
Converted not_utf8(const YAML::Node& node, std::optional<YAML::Mark> mark = std::nullopt) {
  if (util::is_valid_utf8(node.Scalar())) return std::nullopt;
  return Problem{"expected UTF-8 text, got " + describe(node), mark};
}

template <class Element>
Converted convert_list(const YAML::Node& node, std::vector<Element>& out) {
  if (!node.IsSequence()) return expected("a list of strings", node);
  std::vector<Element> items;
  for (const auto& item : node) {
    if (!item.IsScalar()) {
      return Problem{"expected a list of strings, got " + describe(item) + " in the list",
                     item.Mark()};
    }
    if (auto problem = not_utf8(item, item.Mark())) return problem;
    items.emplace_back(item.Scalar());
  }
  out = std::move(items);
  return std::nullopt;
}

}  // namespace

Converted convert(const YAML::Node& node, bool& out) {
  // Only the YAML 1.2 spellings: "yes", "on" and friends are too easy to
  // mistake for strings, and YAML 1.2 tools read them as strings.
  if (node.IsScalar()) {
    const auto& s = node.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") {
      out = true;
      return std::nullopt;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
      out = false;
      return std::nullopt;
    }
  }
  return expected("true or false", node);
}

Converted convert(const YAML::Node& node, std::string& out) {
  // "key:" with nothing after it is the empty string, as most people expect.
  if (node.IsNull()) {
    out.clear();
    return std::nullopt;
  }
  if (!node.IsScalar()) return expected("a string", node);
  if (auto problem = not_utf8(node)) return problem;
  out = node.Scalar();
  return std::nullopt;
}

Converted convert(const YAML::Node& node, std::filesystem::path& out) {
  if (node.IsNull()) {
    out.clear();
    return std::nullopt;
  }
  if (!node.IsScalar()) return expected("a path", node);
  if (auto problem = not_utf8(node)) return problem;
  out = node.Scalar();
  return std::nullopt;
}

Converted convert(const YAML::Node& node, Duration& out) {
  if (node.IsScalar()) {
    if (auto d = parse_duration(node.Scalar())) {
      out = *d;
      return std::nullopt;
    }
    if (looks_like_number(node.Scalar())) {
      auto problem = expected("a duration like 30s", node);
      problem.message += " (add a unit: ms, s, m, h or d)";
      return problem;
    }
  }
  return expected("a duration like 30s", node);
}

Converted convert(const YAML::Node& node, Bytes& out) {
  if (node.IsScalar()) {
    if (auto b = parse_size(node.Scalar())) {
      out = *b;
      return std::nullopt;
    }
  }
  return expected("a size like 256MiB", node);
}

Converted convert(const YAML::Node& node, std::uint64_t& out) {
  if (node.IsScalar()) {
    if (auto v = parse_unsigned<std::uint64_t>(node.Scalar())) {
      out = *v;
      return std::nullopt;
    }
  }
  return expected("a whole number", node);
}

Converted convert(const YAML::Node& node, unsigned& out) {
  if (node.IsScalar()) {
    if (auto v = parse_unsigned<unsigned>(node.Scalar())) {
      out = *v;
      return std::nullopt;
    }
  }
  return expected("a whole number", node);
}

Converted convert(const YAML::Node& node, int& out) {
  if (node.IsScalar()) {
    int value = 0;
    const auto& s = node.Scalar();
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc{} && ptr == s.data() + s.size()) {
      out = value;
      return std::nullopt;
    }
  }
  return expected("a whole number", node);
}

Converted convert(const YAML::Node& node, double& out) {
  if (node.IsScalar()) {
    double value = 0;
    const auto& s = node.Scalar();
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc{} && ptr == s.data() + s.size() && std::isfinite(value)) {
      out = value;
      return std::nullopt;
    }
  }
  return expected("a number", node);
}

Converted convert(const YAML::Node& node, std::vector<std::string>& out) {
  return convert_list(node, out);
}

Converted convert(const YAML::Node& node, std::vector<std::filesystem::path>& out) {
  return convert_list(node, out);
}

namespace {

// Optimal string alignment distance: Levenshtein plus swapping two
// neighbours, the most common typo in a key ("mni_free").
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

constexpr std::size_t kMaxSuggestionDistance = 2;

std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

}  // namespace

std::optional<std::string_view> closest(std::string_view word,
                                        std::span<const std::string_view> candidates) {
  std::optional<std::string_view> best;
  std::size_t best_distance = kMaxSuggestionDistance + 1;
  for (const auto& c : candidates) {
    const auto distance = edit_distance(word, c);
    if (distance < best_distance) {
      best = c;
      best_distance = distance;
    }
  }
  return best;
}

Section::Section(const YAML::Node* node, std::string path, std::vector<std::string_view> allowed,
                 ErrorSink& errors)
    : path_(std::move(path)), allowed_(std::move(allowed)), errors_(&errors) {
  if (node != nullptr) open(*node);
}

void Section::open(const YAML::Node& node) {
  mark_ = node.Mark();
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    // A single value at the top: another file given as the config (a
    // password file, a key); its content is not repeated.
    const bool top = path_.empty();
    errors_->add(mark_, top && node.IsScalar()
                            ? std::string("the top level: expected a map of settings, got a "
                                          "single value (is this the warden's config file?)")
                            : (top ? std::string("the top level") : path_) +
                                  ": expected a map of settings, got " + describe(node));
    return;
  }
  is_map_ = true;
  std::unordered_set<std::string> seen;  // 60 000 keys must not take seconds
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      const std::string where = path_.empty() ? "the top level" : path_;
      errors_->add(kv.first.Mark(), where + ": expected a key name, got " + describe(kv.first));
      continue;
    }
    check_key(kv.first, seen);
    entries_.push_back(Entry{kv.first.Scalar(), kv.second, kv.first.Mark()});
  }
}

void Section::check_key(const YAML::Node& key, std::unordered_set<std::string>& seen) {
  const auto& name = key.Scalar();
  if (!seen.insert(name).second) {
    const auto* first = find(name);
    errors_->add(key.Mark(), "duplicate key '" + path(name) + "' (first set on line " +
                                 std::to_string(first->key_mark.line + 1) + ")");
    return;
  }
  if (std::find(allowed_.begin(), allowed_.end(), name) != allowed_.end()) return;
  std::string message = "unknown key '" + path(name) + "'";
  if (auto hint = closest(name, allowed_)) {
    message += " (did you mean '" + std::string(*hint) + "'?)";
  } else {
    message += " (known keys: " + join(allowed_) + ")";
  }
  errors_->add(key.Mark(), message);
}

Section Section::child(std::string_view key, std::vector<std::string_view> allowed) {
  const auto* entry = find(key);
  return Section(entry ? &entry->value : nullptr, path(key), std::move(allowed), *errors_);
}

Section Section::item(const YAML::Node& node, std::string_view suffix,
                      std::vector<std::string_view> allowed) {
  return Section(&node, path(suffix), std::move(allowed), *errors_);
}

const Section::Entry* Section::find(std::string_view key) const {
  // The first occurrence wins; later ones were reported as duplicates.
  auto it =
      std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.key == key; });
  return it == entries_.end() ? nullptr : &*it;
}

std::optional<YAML::Node> Section::value(std::string_view key) const {
  // Unknown keys were reported when the section was opened; never read them.
  if (std::find(allowed_.begin(), allowed_.end(), key) == allowed_.end()) return std::nullopt;
  const auto* entry = find(key);
  if (entry == nullptr) return std::nullopt;
  return entry->value;
}

YAML::Mark Section::mark_of(std::string_view key) const {
  const auto* entry = find(key);
  if (entry == nullptr) return mark_;
  // For "key:" with nothing after it yaml-cpp marks the next token, often on
  // the next line; the key itself is the better place to point at.
  const auto value_mark = entry->value.Mark();
  if (entry->value.IsNull() && value_mark.line != entry->key_mark.line) return entry->key_mark;
  return value_mark;
}

void Section::report(std::string_view key, const Problem& problem) {
  errors_->add(problem.mark.value_or(mark_of(key)), path(key) + ": " + problem.message);
}

void Section::fail(std::string_view key, const std::string& message) {
  errors_->add(mark_of(key), path(key) + ": " + message);
}

void Section::fail_at(const YAML::Node& node, std::string_view key, const std::string& message) {
  errors_->add(node.Mark(), path(key) + ": " + message);
}

void Section::remember(std::string_view key) {
  if (find(key) != nullptr) errors_->remember(path(key), mark_of(key));
}

std::string Section::path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

}  // namespace etcd_warden::config::detail
