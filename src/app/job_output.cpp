#include "etcd_warden/app/job_output.hpp"
#include "etcd_warden/util/hex_id.hpp"

#include <cstdio>

namespace etcd_warden::app {

namespace {

const char* quota_source(status::QuotaSource s) {
  switch (s) {
    case status::QuotaSource::config:
      return "from config";
    case status::QuotaSource::etcd_status:
      return "from etcd Status";
    case status::QuotaSource::etcd_metrics:
      return "from etcd metrics";
    case status::QuotaSource::none:
      break;
  }
  return "unknown";
}

void row(std::ostream& out, const char* key, const std::string& value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%-10s ", key);
  out << buf << value << "\n";
}

}  // namespace

void print_member(const status::MemberStatus& m, std::ostream& out) {
  row(out, "endpoint", m.endpoint);
  if (!m.up) {
    row(out, "state", "DOWN: " + m.error);
    return;
  }
  std::string state = "up";
  if (m.is_learner) state += ", learner";
  state += m.is_leader()
               ? ", leader"
               : (m.has_leader() ? ", follower of " + hex_id(m.leader_id) : ", NO LEADER");
  row(out, "member",
      (m.name.empty() ? std::string("?") : m.name) + " (id " + hex_id(m.member_id) + ")");
  row(out, "state", state);
  row(out, "cluster", hex_id(m.cluster_id) + ", " + std::to_string(m.member_count) + " members");
  row(out, "version", m.version);
  std::string db = to_string(m.db_size) + ", " + to_string(m.db_in_use) + " in use";
  if (m.quota) db += ", quota " + to_string(*m.quota) + " (" + quota_source(m.quota_source) + ")";
  row(out, "db", db);
  row(out, "raft",
      "index " + std::to_string(m.raft_index) + ", term " + std::to_string(m.raft_term));
  row(out, "revision", std::to_string(m.revision));
  std::string alarms;
  for (const auto& a : m.alarms)
    alarms += (alarms.empty() ? "" : ", ") + a.type + " on " + hex_id(a.member_id);
  row(out, "alarms", alarms.empty() ? "none" : alarms);
}

int run_job_in_foreground(Runtime& runtime, const JobSpec& spec, std::ostream& out) {
  sched::JobResult result = sched::JobResult::failure("job did not finish");
  const JobSpec* certificates = runtime.jobs.find("certificates");
  asio::co_spawn(
      runtime.io,
      [&]() -> Task<void> {
        // The status job runs first for every job: jobs decide from the board.
        if (spec.name != "status") {
          auto poll = runtime.jobs.find(std::string("status"))->run();
          co_await std::move(poll);
        }
        auto op = spec.run();
        result = co_await std::move(op);
        // `job status` lists the certificates in use too.
        if (spec.name == "status" && certificates &&
            certificates->enabled(*runtime.context.config)) {
          auto check = certificates->run();
          co_await std::move(check);
        }
      },
      asio::detached);
  runtime.io.run();
  if (spec.name == "status") {
    print_member(runtime.board.member, out);
    if (certificates && certificates->report) certificates->report(out);
  }
  out << spec.name << ": " << sched::to_string(result.outcome);
  if (!result.summary.empty()) out << " (" << result.summary << ")";
  out << "\n";
  if (spec.report) spec.report(out);
  return result.outcome == sched::Outcome::failure ? 1 : 0;
}

}  // namespace etcd_warden::app
