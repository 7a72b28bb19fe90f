#include "ctl_render.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "etcd_warden/status/status_board.hpp"
#include "etcd_warden/util/bytes.hpp"

namespace etcd_warden::control::detail {

namespace {

using nlohmann::json;

std::string str(const json& j, const char* key, const std::string& fallback = "") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::string age(double seconds) {
  return status::format_age(std::chrono::seconds(static_cast<long long>(std::llround(seconds))));
}

std::string bytes(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return "?";
  return to_string(Bytes{it->get<std::uint64_t>()});
}

}  // namespace

void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
}

void print_status(const json& s, std::ostream& out) {
  std::string headline = "etcd-warden " + str(s, "version") + ": " + str(s, "health");
  if (s.value("paused", false)) {
    const auto until = str(s, "paused_until");
    headline += until.empty() ? ", PAUSED until resumed"
                              : ", PAUSED until " + until + " (" +
                                    age(s.value("paused_remaining_seconds", 0.0)) + " left)";
  }
  out << headline << "\n";

  const json& m = s.at("member");
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"endpoint", str(m, "endpoint")});
  if (!m.value("polled", false)) {
    rows.push_back({"member", "first status poll pending"});
  } else if (!m.value("up", false)) {
    rows.push_back({"member", "DOWN since " + str(m, "down_since", "?") + ": " + str(m, "error")});
  } else {
    std::string role = m.value("is_learner", false)   ? "learner"
                       : m.value("is_leader", false)  ? "leader"
                       : m.value("has_leader", false) ? "follower of " + str(m, "leader_id")
                                                      : "NO LEADER";
    rows.push_back({"member", str(m, "name", "?") + " (" + role + "), id " + str(m, "id", "?") +
                                  ", etcd " + str(m, "version") + ", " +
                                  std::to_string(m.value("member_count", 0)) +
                                  (m.value("member_count", 0) == 1 ? " member" : " members")});
    std::string db = bytes(m, "db_size_bytes");
    if (m.contains("quota_bytes") && m["quota_bytes"].is_number()) {
      const auto quota = m["quota_bytes"].get<double>();
      char pct[16];
      std::snprintf(pct, sizeof pct, "%.0f%%",
                    quota > 0 ? 100.0 * m.value("db_size_bytes", 0.0) / quota : 0.0);
      db += " of " + bytes(m, "quota_bytes") + " quota (" + pct + ")";
    }
    db += ", " + bytes(m, "db_in_use_bytes") + " in use";
    rows.push_back({"db", db});
    rows.push_back({"revision", std::to_string(m.value("revision", 0LL)) + ", raft index " +
                                    std::to_string(m.value("raft_index", 0ULL)) + " term " +
                                    std::to_string(m.value("raft_term", 0ULL))});
    std::string alarms;
    for (const auto& a : m.value("alarms", json::array()))
      alarms += (alarms.empty() ? "" : ", ") + str(a, "type") + " on " + str(a, "member_id");
    rows.push_back({"alarms", alarms.empty() ? "none" : alarms});
  }
  const auto problem = str(s, "config_problem");
  rows.push_back({"config", problem.empty()
                                ? "ok"
                                : "RELOAD FAILED, running the previous config: " + problem});
  const auto settings = str(s, "tuning_settings");
  if (!settings.empty()) rows.push_back({"timeouts", settings});
  const auto tuning = str(s, "tuning_alert");
  if (!tuning.empty()) rows.push_back({"tuning", tuning + " (etcd-warden job tuning)"});
  const auto consistency = str(s, "consistency_alert");
  if (!consistency.empty()) rows.push_back({"consistency", consistency + " (docs/runbook.md)"});
  const auto certs = str(s, "certificate_alert");
  if (!certs.empty()) rows.push_back({"certificates", certs + " (etcd-warden job certificates)"});
  print_table(rows, out);

  out << "\n";
  std::vector<std::vector<std::string>> jobs{
      {"JOB", "ENABLED", "LAST", "AGE", "TOOK", "NEXT", "SUMMARY"}};
  for (const auto& j : s.value("jobs", json::array())) {
    const bool ran = j.contains("last_result") && j["last_result"].is_string();
    std::string next = "-";
    if (j.value("running", false)) {
      next = "running";
    } else if (j.contains("next_run_in_seconds") && j["next_run_in_seconds"].is_number()) {
      next = "in " + age(j["next_run_in_seconds"].get<double>());
    } else if (s.value("paused", false) && j.value("enabled", false)) {
      next = "paused";
    }
    char took[32] = "-";
    if (ran) std::snprintf(took, sizeof took, "%.3fs", j.value("duration_seconds", 0.0));
    jobs.push_back({str(j, "name"), j.value("enabled", false) ? "yes" : "no",
                    ran ? str(j, "last_result") : "never",
                    ran ? age(j.value("age_seconds", 0.0)) : "-", took, next, str(j, "summary")});
  }
  print_table(jobs, out);
}

void print_snapshots(const json& list, std::ostream& out) {
  if (list.empty()) {
    out << "no snapshots\n";
    return;
  }
  std::vector<std::vector<std::string>> rows{
      {"FILE", "TAKEN", "AGE", "REVISION", "SIZE", "VERIFIED"}};
  for (const auto& e : list) {
    rows.push_back({str(e, "file"), str(e, "taken_at"), age(e.value("age_seconds", 0.0)),
                    std::to_string(e.value("revision", 0LL)), bytes(e, "file_bytes"),
                    e.value("verified", false) ? "yes" : "NO: " + str(e, "problem")});
  }
  print_table(rows, out);
}

void print_finished(const JobFinished& finished, bool as_json, std::ostream& out) {
  if (as_json) {
    out << json{{"job", finished.job},
                {"result", finished.result},
                {"summary", finished.summary},
                {"seconds", finished.seconds}}
               .dump(2)
        << "\n";
    return;
  }
  char took[32];
  std::snprintf(took, sizeof took, "%.3fs", finished.seconds);
  out << finished.job << ": " << finished.result << " in " << took;
  if (!finished.summary.empty()) out << " (" << finished.summary << ")";
  out << "\n";
}

void print_started(const std::string& job, bool as_json, std::ostream& out) {
  if (as_json) {
    out << json{{"job", job}, {"started", true}}.dump(2) << "\n";
  } else {
    out << "job " << job << " started\n";
  }
}

void print_pause_state(const json& status, bool as_json, std::ostream& out) {
  if (as_json) {
    out << json{{"paused", status.at("paused")}, {"paused_until", status.at("paused_until")}}.dump(
               2)
        << "\n";
  } else if (!status.value("paused", false)) {
    out << "maintenance resumed\n";
  } else if (auto until = str(status, "paused_until"); !until.empty()) {
    out << "maintenance paused until " << until << " (`etcd-warden ctl resume` ends it sooner)\n";
  } else {
    out << "maintenance paused until `etcd-warden ctl resume`\n";
  }
}

}  // namespace etcd_warden::control::detail
