// Reading the small text files discovery looks at (/proc files, env files,
// config files, manifests) with the reason when it fails, so that a note can
// say "Permission denied" rather than "could not read".
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace etcd_warden::tuning::detail {

struct TextFile {
  std::optional<std::string> text;
  int error = 0;  // errno when `text` is empty; EFBIG above the size limit

  bool missing() const { return !text && error == ENOENT; }
  std::string reason() const;  // "Permission denied"
};

// The whole file, up to `max_bytes` (etcd's inputs are tiny; a huge file is
// not one of them).
TextFile read_text_file(const std::filesystem::path& path, std::size_t max_bytes = 1 << 20);

}  // namespace etcd_warden::tuning::detail
