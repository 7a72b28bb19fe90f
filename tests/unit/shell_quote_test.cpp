// util/shell_quote: a value in a pasted command is one shell word, exactly the
// value, checked against real shells; what cannot be pasted is refused, and
// shown escaped.
#include <catch2/catch.hpp>

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "etcd_warden/util/shell_quote.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace etcd_warden;
using etcd_warden::testing::run_command;
using etcd_warden::testing::TempDir;
using etcd_warden::testing::write_file;

namespace {

// The shells an operator's root shell may be; dash is /bin/sh on Debian.
std::vector<std::string> shells() {
  std::vector<std::string> found{"/bin/sh"};
  for (const char* shell : {"/bin/bash", "/bin/zsh"}) {
    if (std::filesystem::exists(shell)) found.push_back(shell);
  }
  return found;
}

// What `shell` prints for `printf '%s\n' QUOTED`, one line per value, all in
// one run (one process for many values keeps the property test fast).
std::string printed_by(const std::string& shell, const std::vector<std::string>& values) {
  TempDir dir("shell-quote");
  std::string script;
  for (const auto& v : values) script += "printf '%s\\n' " + util::shell_quote(v) + "\n";
  write_file(dir / "script", script);
  const auto r = run_command({shell, (dir / "script").string()}, {.separate_stderr = true});
  INFO(shell << ": " << r.error);
  REQUIRE(r.exit_code == 0);
  CHECK(r.error.empty());
  return r.output;
}

std::string one_per_line(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += v + "\n";
  return out;
}

}  // namespace

TEST_CASE("shell_quote: a value of safe characters stays as it is", "[shell_quote]") {
  for (const std::string v :
       {"/var/lib/etcd", "https://10.0.0.1:2380", "m1=https://a:1,m2=https://b:2",
        "etcd-restored-20261123T120000Z", "a@b%c+d_e", "--cacert"}) {
    CHECK(util::shell_quote(v) == v);
  }
}

TEST_CASE("shell_quote: anything else is single-quoted, ' as '\\''", "[shell_quote]") {
  CHECK(util::shell_quote("") == "''");
  CHECK(util::shell_quote("my data;touch /tmp/INJECTED") == "'my data;touch /tmp/INJECTED'");
  CHECK(util::shell_quote("it's") == "'it'\\''s'");
  CHECK(util::shell_quote("$(id)") == "'$(id)'");
  CHECK(util::shell_quote("~root") == "'~root'");
  CHECK(util::shell_quote("=ls") == "'=ls'");  // zsh would expand =ls to /bin/ls
  CHECK(util::shell_quote("m\xC3\xA9mber") == "'m\xC3\xA9mber'");
}

TEST_CASE("shell_quote: a value that cannot be pasted is refused, saying why", "[shell_quote]") {
  const struct {
    std::string value, hazard;
  } cases[] = {
      {std::string("a\0b", 3), "contains a NUL byte"},
      {"a\nb", "contains a newline"},
      {"a\rb", "contains a carriage return"},
      {"a\tb", "contains the control character \\x09"},
      {"\x1b[31mred", "contains the control character \\x1b"},
      {"del\x7f", "contains the control character \\x7f"},
      {"csi\xC2\x9B", "contains the control character \\xc2\\x9b"},
      {"bad\xFFutf8", "is not valid UTF-8 (byte \\xff)"},
      {"cut\xE2\x82", "is not valid UTF-8 (byte \\xe2)"},
  };
  for (const auto& c : cases) {
    INFO(util::escaped(c.value));
    CHECK(util::paste_hazard(c.value) == c.hazard);
    CHECK_THROWS_AS(util::shell_quote(c.value), std::invalid_argument);
  }
  CHECK_FALSE(util::paste_hazard("quotes ' \" $ ` \\ ; | & * ? ~ # ! {} [] <> \xE2\x82\xAC"));
}

TEST_CASE("shell_quote: escaped shows every byte on one printable line", "[shell_quote]") {
  CHECK(util::escaped("plain /path") == "plain /path");
  CHECK(util::escaped("a\nb\rc\td") == "a\\nb\\rc\\td");
  CHECK(util::escaped(std::string("nul\0", 4)) == "nul\\x00");
  CHECK(util::escaped("\x1b[31m") == "\\x1b[31m");
  CHECK(util::escaped("\xC2\x9B|\xFF") == "\\xc2\\x9b|\\xff");
  CHECK(util::escaped("say \"hi\" \\o/") == "say \\\"hi\\\" \\\\o/");
  CHECK(util::escaped("m\xC3\xA9mber \xF0\x9F\x98\x80") == "m\xC3\xA9mber \xF0\x9F\x98\x80");
}

TEST_CASE("shell_quote: a real shell gets back exactly the value", "[shell_quote]") {
  const std::vector<std::string> values{"",
                                        "my data;touch /tmp/INJECTED",
                                        "$(touch /tmp/X)",
                                        "`id`",
                                        "o'brien",
                                        "''",
                                        "'\\''",
                                        "etcd restored now",
                                        "a\\b\\\\c",
                                        "${HOME}$HOME$1$@$*$#",
                                        "* ? [a-z] {a,b} ~ ~root",
                                        "#not a comment",
                                        "!! !$ ^a^b",
                                        "a|b&c;d<e>f(g)h",
                                        "=ls",
                                        "  leading and trailing  ",
                                        "m\xC3\xA9mber \xE2\x82\xAC \xF0\x9F\x98\x80"};
  for (const auto& shell : shells()) CHECK(printed_by(shell, values) == one_per_line(values));
}

TEST_CASE("shell_quote: 2000 random hostile strings survive a real shell", "[shell_quote]") {
  const std::vector<std::string> alphabet{"'",
                                          "\"",
                                          "$",
                                          "`",
                                          "\\",
                                          ";",
                                          "|",
                                          "&",
                                          " ",
                                          "*",
                                          "?",
                                          "~",
                                          "#",
                                          "!",
                                          "{",
                                          "}",
                                          "[",
                                          "]",
                                          "<",
                                          ">",
                                          "(",
                                          ")",
                                          "=",
                                          "%",
                                          "^",
                                          "a",
                                          "Z",
                                          "0",
                                          "-",
                                          "/",
                                          ".",
                                          ",",
                                          ":",
                                          "@",
                                          "\xC3\xA9",
                                          "\xE2\x82\xAC",
                                          "\xF0\x9F\x98\x80",
                                          "\xE4\xB8\xAD",
                                          "$(",
                                          "${",
                                          "'\\''"};
  std::mt19937 random(20261123);  // fixed: a failure reproduces
  std::uniform_int_distribution<std::size_t> length(0, 24), pick(0, alphabet.size() - 1);
  std::vector<std::string> values(2000);
  for (auto& v : values) {
    for (std::size_t n = length(random); n > 0; --n) v += alphabet[pick(random)];
  }
  for (const auto& shell : shells()) {
    const std::string printed = printed_by(shell, values);
    if (printed == one_per_line(values)) continue;
    // Name the first value that came back different.
    std::size_t at = 0;
    for (const auto& v : values) {
      const std::size_t end = printed.find('\n', at);
      INFO(shell << ": " << util::shell_quote(v));
      REQUIRE(printed.substr(at, end - at) == v);
      at = end + 1;
    }
  }
}
