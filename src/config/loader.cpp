#include "etcd_warden/config/loader.hpp"

#include <cstdlib>
#include <sstream>
#include <system_error>

#include <yaml-cpp/eventhandler.h>

#include "etcd_warden/config/credentials.hpp"
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
  resolve(c.drill.etcd_bin_dir, base);
  for (auto& target : c.snapshot.upload) {
    // "$CREDENTIALS_DIRECTORY/NAME" is relative to systemd's directory.
    if (!target.s3.credentials_file.string().starts_with(kCredentialsDirectoryPrefix)) {
      resolve(target.s3.credentials_file, base);
    }
    resolve(target.s3.ca, base);
  }
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
  for (std::size_t i = 0; i < c.snapshot.upload.size(); ++i) {
    const auto& s3 = c.snapshot.upload[i].s3;
    const auto key = "snapshot.upload[" + std::to_string(i) + "].s3.";
    if (!s3.ca.empty()) {
      if (auto read = io::read_file(s3.ca, kMaxReferencedFileBytes); !read) {
        errors.add(errors.position(key + "tls.ca"),
                   key + "tls.ca: cannot read " + s3.ca.string() + ": " + read.error().reason());
      }
    }
    // A systemd credential exists only inside the unit: outside it (a
    // check-config from a shell) there is nothing to read yet.
    const bool from_systemd = s3.credentials_file.string().starts_with(kCredentialsDirectoryPrefix);
    if (from_systemd && std::getenv("CREDENTIALS_DIRECTORY") == nullptr) continue;
    if (auto creds = read_credentials(s3.credentials_file); !creds) {
      errors.add(errors.position(key + "credentials_file"),
                 key + "credentials_file: " + creds.error());
    }
  }
}

// Watches the parser's events for the document after the first: whether it
// holds anything (a trailing "---" makes an empty document, which is
// harmless), and where its content starts.
class SecondDocument : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> found;  // set when a second document holds something
  std::optional<YAML::Mark> start;  // set when there is a second document

  void OnDocumentStart(const YAML::Mark&) override { ++documents_; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { event(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { content(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    content(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    content(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    content(mark);
  }
  void OnMapEnd() override {}

 private:
  void event(const YAML::Mark& mark) {
    if (documents_ > 1 && !start) start = mark;
  }
  void content(const YAML::Mark& mark) {
    event(mark);
    if (documents_ > 1 && !found) found = mark;
  }
  int documents_ = 0;
};

// Whether a line starts a document ("---") or ends one ("..."): the only way
// YAML text holds more than one.
bool has_document_marker(std::string_view text) {
  for (std::size_t at = 0; at < text.size();) {
    const std::string_view line = text.substr(at, text.find('\n', at) - at);
    if (line.starts_with("---") || line.starts_with("...")) return true;
    at += line.size() + 1;
  }
  return false;
}

// Parses the text into one YAML document; a syntax error is reported with
// yaml-cpp's position. An empty file has no document and reads as null.
// Not YAML::LoadAll: on some broken files (an unclosed flow map with bytes
// that are not UTF-8) yaml-cpp 0.7's parser yields documents without end,
// and LoadAll collects them until memory runs out (found by
// tests/fuzz/config_loader_fuzz.cpp). Two documents are all we need to see.
std::optional<YAML::Node> parse(std::string_view yaml, detail::ErrorSink& errors) {
  const std::string text(yaml);
  YAML::Node first;
  SecondDocument second;
  try {
    first = YAML::Load(text);
    std::istringstream in(text);
    YAML::Parser parser(in);
    for (int i = 0; i < 2 && !second.found && parser.HandleNextDocument(second); ++i) {
    }
  } catch (const YAML::Exception& e) {
    errors.add(e.mark, "invalid YAML: " + e.msg);
    return std::nullopt;
  }
  if (second.start && !has_document_marker(text)) {
    // Only yaml-cpp sees documents here (the fuzzed file above began with a
    // ','); YAML itself says such text is an error.
    errors.add(*second.start, "invalid YAML: text the parser cannot place in the document");
    return std::nullopt;
  }
  if (second.found) errors.add(*second.found, "expected one YAML document, found another one here");
  return first;
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
