#include "etcd_warden/jobs/tuning_job.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <variant>

#include "etcd_warden/net/metrics_scrape.hpp"
#include "etcd_warden/status/status_board.hpp"
#include "etcd_warden/util/offload.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::jobs {

namespace {

tuning::Measurements measurements(const TuningReport& r) {
  tuning::Measurements m;
  if (r.probe && r.probe->ok()) m.probe_fsync_p99 = r.probe->p99;
  if (r.etcd) {
    m.wal_fsync_p99 = r.etcd->wal_fsync_p99;
    m.backend_commit_p99 = r.etcd->backend_commit_p99;
    m.peer_rtt_p99 = r.etcd->peer_rtt_p99;
    m.leader_changes = r.etcd->leader_changes;
    m.failed_proposals = r.etcd->failed_proposals;
    m.has_leader = r.etcd->has_leader;
  }
  return m;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The first row that is not a pass: the reason in one phrase.
std::string first_problem(const tuning::Advice& a) {
  for (const auto& row : a.rows) {
    if (row.status == tuning::RowStatus::fail) return row.check + ": " + row.measured;
  }
  for (const auto& row : a.rows) {
    if (row.status == tuning::RowStatus::warn) return row.check + ": " + row.measured;
  }
  return "";
}

// One GET of etcd's /metrics, read into the figures the rule uses, or why not.
Task<util::Result<tuning::EtcdScrape>> scrape_etcd(std::string url, const config::Etcd& etcd,
                                                   asio::thread_pool& pool) {
  auto scrape =
      net::scrape_metrics(std::move(url), etcd.request_timeout, etcd.tls, pool,
                          [](const net::ParsedMetrics& m) { return tuning::read_etcd_scrape(m); });
  co_return co_await std::move(scrape);
}

}  // namespace

Task<sched::JobResult> TuningJob::run() {
  auto config = context_.config;
  const auto& cfg = *config;
  TuningReport report;

  auto find = offload(*context_.blocking, context_.executor,
                      [config] { return tuning::discover(*config); });
  report.discovered = co_await std::move(find);

  // etcd's metrics before and after the probe: the first run (no previous
  // scrape) still has an interval, and the probe's own syncs are not in it
  // (they go to another file, etcd never sees them).
  report.metrics_url = cfg.etcd.local_metrics_url();
  std::optional<tuning::EtcdScrape> first;
  if (!report.metrics_url.empty() && !previous_scrape_) {
    auto scrape = scrape_etcd(report.metrics_url, cfg.etcd, *context_.blocking);
    auto scraped = co_await std::move(scrape);
    if (scraped) first = *scraped;
  }

  if (cfg.tuning.probe) {
    tuning::ProbeOptions po;
    po.dir = cfg.tuning.probe_dir.empty() ? cfg.etcd.data_dir : cfg.tuning.probe_dir;
    po.max_syncs = cfg.tuning.probe_max_syncs;
    po.max_time = cfg.tuning.probe_max_time;
    report.probe_dir = po.dir.string();
    auto probe =
        offload(*context_.blocking, context_.executor, [po] { return tuning::probe_fsync(po); });
    report.probe = co_await std::move(probe);
  }

  if (!report.metrics_url.empty()) {
    auto scrape = scrape_etcd(report.metrics_url, cfg.etcd, *context_.blocking);
    auto scraped = co_await std::move(scrape);
    if (scraped) {
      const auto now = *scraped;
      const auto& before = previous_scrape_ ? previous_scrape_ : first;
      // The probe's exact figures help place etcd's WAL fsync p99 in its bucket.
      std::optional<tuning::ExactFigures> probe;
      if (report.probe && report.probe->ok())
        probe = tuning::ExactFigures{report.probe->p50, report.probe->p99};
      report.etcd = tuning::measure_interval(before, now, probe);
      const auto wall = context_.clock.wall_now();
      if (report.etcd->since_start) {
        report.window = "since etcd started (too few syncs since the last look)";
      } else if (previous_scrape_at_) {
        report.window =
            "over the last " + status::format_age(std::chrono::duration_cast<std::chrono::seconds>(
                                   wall - *previous_scrape_at_));
      } else {
        report.window = "over the probe's few seconds";
      }
      previous_scrape_ = now;
      previous_scrape_at_ = wall;
    } else {
      report.metrics_error = scraped.error();
    }
  }

  report.advice = tuning::assess(report.discovered.heartbeat.value,
                                 report.discovered.election.value, measurements(report));
  publish(report);
  last_ = std::move(report);
  const auto& r = *last_;

  const bool probe_ok = r.probe && r.probe->ok();
  if (!probe_ok && !r.etcd) {
    std::string why;
    if (r.probe) why += r.probe->error;
    if (!r.metrics_error.empty()) why += (why.empty() ? "" : "; ") + r.metrics_error;
    if (why.empty()) {
      co_return sched::JobResult::skipped(
          "nothing to measure: the probe is off and etcd's metrics URL is unknown "
          "(set etcd.metrics_url)");
    }
    co_return sched::JobResult::failure("no latency measured: " + why);
  }
  co_return sched::JobResult::success(r.advice.summary);
}

void TuningJob::publish(const TuningReport& r) {
  using metrics::WardenMetrics;
  auto& m = context_.metrics;
  const auto& a = r.advice;
  auto secs = [](tuning::Millis ms) { return static_cast<double>(ms.count()) / 1000.0; };
  WardenMetrics::set(m.tuning_heartbeat_seconds, secs(a.heartbeat), {{"kind", "current"}});
  WardenMetrics::set(m.tuning_heartbeat_seconds, secs(a.recommended_heartbeat),
                     {{"kind", "recommended"}});
  WardenMetrics::set(m.tuning_election_timeout_seconds, secs(a.election), {{"kind", "current"}});
  WardenMetrics::set(m.tuning_election_timeout_seconds, secs(a.recommended_election),
                     {{"kind", "recommended"}});
  WardenMetrics::set(m.tuning_verdict, static_cast<double>(a.verdict));
  if (r.probe && r.probe->ok()) {
    WardenMetrics::set(m.disk_fsync_p99_seconds, r.probe->p99, {{"source", "probe"}});
  }
  if (r.etcd && r.etcd->wal_fsync_p99) {
    WardenMetrics::set(m.disk_fsync_p99_seconds, *r.etcd->wal_fsync_p99, {{"source", "etcd"}});
  }
  if (r.etcd && r.etcd->peer_rtt_p99)
    WardenMetrics::set(m.peer_rtt_p99_seconds, *r.etcd->peer_rtt_p99);

  // One log line when the verdict changes (and the first one), not every run.
  if (last_verdict_ != a.verdict) {
    const auto level = a.verdict == tuning::Verdict::ok     ? spdlog::level::info
                       : a.verdict == tuning::Verdict::warn ? spdlog::level::warn
                                                            : spdlog::level::err;
    spdlog::log(level, "tuning verdict {}{}: heartbeat {} ({}), election {} ({}){}{}",
                last_verdict_ ? std::string(tuning::to_string(*last_verdict_)) + " -> " : "",
                tuning::to_string(a.verdict), tuning::format_millis(a.heartbeat),
                r.discovered.heartbeat.source, tuning::format_millis(a.election),
                r.discovered.election.source,
                a.worst ? "; " + a.worst_what + " " + tuning::format_seconds(*a.worst) : "",
                a.verdict == tuning::Verdict::ok
                    ? ""
                    : "; " + first_problem(a) + "; recommended --heartbeat-interval=" +
                          std::to_string(a.recommended_heartbeat.count()) +
                          " --election-timeout=" + std::to_string(a.recommended_election.count()));
    last_verdict_ = a.verdict;
  }
  if (r.discovered.notes != last_notes_) {
    for (const auto& note : r.discovered.notes) spdlog::info("tuning discovery: {}", note);
    last_notes_ = r.discovered.notes;
  }
  if (r.probe && !r.probe->ok()) spdlog::warn("tuning: {}", r.probe->error);

  auto& board = context_.board;
  board.tuning_settings = "heartbeat " + tuning::format_millis(a.heartbeat) + " (" +
                          r.discovered.heartbeat.source + "), election " +
                          tuning::format_millis(a.election) + " (" + r.discovered.election.source +
                          ")";
  if (a.verdict == tuning::Verdict::ok) {
    board.tuning_alert.clear();
  } else {
    board.tuning_alert = "TUNING " + upper(tuning::to_string(a.verdict)) + ": " + first_problem(a) +
                         ", recommended heartbeat " +
                         tuning::format_millis(a.recommended_heartbeat) + " election " +
                         tuning::format_millis(a.recommended_election);
  }
}

void TuningJob::print_report(std::ostream& out) const {
  if (!last_) return;
  const auto& r = *last_;
  const auto& a = r.advice;
  char buf[512];
  auto line = [&](const char* key, const std::string& value) {
    std::snprintf(buf, sizeof buf, "%-19s %s\n", key, value.c_str());
    out << buf;
  };
  out << "\n";
  if (r.discovered.pid) line("etcd process", "pid " + std::to_string(*r.discovered.pid));
  line("heartbeat-interval", tuning::format_millis(r.discovered.heartbeat.value) + "  from " +
                                 r.discovered.heartbeat.source);
  line("election-timeout", tuning::format_millis(r.discovered.election.value) + "  from " +
                               r.discovered.election.source);
  if (r.probe) {
    const auto& p = *r.probe;
    if (p.ok()) {
      std::snprintf(buf, sizeof buf, "%zu syncs of 2300 B in %.2fs on %s: p50 %s, p99 %s, max %s",
                    p.syncs, p.seconds, r.probe_dir.c_str(), tuning::format_seconds(p.p50).c_str(),
                    tuning::format_seconds(p.p99).c_str(), tuning::format_seconds(p.max).c_str());
      line("fsync probe", buf);
    } else {
      line("fsync probe", "FAILED: " + p.error);
    }
  } else {
    line("fsync probe", "off (tuning.probe: false)");
  }
  if (r.metrics_url.empty()) {
    line("etcd metrics", "not read: set etcd.metrics_url");
  } else if (!r.etcd) {
    line("etcd metrics", "FAILED: " + r.metrics_error);
  } else {
    line("etcd metrics", r.metrics_url + ", p99 " + r.window);
  }

  out << "\n";
  std::snprintf(buf, sizeof buf, "%-6s %-44s %-34s %s\n", "STATUS", "CHECK", "MEASURED", "DETAIL");
  out << buf;
  for (const auto& row : a.rows) {
    std::snprintf(buf, sizeof buf, "%-6s %-44s %-34s %s\n",
                  std::string(tuning::to_string(row.status)).c_str(), row.check.c_str(),
                  row.measured.c_str(), row.detail.c_str());
    out << buf;
  }
  out << "\nverdict: " << upper(tuning::to_string(a.verdict)) << "\n";
  std::snprintf(buf, sizeof buf, "%-19s %-10s %s\n", "", "current", "recommended");
  out << buf;
  std::snprintf(buf, sizeof buf, "%-19s %-10s %s\n", "heartbeat-interval",
                tuning::format_millis(a.heartbeat).c_str(),
                tuning::format_millis(a.recommended_heartbeat).c_str());
  out << buf;
  std::snprintf(buf, sizeof buf, "%-19s %-10s %s\n", "election-timeout",
                tuning::format_millis(a.election).c_str(),
                tuning::format_millis(a.recommended_election).c_str());
  out << buf;
  if (a.recommended_heartbeat != a.heartbeat || a.recommended_election != a.election) {
    const auto hb = std::to_string(a.recommended_heartbeat.count());
    const auto el = std::to_string(a.recommended_election.count());
    out << "\nTo set it (the same on every member, then restart them one at a time):\n"
        << "  flags:        --heartbeat-interval=" << hb << " --election-timeout=" << el << "\n"
        << "  environment:  ETCD_HEARTBEAT_INTERVAL=" << hb << "\n"
        << "                ETCD_ELECTION_TIMEOUT=" << el << "\n"
        << "  config file:  heartbeat-interval: " << hb << "\n"
        << "                election-timeout: " << el << "\n";
  }
  if (!r.discovered.notes.empty()) {
    out << "\nnotes:\n";
    for (const auto& n : r.discovered.notes) out << "  - " << n << "\n";
  }
}

}  // namespace etcd_warden::jobs
