#include <cstdio>

#include "etcd_warden/status/status_board.hpp"
#include "etcd_warden/util/utf8.hpp"

namespace etcd_warden::status {

std::string format_age(std::chrono::seconds age) {
  const auto s = std::max<long long>(0, age.count());
  if (s < 120) return std::to_string(s) + "s";
  if (s < 2LL * 3600) return std::to_string(s / 60) + "m";
  if (s < 2LL * 86400) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

namespace {

std::string short_outcome(sched::Outcome o) {
  switch (o) {
    case sched::Outcome::success:
      return "ok";
    case sched::Outcome::failure:
      return "FAILED";
    case sched::Outcome::skipped:
      return "skipped";
  }
  return "?";
}

std::string member_part(const MemberStatus& m) {
  std::string out = m.name.empty() ? "member" : m.name;
  if (m.is_learner) {
    out += " (learner)";
  } else if (m.is_leader()) {
    out += " (leader)";
  } else if (!m.has_leader()) {
    out += " (NO LEADER)";
  }
  out += ", db " + to_string(m.db_size);
  if (m.quota && m.quota->value > 0) {
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.0f%%", 100.0 * m.db_size.as_double() / m.quota->as_double());
    out += " of " + to_string(*m.quota) + " (" + pct + ")";
  }
  out += ", " + to_string(m.db_in_use) + " in use";
  if (m.member_count > 0) {
    out += ", " + std::to_string(m.member_count) + (m.member_count == 1 ? " member" : " members");
  }
  return out;
}

}  // namespace

std::string format_status_line(const StatusBoard& board, sched::WallTime now) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  std::string line;
  auto add = [&line](const std::string& part) {
    if (!line.empty()) line += "; ";
    line += part;
  };

  if (!board.config_problem.empty())
    add("config reload failed, running previous config: " + board.config_problem);
  if (board.paused) {
    std::string p = "PAUSED";
    if (board.paused_until)
      p += " for " + format_age(duration_cast<seconds>(*board.paused_until - now));
    add(p);
  }
  const MemberStatus& m = board.member;
  if (!m.polled) {
    add("starting: first status poll pending");
  } else if (!m.up) {
    std::string d = "DEGRADED: etcd unreachable";
    if (m.down_since) d += " for " + format_age(duration_cast<seconds>(now - *m.down_since));
    add(d + " (" + m.error + ")");
  } else {
    for (const auto& alarm : m.alarms) add("ALARM " + alarm.type);
  }
  if (!board.consistency_alert.empty()) add(board.consistency_alert);
  if (!board.activity.empty()) add(board.activity);
  // Measured without etcd's gRPC API: shown even when the member is down.
  if (!board.tuning_alert.empty()) add(board.tuning_alert);
  if (!board.certificate_alert.empty()) add(board.certificate_alert);
  if (m.polled && m.up) {
    add(member_part(m));
  }
  for (const auto& [name, job] : board.jobs) {
    if (name == "status") continue;  // the member part above is the status job's result
    std::string j = name + " " + short_outcome(job.outcome) + " " +
                    format_age(duration_cast<seconds>(now - job.finished_at)) + " ago";
    if (job.outcome != sched::Outcome::success && !job.summary.empty())
      j += " (" + job.summary + ")";
    add(j);
  }
  constexpr std::size_t kMax = 400;
  // Cut at a character boundary, and make the whole line valid UTF-8: it goes
  // out over sd_notify and D-Bus, and job summaries quote file names and
  // etcd's errors, which may hold any byte.
  if (line.size() > kMax) line = std::string(util::utf8_prefix(line, kMax - 3)) + "...";
  // One line: sd_notify takes newline-separated assignments, so a newline
  // in a member name, an etcd error or a record another warden wrote would
  // send its own (WATCHDOG=trigger has systemd kill us).
  for (auto& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return util::valid_utf8(line);
}

}  // namespace etcd_warden::status
