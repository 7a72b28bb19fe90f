// ExecStart variable expansion, pure. Debian's etcd-server unit runs
// `/usr/bin/etcd $DAEMON_ARGS` with the flags in /etc/default/etcd, so the
// flags only exist after this step.
#include <cctype>
#include <map>

#include "etcd_warden/systemd/unit_startup.hpp"

namespace etcd_warden::systemd {

namespace {

using Variables = std::map<std::string, std::string, std::less<>>;

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

Variables variables_of(const std::vector<std::string>& env) {
  Variables out;
  for (const auto& entry : env) {
    const auto eq = entry.find('=');
    if (eq != std::string::npos) out[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return out;
}

std::string value_of(const Variables& vars, std::string_view name) {
  const auto it = vars.find(name);
  return it == vars.end() ? std::string() : it->second;
}

// "$NAME" alone: the name, or nullopt when the word is anything else.
std::optional<std::string_view> whole_word_variable(std::string_view word) {
  if (word.size() < 2 || word[0] != '$' || std::isdigit(static_cast<unsigned char>(word[1]))) {
    return std::nullopt;
  }
  const auto name = word.substr(1);
  for (const char c : name) {
    if (!is_name_char(c)) return std::nullopt;
  }
  return name;
}

std::vector<std::string> split_whitespace(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

std::string replace_braced(std::string_view word, const Variables& vars) {
  std::string out;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (word[i] == '$' && i + 1 < word.size() && word[i + 1] == '$') {
      out += '$';
      ++i;
    } else if (word[i] == '$' && i + 1 < word.size() && word[i + 1] == '{') {
      const auto close = word.find('}', i + 2);
      if (close == std::string_view::npos) {
        out += word.substr(i);  // unterminated: systemd keeps it as written
        break;
      }
      out += value_of(vars, word.substr(i + 2, close - i - 2));
      i = close;
    } else {
      out += word[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> expand_exec_argv(const std::vector<std::string>& argv,
                                          const std::vector<std::string>& env) {
  const Variables vars = variables_of(env);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const auto name = i == 0 ? std::nullopt : whole_word_variable(argv[i]);
    if (name) {
      const auto words = split_whitespace(value_of(vars, *name));
      out.insert(out.end(), words.begin(), words.end());
    } else {
      out.push_back(replace_braced(argv[i], vars));
    }
  }
  return out;
}

}  // namespace etcd_warden::systemd
