// Values in commands that a person pastes into a (root) shell: each value
// becomes exactly one word, whatever it holds. Ordinary values stay as they
// are, so a printed command remains readable; anything else is single-quoted.
// Some bytes cannot be made safe for a paste at all: a newline ends the line
// being pasted even inside quotes, a NUL cannot be passed in argv, and control
// characters or ill-formed UTF-8 can make a terminal show something other
// than what runs. Those values are refused, and shown escaped.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace etcd_warden::util {

// Why `value` cannot be pasted into a shell as one word, e.g. "contains a
// newline"; nullopt when it can.
std::optional<std::string> paste_hazard(std::string_view value);

// `value` as one POSIX shell word: as is when it is made only of
// [A-Za-z0-9_@%+=:,./-] and does not start with '=' (zsh expands "=cmd"),
// else in single quotes, each ' written as '\''. "" becomes ''. Throws std::invalid_argument for a
// value with a paste_hazard (check first: the message names the hazard, not the value).
std::string shell_quote(std::string_view value);

// `value` for a one-line message or a '#' comment: printable text as is,
// \ and " escaped, \n \r \t and other control or ill-formed bytes as \n, \r,
// \t or \xNN. Nothing it returns can end a line or drive a terminal.
std::string escaped(std::string_view value);

// The same, but \ and " left as they are: for a message that already quotes
// the values in it (a config error, a library's error text), to keep it on
// one line and free of terminal controls.
std::string one_line(std::string_view value);

}  // namespace etcd_warden::util
