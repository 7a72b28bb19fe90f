// Turns the YAML config file into a typed Config, reporting every problem at
// once with its file, line and column. `run`, SIGHUP and `check-config` all
// go through load_file, so they accept and refuse exactly the same files.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_warden/config/config.hpp"

namespace etcd_warden::config {

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when no position is known
  int column = 0;  // 1-based; 0 when no position is known
  std::string message;

  // "FILE:LINE:COL: message", or "FILE: message" without a position.
  std::string to_string() const;
  bool operator==(const ConfigError&) const = default;
};

struct LoadResult {
  std::optional<Config> config;  // set only when there are no errors
  std::vector<ConfigError> errors;

  bool ok() const { return config.has_value() && errors.empty(); }
};

// Whether load_file also reads the files the config names (TLS files, the
// password file): `run`, SIGHUP and `check-config` do, so a FIFO, a device, a
// directory or an unreadable file is an error at its key's position. `ctl`
// does not: it runs as any user, and needs only the bus.
enum class ReferencedFiles { unchecked, checked };

// The limit on each referenced file: a PEM bundle or a password.
inline constexpr std::size_t kMaxReferencedFileBytes = std::size_t{1} << 20;

// Reads and validates `path`. Relative paths inside the file (TLS files, the
// password file, data and snapshot directories) are resolved against the
// file's own directory.
LoadResult load_file(const std::filesystem::path& path,
                     ReferencedFiles referenced = ReferencedFiles::unchecked);

// The same for text already in memory; `name` is used in errors and, when it
// has a directory part, as the base for relative paths.
LoadResult load_string(std::string_view yaml, const std::string& name);

// The effective config as YAML, every key present, defaults included. It
// loads back to an equal Config. No secret is printed: auth shows only the
// user name and the path of the password file.
std::string render(const Config& c);

}  // namespace etcd_warden::config
