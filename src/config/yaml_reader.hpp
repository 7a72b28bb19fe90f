// Internal to src/config: reading YAML nodes into typed values while
// collecting every error with its position. The section readers
// (sections.cpp) are written in terms of these pieces.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/config/loader.hpp"
#include "etcd_warden/util/bytes.hpp"

namespace etcd_warden::config::detail {

// Collects the errors of one file. Positions come from yaml-cpp marks,
// which are 0-based; ConfigError is 1-based.
class ErrorSink {
 public:
  explicit ErrorSink(std::string file) : file_(std::move(file)) {}

  void add(const YAML::Mark& mark, const std::string& message);
  void add(const std::string& message) { add(YAML::Mark::null_mark(), message); }
  bool empty() const { return errors_.empty() && dropped_ == 0; }
  // The errors in file order (those without a position first), then one line
  // counting those over the cap: a file of 60 000 unknown keys is not worth
  // 60 000 lines.
  std::vector<ConfigError> take();

  // Where a key such as "etcd.auth.password_file" was written, for checks
  // made after reading (the files it names); null when the file did not set it.
  void remember(std::string key, const YAML::Mark& mark);
  YAML::Mark position(std::string_view key) const;

  static constexpr std::size_t kMaxErrors = 100;

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
  std::size_t dropped_ = 0;
  std::vector<std::pair<std::string, YAML::Mark>> positions_;
};

// Why a node does not hold the expected value; `mark` is set when the
// culprit is inside the node (an element of a list).
struct Problem {
  std::string message;
  std::optional<YAML::Mark> mark;
};
using Converted = std::optional<Problem>;  // nullopt: converted fine

// How a node reads in a message: "'abc'", "a list", "a map", "nothing".
std::string describe(const YAML::Node& node);

// One converter per config type. Each leaves `out` alone on a problem.
Converted convert(const YAML::Node& node, bool& out);
Converted convert(const YAML::Node& node, std::string& out);
Converted convert(const YAML::Node& node, std::filesystem::path& out);
Converted convert(const YAML::Node& node, Duration& out);
Converted convert(const YAML::Node& node, Bytes& out);
Converted convert(const YAML::Node& node, std::uint64_t& out);
Converted convert(const YAML::Node& node, unsigned& out);
Converted convert(const YAML::Node& node, int& out);
Converted convert(const YAML::Node& node, double& out);
Converted convert(const YAML::Node& node, std::vector<std::string>& out);
Converted convert(const YAML::Node& node, std::vector<std::filesystem::path>& out);

// An explicit null ("key: ~") unsets an optional value; that is also how
// render() writes an unset one.
template <class T>
Converted convert(const YAML::Node& node, std::optional<T>& out) {
  if (node.IsNull()) {
    out.reset();
    return std::nullopt;
  }
  T value{};
  if (auto problem = convert(node, value)) return problem;
  out = std::move(value);
  return std::nullopt;
}

// The closest of `candidates` within edit distance 2 of `word`, for
// "did you mean" hints.
std::optional<std::string_view> closest(std::string_view word,
                                        std::span<const std::string_view> candidates);

// One YAML map of the config (a section such as `defrag`), read key by key.
// Unknown and repeated keys are reported when it is opened. An absent or
// null section reads as an empty map, so every key keeps its default.
class Section {
 public:
  Section(const YAML::Node* node, std::string path, std::vector<std::string_view> allowed,
          ErrorSink& errors);

  // The sub-map `key`, with the keys it allows.
  Section child(std::string_view key, std::vector<std::string_view> allowed);
  // A map inside one of this section's values (an element of a list), named
  // "<path>.<suffix>" in messages: "snapshot.upload[0]".
  Section item(const YAML::Node& node, std::string_view suffix,
               std::vector<std::string_view> allowed);

  // The value of `key` if the file sets it.
  std::optional<YAML::Node> value(std::string_view key) const;
  bool has(std::string_view key) const { return value(key).has_value(); }
  // True when this section is a map that the file wrote (even if empty).
  bool given() const { return is_map_; }

  // Reads `key` into `out` if present; on a problem reports it and keeps the
  // default. True when `out` now holds a value from the file.
  template <class T>
  bool read(std::string_view key, T& out) {
    const auto node = value(key);
    if (!node) return false;
    T parsed = out;
    if (auto problem = convert(*node, parsed)) {
      report(key, *problem);
      return false;
    }
    out = std::move(parsed);
    return true;
  }

  // Reports "<path>.<key>: message" at the key's value, or at the section
  // when the key is absent (a rule broken by defaults plus other keys).
  void fail(std::string_view key, const std::string& message);
  // Reports at a node inside the key's value (an element of a list).
  void fail_at(const YAML::Node& node, std::string_view key, const std::string& message);
  // "defrag.min_free"
  std::string path(std::string_view key) const;
  // Keeps the position of `key` in the sink (ErrorSink::remember).
  void remember(std::string_view key);

 private:
  struct Entry {
    std::string key;
    YAML::Node value;
    YAML::Mark key_mark;
  };

  void open(const YAML::Node& node);
  void check_key(const YAML::Node& key, std::unordered_set<std::string>& seen);
  const Entry* find(std::string_view key) const;
  YAML::Mark mark_of(std::string_view key) const;
  void report(std::string_view key, const Problem& problem);

  std::string path_;
  std::vector<std::string_view> allowed_;
  ErrorSink* errors_;
  std::vector<Entry> entries_;
  YAML::Mark mark_ = YAML::Mark::null_mark();
  bool is_map_ = false;
};

}  // namespace etcd_warden::config::detail
