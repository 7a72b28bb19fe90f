#include "etcd_warden/control/status_json.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "etcd_warden/snapshot/sidecar.hpp"

namespace etcd_warden::control {

namespace {

// Keys in the order a person reads them (member before jobs), not sorted.
using json = nlohmann::ordered_json;
// Our JSON goes over D-Bus, which takes valid UTF-8 only; file names and
// etcd's answers may hold any byte. Dumped with error_handler_t::replace: an
// invalid byte becomes U+FFFD instead of an exception.

double seconds_between(sched::WallTime from, sched::WallTime to) {
  return std::chrono::duration<double>(to - from).count();
}

json time_or_null(const std::optional<sched::WallTime>& t) {
  return t ? json(snapshot::format_rfc3339(*t)) : json(nullptr);
}

json string_or_null(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

const char* quota_source(status::QuotaSource s) {
  switch (s) {
    case status::QuotaSource::config:
      return "config";
    case status::QuotaSource::etcd_status:
      return "etcd_status";
    case status::QuotaSource::etcd_metrics:
      return "etcd_metrics";
    case status::QuotaSource::none:
      break;
  }
  return nullptr;
}

json member_json(const status::MemberStatus& m) {
  json alarms = json::array();
  for (const auto& a : m.alarms)
    alarms.push_back({{"member_id", hex_id(a.member_id)}, {"type", a.type}});
  const char* source = quota_source(m.quota_source);
  return {
      {"polled", m.polled},
      {"up", m.up},
      {"error", string_or_null(m.error)},
      {"down_since", time_or_null(m.down_since)},
      {"endpoint", m.endpoint},
      {"name", m.name},
      {"id", m.member_id != 0 ? json(hex_id(m.member_id)) : json(nullptr)},
      {"cluster_id", m.cluster_id != 0 ? json(hex_id(m.cluster_id)) : json(nullptr)},
      {"leader_id", m.leader_id != 0 ? json(hex_id(m.leader_id)) : json(nullptr)},
      {"is_leader", m.is_leader()},
      {"has_leader", m.has_leader()},
      {"is_learner", m.is_learner},
      {"version", m.version},
      {"db_size_bytes", m.db_size.value},
      {"db_in_use_bytes", m.db_in_use.value},
      {"quota_bytes", m.quota ? json(m.quota->value) : json(nullptr)},
      {"quota_source", source ? json(source) : json(nullptr)},
      {"revision", m.revision},
      {"raft_index", m.raft_index},
      {"raft_term", m.raft_term},
      {"member_count", m.member_count},
      {"alarms", std::move(alarms)},
  };
}

json job_json(const JobView& view, const status::JobRecord* record, sched::WallTime now) {
  json j = {
      {"name", view.name},
      {"enabled", view.enabled},
      {"running", view.running},
      {"next_run_in_seconds",
       view.next_in ? json(std::chrono::duration<double>(*view.next_in).count()) : json(nullptr)},
      {"last_result", nullptr},
      {"summary", nullptr},
      {"finished_at", nullptr},
      {"age_seconds", nullptr},
      {"duration_seconds", nullptr},
      {"last_success_at", nullptr},
      {"consecutive_failures", 0},
  };
  if (record != nullptr && record->finished_at != sched::WallTime{}) {
    j["last_result"] = std::string(sched::to_string(record->outcome));
    j["summary"] = record->summary;
    j["finished_at"] = snapshot::format_rfc3339(record->finished_at);
    j["age_seconds"] = seconds_between(record->finished_at, now);
    j["duration_seconds"] = record->seconds;
    j["last_success_at"] = time_or_null(record->last_success);
    j["consecutive_failures"] = record->consecutive_failures;
  }
  return j;
}

}  // namespace

std::string health(const status::StatusBoard& board) {
  if (!board.member.polled) return "starting";
  if (!board.member.up) return "degraded";
  if (!board.member.alarms.empty()) return "alarm";
  // Running, but not on the config file as it is now: a refused reload.
  if (!board.config_problem.empty()) return "config_rejected";
  return "ok";
}

std::string status_json(const status::StatusBoard& board, const std::vector<JobView>& jobs,
                        sched::WallTime now, const std::string& version) {
  json job_list = json::array();
  for (const auto& view : jobs) {
    auto it = board.jobs.find(view.name);
    job_list.push_back(job_json(view, it == board.jobs.end() ? nullptr : &it->second, now));
  }
  // Jobs on the board that the scheduler no longer has (renamed by an upgrade) are left out.
  json out = {
      {"version", version},
      {"health", health(board)},
      {"status_line", status::format_status_line(board, now)},
      {"member", member_json(board.member)},
      {"jobs", std::move(job_list)},
      {"paused", board.paused},
      {"paused_until", board.paused ? time_or_null(board.paused_until) : json(nullptr)},
      {"paused_remaining_seconds",
       board.paused && board.paused_until
           ? json(std::max(0.0, seconds_between(now, *board.paused_until)))
           : json(nullptr)},
      {"config_problem", string_or_null(board.config_problem)},
      {"tuning_alert", string_or_null(board.tuning_alert)},
      {"tuning_settings", string_or_null(board.tuning_settings)},
      {"certificate_alert", string_or_null(board.certificate_alert)},
      {"consistency_alert", string_or_null(board.consistency_alert)},
      {"activity", string_or_null(board.activity)},
  };
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string snapshots_json(const std::vector<snapshot::SnapshotEntry>& entries,
                           sched::WallTime now) {
  json out = json::array();
  for (const auto& e : entries) {
    out.push_back({
        {"file", e.path.filename().string()},
        {"path", e.path.string()},
        {"member", e.name.member},
        {"revision", e.name.revision},
        {"taken_at", snapshot::format_rfc3339(e.name.taken)},
        {"age_seconds", seconds_between(e.name.taken, now)},
        {"file_bytes", e.file_bytes.value},
        {"compression", e.name.compression == config::Compression::zstd ? "zstd" : "none"},
        {"verified", e.verified()},
        {"problem", string_or_null(e.problem)},
        {"sha256", e.info ? json(e.info->sha256) : json(nullptr)},
    });
  }
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace etcd_warden::control
