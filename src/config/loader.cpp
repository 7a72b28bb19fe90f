#include "etcd_warden/config/loader.hpp"

#include <system_error>

#include "etcd_warden/io/file.hpp"
#include "sections.hpp"
#include "yaml_reader.hpp"

namespace etcd_warden::config {
namespace {

namespace fs = std::filesystem;

// Relative paths in the file mean "next to this file", whatever the daemon's
// working directory is (systemd starts it in /).
void resolve(fs::path& p, const fs::path& base) {
  if (!p.empty() && p.is_relative()) p = (base / p).lexically_normal();
}

void resolve_paths(Config& c, const fs::path& base) {
  if (base.empty()) return;
  if (c.etcd.tls) {
    resolve(c.etcd.tls->ca, base);
    resolve(c.etcd.tls->cert, base);
    resolve(c.etcd.tls->key, base);
  }
  if (c.etcd.auth) resolve(c.etcd.auth->password_file, base);
  resolve(c.etcd.data_dir, base);
  resolve(c.snapshot.dir, base);
  for (auto& dir : c.snapshot.copy_to) resolve(dir, base);
}

// Each file the config names must be a regular file we can read, within the
// limit; the error points at the key that names it. The contents are dropped:
// the etcd client reads them again when it is created.
void check_referenced_files(const Config& c, detail::ErrorSink& errors) {
  std::vector<std::pair<const char*, const fs::path*>> files;
  if (c.etcd.tls) {
    files.emplace_back("etcd.tls.ca", &c.etcd.tls->ca);
    files.emplace_back("etcd.tls.cert", &c.etcd.tls->cert);
    files.emplace_back("etcd.tls.key", &c.etcd.tls->key);
  }
  if (c.etcd.auth) files.emplace_back("etcd.auth.password_file", &c.etcd.auth->password_file);
  for (const auto& [key, path] : files) {
    if (path->empty()) continue;
    const auto read = io::read_file(*path, kMaxReferencedFileBytes);
    if (!read) {
      errors.add(errors.position(key), std::string(key) + ": cannot read " + path->string() + ": " +
                                           read.error().reason());
    }
  }
}

// Parses the text into one YAML document; a syntax error is reported with
// yaml-cpp's position. An empty file has no document and reads as null.
std::optional<YAML::Node> parse(std::string_view yaml, detail::ErrorSink& errors) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    errors.add(e.mark, "invalid YAML: " + e.msg);
    return std::nullopt;
  }
  for (std::size_t i = 1; i < docs.size(); ++i) {
    // A trailing "---" makes an empty document: harmless.
    if (!docs[i].IsNull()) {
      errors.add(docs[i].Mark(), "expected one YAML document, found another one here");
      break;
    }
  }
  return docs.empty() ? YAML::Node() : docs.front();
}

LoadResult load(std::string_view yaml, const std::string& name, const fs::path& base,
                ReferencedFiles referenced) {
  detail::ErrorSink errors(name);
  auto root = parse(yaml, errors);
  if (!root) return LoadResult{std::nullopt, errors.take()};
  Config c;
  try {
    c = detail::read_config(*root, errors);
  } catch (const YAML::Exception& e) {
    // Not expected: the readers check node types before use. Bad input must
    // still be an error message, never a crash.
    errors.add(e.mark, e.msg);
  }
  if (!errors.empty()) return LoadResult{std::nullopt, errors.take()};
  resolve_paths(c, base);
  if (referenced == ReferencedFiles::checked) {
    check_referenced_files(c, errors);
    if (!errors.empty()) return LoadResult{std::nullopt, errors.take()};
  }
  return LoadResult{std::move(c), {}};
}

}  // namespace

std::string ConfigError::to_string() const {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

LoadResult load_file(const fs::path& path, ReferencedFiles referenced) {
  // A config file is small; one over the limit is not a config file.
  const auto text = io::read_file(path, std::size_t{16} << 20);
  if (!text) {
    return LoadResult{std::nullopt,
                      {ConfigError{path.string(), 0, 0,
                                   "cannot read the config file: " + text.error().reason()}}};
  }
  std::error_code ec;
  auto absolute = fs::absolute(path, ec);
  if (ec) absolute = path;
  return load(*text, path.string(), absolute.parent_path(), referenced);
}

LoadResult load_string(std::string_view yaml, const std::string& name) {
  return load(yaml, name, fs::path(name).parent_path(), ReferencedFiles::unchecked);
}

}  // namespace etcd_warden::config
