#include "ctl_args.hpp"

#include <chrono>
#include <cstddef>
#include <utility>

#include "etcd_warden/config/units.hpp"

namespace etcd_warden::control::detail {

namespace {

Parsed usage_error(std::string message) {
  return Parsed{.options = std::nullopt, .error = std::move(message)};
}

}  // namespace

Parsed parse(const std::vector<std::string>& words) {
  Options o;
  std::vector<std::string> positional;
  std::string error;
  // nullopt (and `error` set) when the flag has no value.
  auto value = [&](std::size_t& i, const std::string& flag) -> std::optional<std::string> {
    const std::string& w = words[i];
    if (w.size() > flag.size() && w.starts_with(flag + "=")) return w.substr(flag.size() + 1);
    if (i + 1 >= words.size()) {
      error = flag + " needs a value";
      return std::nullopt;
    }
    return words[++i];
  };
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    auto is = [&w](const std::string& flag) { return w == flag || w.starts_with(flag + "="); };
    if (is("--bus")) {
      auto v = value(i, "--bus");
      if (!v) return usage_error(error);
      if (v->empty()) return usage_error("--bus needs an address");
      o.bus = *v;
    } else if (is("-o") || is("--output")) {
      auto v = value(i, is("-o") ? "-o" : "--output");
      if (!v) return usage_error(error);
      if (*v != "json" && *v != "table")
        return usage_error("-o takes json or table, not '" + *v + "'");
      o.json = *v == "json";
    } else if (is("--for")) {
      auto v = value(i, "--for");
      if (!v) return usage_error(error);
      o.pause_for = *v;
    } else if (w == "--no-wait") {
      o.no_wait = true;
    } else if (w.starts_with("-") && w.size() > 1) {
      return usage_error("unknown option '" + w + "'");
    } else {
      positional.push_back(w);
    }
  }
  if (positional.empty()) return usage_error("which command?");
  o.command = positional.front();
  o.args.assign(positional.begin() + 1, positional.end());

  const std::size_t want = o.command == "run" ? 1 : 0;
  if (o.command != "status" && o.command != "run" && o.command != "pause" &&
      o.command != "resume" && o.command != "snapshots") {
    return usage_error("unknown command '" + o.command + "'");
  }
  if (o.args.size() != want) {
    return usage_error(o.command == "run" ? "run needs one job name"
                                          : o.command + " takes no arguments");
  }
  if (o.pause_for && o.command != "pause") return usage_error("--for is for pause");
  if (o.no_wait && o.command != "run") return usage_error("--no-wait is for run");
  return Parsed{.options = std::move(o), .error = {}};
}

PauseSeconds pause_seconds(const std::optional<std::string>& pause_for) {
  using namespace std::chrono_literals;
  if (!pause_for) return PauseSeconds{.seconds = 0, .error = {}};  // until resumed
  const auto d = config::parse_duration(*pause_for);
  if (!d) {
    return PauseSeconds{
        .seconds = std::nullopt,
        .error = "--for: expected a duration like 30m or 2h, got '" + *pause_for + "'"};
  }
  if (*d < 1s) {
    return PauseSeconds{
        .seconds = std::nullopt,
        .error = "--for must be at least 1s (to pause until resumed, leave out --for)"};
  }
  // Whole seconds on the wire; round up so the pause is never shorter than asked.
  return PauseSeconds{.seconds = static_cast<std::uint64_t>((d->count() + 999) / 1000),
                      .error = {}};
}

}  // namespace etcd_warden::control::detail
