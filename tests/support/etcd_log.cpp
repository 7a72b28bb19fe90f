#include "support/etcd_log.hpp"

#include <cstdio>
#include <ctime>
#include <sstream>

namespace etcd_warden::testing {

std::optional<LogTime> parse_log_time(std::string_view line) {
  std::tm tm{};
  int micros = 0;
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
    if (std::sscanf(head.c_str(), "%4d-%2d-%2d %2d:%2d:%2d.%6d", &tm.tm_year, &tm.tm_mon,
                    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &micros) != 7) {
      return std::nullopt;
    }
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1;
  const std::time_t t = std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t) + std::chrono::microseconds(micros);
}

std::vector<LogInterval> defrag_intervals(const std::string& log) {
  std::vector<LogInterval> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    const auto t = parse_log_time(line);
    if (!t) continue;
    if (line.find("starting to defragment the storage backend") != std::string::npos) {
      out.push_back({*t, std::nullopt});
    } else if (line.find("finished defragmenting the storage backend") != std::string::npos &&
               !out.empty() && !out.back().end) {
      out.back().end = *t;
    }
  }
  return out;
}

namespace {

// The times of the log lines that contain `marker`.
std::vector<LogTime> times_of(const std::string& log, std::string_view marker) {
  std::vector<LogTime> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(marker) == std::string::npos) continue;
    if (const auto t = parse_log_time(line)) out.push_back(*t);
  }
  return out;
}

}  // namespace

std::vector<LogTime> leader_elections(const std::string& log) {
  return times_of(log, "became leader at term");
}

std::vector<LogTime> leader_transfers(const std::string& log) {
  return times_of(log, "starts leadership transfer from");
}

bool overlap(const LogInterval& a, const LogInterval& b) {
  const LogTime far = LogTime::max();
  return a.start <= b.end.value_or(far) && b.start <= a.end.value_or(far);
}

}  // namespace etcd_warden::testing
