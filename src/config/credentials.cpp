#include "etcd_warden/config/credentials.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/io/file.hpp"

namespace etcd_warden::config {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

// 'value' or "value" as a shell or EnvironmentFile= would write it.
std::string_view unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    return v.substr(1, v.size() - 2);
  }
  return v;
}

struct Line {
  std::size_t number;
  std::string_view text;
};

std::vector<Line> meaningful_lines(std::string_view text) {
  std::vector<Line> lines;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto raw = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    const auto line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    lines.push_back({number, line});
  }
  return lines;
}

std::string at(const std::string& source, std::size_t line) {
  return source + ":" + std::to_string(line);
}

util::Status check_complete(const Credentials& c, const std::string& source,
                            std::string_view id_key, std::string_view secret_key) {
  if (c.access_key_id.empty()) {
    return util::fail(source + ": no " + std::string(id_key) + " (the access key)");
  }
  if (c.secret_access_key.empty()) {
    return util::fail(source + ": no " + std::string(secret_key) + " (the secret key)");
  }
  return {};
}

util::Result<Credentials> parse_ini(const std::vector<Line>& lines, const std::string& source) {
  // Profiles by name; [default] wins, else a file with one profile is that one.
  std::vector<std::pair<std::string, Credentials>> profiles;
  for (const auto& [number, line] : lines) {
    if (line.front() == '[') {
      if (line.back() != ']') return util::fail(at(source, number) + ": expected [profile]");
      auto name = trim(line.substr(1, line.size() - 2));
      if (name.starts_with("profile ")) name = trim(name.substr(8));
      profiles.emplace_back(std::string(name), Credentials{});
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      return util::fail(at(source, number) + ": expected key = value");
    }
    if (profiles.empty()) {
      return util::fail(at(source, number) + ": a key before any [profile] line");
    }
    const auto key = trim(line.substr(0, eq));
    const auto value = std::string(unquote(trim(line.substr(eq + 1))));
    auto& c = profiles.back().second;
    if (key == "aws_access_key_id") {
      c.access_key_id = value;
    } else if (key == "aws_secret_access_key") {
      c.secret_access_key = value;
    } else if (key == "aws_session_token") {
      c.session_token = value;
    }  // region, output, ...: other tools' settings, not ours
  }
  const Credentials* chosen = nullptr;
  for (const auto& [name, c] : profiles) {
    if (name == "default") chosen = &c;
  }
  if (chosen == nullptr && profiles.size() == 1) chosen = &profiles.front().second;
  if (chosen == nullptr) {
    return util::fail(source + ": no [default] profile, and more than one other");
  }
  if (auto ok = check_complete(*chosen, source, "aws_access_key_id", "aws_secret_access_key");
      !ok) {
    return util::fail(ok.error());
  }
  return *chosen;
}

util::Result<Credentials> parse_env(const std::vector<Line>& lines, const std::string& source) {
  Credentials c;
  for (const auto& [number, raw] : lines) {
    auto line = raw;
    if (line.starts_with("export ")) line = trim(line.substr(7));
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      return util::fail(at(source, number) + ": expected KEY=VALUE or [profile]");
    }
    const auto key = trim(line.substr(0, eq));
    const auto value = std::string(unquote(trim(line.substr(eq + 1))));
    if (key == "AWS_ACCESS_KEY_ID") {
      c.access_key_id = value;
    } else if (key == "AWS_SECRET_ACCESS_KEY") {
      c.secret_access_key = value;
    } else if (key == "AWS_SESSION_TOKEN") {
      c.session_token = value;
    } else {
      return util::fail(at(source, number) + ": unknown key " + std::string(key) +
                        " (expected AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)");
    }
  }
  if (auto ok = check_complete(c, source, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"); !ok) {
    return util::fail(ok.error());
  }
  return c;
}

}  // namespace

util::Result<Credentials> parse_credentials(std::string_view text, const std::string& source) {
  const auto lines = meaningful_lines(text);
  if (lines.empty()) return util::fail(source + ": empty, expected the access and secret keys");
  if (lines.front().text.front() == '[') return parse_ini(lines, source);
  return parse_env(lines, source);
}

util::Result<std::filesystem::path> credentials_path(const std::filesystem::path& setting) {
  const auto text = setting.string();
  if (!text.starts_with(kCredentialsDirectoryPrefix)) return setting;
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (dir == nullptr || *dir == '\0') {
    return util::fail(text +
                      ": $CREDENTIALS_DIRECTORY is not set (it is set by systemd for a unit "
                      "with LoadCredential=)");
  }
  return std::filesystem::path(dir) / text.substr(kCredentialsDirectoryPrefix.size());
}

util::Result<Credentials> read_credentials(const std::filesystem::path& setting,
                                           std::string* warning) {
  auto path = credentials_path(setting);
  if (!path) return util::fail(path.error());
  auto text = io::read_file(*path, std::size_t{64} << 10);
  if (!text) return util::fail(text.error().message);
  struct stat st {};
  if (warning != nullptr && ::stat(path->c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    *warning = path->string() + " is mode " + mode +
               ": others can read the keys; chmod 0600 it (or use LoadCredential=)";
  }
  return parse_credentials(*text, path->string());
}

}  // namespace etcd_warden::config
