#include "support/etcd_log.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>

namespace etcd_warden::testing {

namespace {

using json = nlohmann::json;

// Calendar fields in UTC -> time point; timegm, unlike mktime, ignores TZ.
std::optional<LogTime> from_utc(std::tm tm, std::chrono::microseconds frac) {
  const std::time_t t = ::timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t) + frac;
}

// etcd 3.4 logs its own local time without a zone.
std::optional<LogTime> from_local(std::tm tm, std::chrono::microseconds frac) {
  tm.tm_isdst = -1;
  const std::time_t t = std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t) + frac;
}

// Digits after the decimal point -> microseconds (more than six are cut).
std::chrono::microseconds fraction(std::string_view digits) {
  long micros = 0;
  for (std::size_t k = 0; k < 6; ++k) {
    micros = micros * 10 + (k < digits.size() ? digits[k] - '0' : 0);
  }
  return std::chrono::microseconds(micros);
}

// "2026-12-02T19:11:05.767140Z", "2026-12-02T19:18:37.166+0000" (zap's
// ISO 8601 in 3.4's --logger=zap), "...+01:00".
std::optional<LogTime> parse_rfc3339(std::string_view s) {
  std::tm tm{};
  const std::string head(s.substr(0, 19));
  if (s.size() < 20 || std::sscanf(head.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
                                   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::size_t pos = 19;
  std::chrono::microseconds frac{0};
  if (s[pos] == '.') {
    const std::size_t begin = ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    frac = fraction(s.substr(begin, pos - begin));
  }
  if (pos >= s.size()) return std::nullopt;
  auto t = from_utc(tm, frac);
  if (!t) return std::nullopt;
  if (s[pos] == 'Z') return t;
  if (s[pos] != '+' && s[pos] != '-') return std::nullopt;
  std::string zone(s.substr(pos + 1));
  std::erase(zone, ':');
  int hh = 0, mm = 0;
  if (zone.size() != 4 || std::sscanf(zone.c_str(), "%2d%2d", &hh, &mm) != 2) return std::nullopt;
  const auto offset = std::chrono::minutes(hh * 60 + mm);
  // Local = UTC + offset, so UTC = local - offset.
  return s[pos] == '+' ? *t - offset : *t + offset;
}

std::optional<LogEntry> parse_json_line(std::string_view line) {
  const json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ts")) return std::nullopt;
  LogEntry e;
  e.json = true;
  const json& ts = j["ts"];
  if (ts.is_string()) {
    const auto t = parse_rfc3339(ts.get<std::string>());
    if (!t) return std::nullopt;
    e.time = *t;
  } else if (ts.is_number()) {
    e.time = LogTime(std::chrono::duration_cast<LogTime::duration>(
        std::chrono::duration<double>(ts.get<double>())));
  } else {
    return std::nullopt;
  }
  if (j.contains("msg") && j["msg"].is_string()) e.message = j["msg"].get<std::string>();
  return e;
}

std::optional<LogEntry> parse_text_line(std::string_view line) {
  std::tm tm{};
  std::chrono::microseconds frac{0};
  // etcd's own lines: "2026-11-23 13:03:04.802010 N | ..."; its raft library
  // logs through Go's log package instead: "raft2026/11/23 14:13:01 INFO: ...".
  if (line.starts_with("raft")) {
    const std::string head(line.substr(4, 19));
    if (std::sscanf(head.c_str(), "%4d/%2d/%2d %2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
      return std::nullopt;
    }
  } else {
    if (line.size() < 26) return std::nullopt;
    const std::string head(line.substr(0, 26));
    int micros = 0;
    if (std::sscanf(head.c_str(), "%4d-%2d-%2d %2d:%2d:%2d.%6d", &tm.tm_year, &tm.tm_mon,
                    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &micros) != 7) {
      return std::nullopt;
    }
    frac = std::chrono::microseconds(micros);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const auto t = from_local(tm, frac);
  if (!t) return std::nullopt;
  return LogEntry{*t, std::string(line), false};
}

// What one kind of event looks like in each format: a substring of a 3.4
// text line, or the exact "msg" of a 3.5 JSON line (exact, because
// "finished defragmenting directory" would contain "finished defragment").
struct Marker {
  std::string_view text;
  std::string_view json_msg;
  bool json_exact = true;
};

bool matches(const LogEntry& e, const Marker& m) {
  if (!e.json) return e.message.find(m.text) != std::string::npos;
  return m.json_exact ? e.message == m.json_msg : e.message.find(m.json_msg) != std::string::npos;
}

// The entry for `line` if it may match one of `markers`: parsing JSON only
// for lines that contain a marker keeps a long log cheap.
std::optional<LogEntry> candidate(std::string_view line, std::initializer_list<Marker> markers) {
  bool maybe = false;
  for (const Marker& m : markers) {
    maybe = maybe || line.find(m.text) != std::string_view::npos ||
            line.find(m.json_msg) != std::string_view::npos;
  }
  if (!maybe) return std::nullopt;
  return parse_log_line(line);
}

const Marker kDefragStart{"starting to defragment the storage backend", "starting defragment"};
const Marker kDefragEnd{"finished defragmenting the storage backend", "finished defragment"};
const Marker kDefragFailed{"failed to defragment the storage backend", "failed to defragment"};
// The raft library writes the same words in both versions.
const Marker kBecameLeader{"became leader at term", "became leader at term", false};
const Marker kTransferStart{"starts leadership transfer from", "leadership transfer starting"};

// The times of the log lines that match `marker`.
std::vector<LogTime> times_of(const std::string& log, const Marker& marker) {
  std::vector<LogTime> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    const auto e = candidate(line, {marker});
    if (e && matches(*e, marker)) out.push_back(e->time);
  }
  return out;
}

}  // namespace

std::optional<LogEntry> parse_log_line(std::string_view line) {
  if (line.starts_with('{')) return parse_json_line(line);
  return parse_text_line(line);
}

std::optional<LogTime> parse_log_time(std::string_view line) {
  const auto e = parse_log_line(line);
  if (!e) return std::nullopt;
  return e->time;
}

std::vector<LogInterval> defrag_intervals(const std::string& log) {
  std::vector<LogInterval> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    const auto e = candidate(line, {kDefragStart, kDefragEnd, kDefragFailed});
    if (!e) continue;
    if (matches(*e, kDefragStart)) {
      out.push_back({e->time, std::nullopt});
    } else if ((matches(*e, kDefragEnd) || matches(*e, kDefragFailed)) && !out.empty() &&
               !out.back().end) {
      out.back().end = e->time;
    }
  }
  return out;
}

std::vector<LogTime> leader_elections(const std::string& log) {
  return times_of(log, kBecameLeader);
}

std::vector<LogTime> leader_transfers(const std::string& log) {
  return times_of(log, kTransferStart);
}

bool overlap(const LogInterval& a, const LogInterval& b) {
  const LogTime far = LogTime::max();
  return a.start <= b.end.value_or(far) && b.start <= a.end.value_or(far);
}

}  // namespace etcd_warden::testing
