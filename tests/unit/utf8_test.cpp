// util/utf8: what the daemon sends as text is valid UTF-8 whatever bytes file
// names, sidecars and etcd's answers hold (D-Bus refuses anything else).
#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>

#include "etcd_warden/status/status_board.hpp"
#include "etcd_warden/util/utf8.hpp"

using namespace etcd_warden;

TEST_CASE("utf8: well-formed text passes unchanged", "[utf8]") {
  for (const std::string& s :
       std::initializer_list<std::string>{"", "plain ascii", "m\xC3\xA9mber", "\xE2\x82\xAC 5",
                                          "\xF0\x9F\x98\x80", std::string("nul\0inside", 10)}) {
    CHECK(util::is_valid_utf8(s));
    CHECK(util::valid_utf8(s) == s);
  }
}

TEST_CASE("utf8: each ill-formed sequence becomes one U+FFFD", "[utf8]") {
  const std::string r = "\xEF\xBF\xBD";
  const struct {
    const char* what;
    std::string in, out;
  } cases[] = {
      {"a lone continuation byte", "a\x80z", "a" + r + "z"},
      {"a byte never used in UTF-8", "\xFF", r},
      {"an overlong '/'", "\xC0\xAF", r + r},
      {"an overlong 3-byte form", "\xE0\x80\xAF", r + r + r},
      {"a surrogate", "\xED\xA0\x80", r + r + r},
      {"above U+10FFFF", "\xF4\x90\x80\x80", r + r + r + r},
      {"a character cut short", "ab\xE2\x82", "ab" + r},
      {"a character cut short before ascii", "\xE2\x82z", r + "z"},
      {"a 4-byte one cut after 3", "\xF0\x9F\x98", r},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    CHECK_FALSE(util::is_valid_utf8(c.in));
    CHECK(util::valid_utf8(c.in) == c.out);
    CHECK(util::is_valid_utf8(util::valid_utf8(c.in)));
  }
}

TEST_CASE("utf8: a prefix never ends inside a character", "[utf8]") {
  const std::string euro = "\xE2\x82\xAC";  // 3 bytes
  const std::string s = "ab" + euro + "cd";
  CHECK(util::utf8_prefix(s, 100) == s);
  CHECK(util::utf8_prefix(s, 2) == "ab");
  CHECK(util::utf8_prefix(s, 3) == "ab");
  CHECK(util::utf8_prefix(s, 4) == "ab");
  CHECK(util::utf8_prefix(s, 5) == "ab" + euro);
}

// Kept input (issue 18): a STATUS line cut at 400 bytes inside a multi-byte
// character made GetStatusJson throw, and the daemon exit.
TEST_CASE("the status line is cut at a character boundary and is valid UTF-8", "[utf8][status]") {
  status::StatusBoard board;
  board.member.polled = true;
  board.member.up = false;
  std::string error;
  for (int i = 0; i < 300; ++i) error += "\xC3\xA9";  // é, two bytes each
  board.member.error = "x" + error + "\xFF";          // odd offset, then an invalid byte
  const auto line = status::format_status_line(board, sched::WallTime{});
  CHECK(line.size() <= 400);
  CHECK(line.ends_with("..."));
  CHECK(util::is_valid_utf8(line));
}
