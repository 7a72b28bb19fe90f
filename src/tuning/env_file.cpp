// Environment files as systemd's EnvironmentFile= reads them (systemd's
// env-file.c): the files etcd's packages ship (/etc/default/etcd,
// /etc/etcd/etcd.conf) are read by systemd, not by a shell.
//
// One deliberate consequence: systemd has no inline comments. In
//   ETCD_ELECTION_TIMEOUT=5000 #default 1000ms
// (a line copied from a popular tuning guide) the value systemd hands to
// etcd is "5000 #default 1000ms", which etcd refuses. We keep that value as
// systemd would, so that from_environment reports it as a problem line
// instead of silently reading 5000 — the operator should know etcd will not
// start with it. A shell sourcing the same file would have read 5000.
#include <cctype>

#include "etcd_warden/tuning/discovery.hpp"

namespace etcd_warden::tuning {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

bool is_variable_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (const char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// A cursor over the file that knows its line number, for problem lines.
class EnvFileReader {
 public:
  explicit EnvFileReader(std::string_view text) : text_(text) {}

  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }
  int line() const { return line_; }
  char take() {
    const char c = text_[pos_++];
    if (c == '\n') ++line_;
    return c;
  }
  void skip_blanks() {
    while (!done() && is_blank(peek())) take();
  }
  void skip_line() {
    while (!done() && take() != '\n') {
    }
  }
  // The key up to '=', blanks around it trimmed; nullopt (and the rest of
  // the line skipped) when the line has no '='.
  std::optional<std::string> key() {
    std::string key;
    while (!done() && peek() != '=' && peek() != '\n') key += take();
    if (done() || peek() != '=') {
      skip_line();
      return std::nullopt;
    }
    take();  // '='
    while (!key.empty() && is_blank(key.back())) key.pop_back();
    return key;
  }
  // The value up to the end of the (logical) line: quotes may span lines, a
  // backslash escapes the next character or joins the next line. Blanks
  // after the value are dropped unless quoted. nullopt when a quote is left
  // open at the end of the file.
  std::optional<std::string> value() {
    std::string value;
    std::size_t kept = 0;  // length without trailing unquoted blanks
    skip_blanks();
    while (!done() && peek() != '\n') {
      const char c = take();
      if (c == '\'') {
        if (!single_quoted(value)) return std::nullopt;
        kept = value.size();
      } else if (c == '"') {
        if (!double_quoted(value)) return std::nullopt;
        kept = value.size();
      } else if (c == '\\') {
        if (done()) break;
        const char next = take();
        if (next != '\n') {
          value += next;
          kept = value.size();
        }
      } else {
        value += c;
        if (!is_blank(c)) kept = value.size();
      }
    }
    if (!done()) take();  // the newline
    value.resize(kept);
    return value;
  }

 private:
  bool single_quoted(std::string& value) {
    while (!done()) {
      const char c = take();
      if (c == '\'') return true;
      value += c;
    }
    return false;
  }
  // Inside double quotes a backslash escapes only what a shell would
  // (" \ ` $) and joins lines; before anything else it stays.
  bool double_quoted(std::string& value) {
    while (!done()) {
      const char c = take();
      if (c == '"') return true;
      if (c == '\\' && !done()) {
        const char next = take();
        if (next == '"' || next == '\\' || next == '`' || next == '$') {
          value += next;
        } else if (next != '\n') {
          value += '\\';
          value += next;
        }
        continue;
      }
      value += c;
    }
    return false;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

void add_problem(std::vector<std::string>* problems, int line, std::string_view what) {
  if (problems != nullptr)
    problems->push_back("line " + std::to_string(line) + ": " + std::string(what));
}

// "export KEY" as written for shells that source the same file.
std::string without_export(std::string key) {
  constexpr std::string_view kExport = "export";
  if (key.size() > kExport.size() && key.starts_with(kExport) && is_blank(key[kExport.size()])) {
    key.erase(0, kExport.size());
    key.erase(0, key.find_first_not_of(" \t"));
  }
  return key;
}

}  // namespace

// Problem lines name the line and what is wrong, never the line's text: an
// env file may hold things like passwords next to the keys we want.
std::vector<std::string> parse_env_file(std::string_view text, std::vector<std::string>* problems) {
  std::vector<std::string> entries;
  EnvFileReader in(text);
  while (true) {
    in.skip_blanks();
    if (in.done()) break;
    if (in.peek() == '\n') {
      in.take();
      continue;
    }
    const int line = in.line();
    if (in.peek() == '#' || in.peek() == ';') {
      in.skip_line();
      continue;
    }
    auto key = in.key();
    if (!key) {
      add_problem(problems, line, "not a KEY=VALUE assignment");
      continue;
    }
    *key = without_export(std::move(*key));
    auto value = in.value();
    if (!value) {
      add_problem(problems, line, "a quote is not closed");
      break;
    }
    if (!is_variable_name(*key)) {
      add_problem(problems, line, "not a valid variable name before '='");
      continue;
    }
    // A later assignment of the same name replaces the earlier one (systemd).
    std::string entry = *key + "=" + *value;
    const std::string prefix = *key + "=";
    bool replaced = false;
    for (auto& e : entries) {
      if (e.starts_with(prefix)) {
        e = entry;
        replaced = true;
        break;
      }
    }
    if (!replaced) entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace etcd_warden::tuning
