#include "etcd_warden/tuning/rule.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace etcd_warden::tuning {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::ok:
      return "ok";
    case Verdict::warn:
      return "warn";
    case Verdict::critical:
      return "critical";
  }
  return "unknown";
}

std::string_view to_string(RowStatus s) {
  switch (s) {
    case RowStatus::pass:
      return "PASS";
    case RowStatus::warn:
      return "WARN";
    case RowStatus::fail:
      return "FAIL";
    case RowStatus::info:
      return "INFO";
  }
  return "?";
}

std::string format_seconds(double seconds) {
  char buf[32];
  if (seconds >= 1) {
    std::snprintf(buf, sizeof buf, "%.2fs", seconds);
  } else if (seconds >= 0.01) {
    std::snprintf(buf, sizeof buf, "%.0fms", seconds * 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.2fms", seconds * 1e3);
  }
  return buf;
}

std::string format_millis(Millis ms) {
  const auto n = ms.count();
  if (n < 1000 || n % 100 != 0) return std::to_string(n) + "ms";
  if (n % 1000 == 0) return std::to_string(n / 1000) + "s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(n) / 1000.0);
  return buf;
}

namespace {

double seconds(Millis ms) {
  return static_cast<double>(ms.count()) / 1000.0;
}

Millis round_up(double secs, Millis step) {
  const double steps = std::ceil(secs * 1000.0 / static_cast<double>(step.count()) - 1e-9);
  return Millis(static_cast<Millis::rep>(std::max(steps, 0.0)) * step.count());
}

struct Worst {
  double value = 0;
  std::string what;
};

// The probe's p99 is exact and enters as measured; etcd's p99s are
// estimates that the histogram's buckets and _sum bound (histogram.cpp). A
// non-finite figure is no measurement (never "fast"): with nothing else
// measured, the rule warns that it measured nothing.
std::optional<Worst> worst_latency(const Measurements& m) {
  std::optional<Worst> w;
  auto consider = [&](const std::optional<double>& v, const char* what) {
    if (v && std::isfinite(*v) && (!w || *v > w->value)) w = Worst{*v, what};
  };
  consider(m.probe_fsync_p99, "fsync probe p99");
  consider(m.wal_fsync_p99, "WAL fsync p99");
  consider(m.peer_rtt_p99, "peer RTT p99");
  return w;
}

void worsen(Verdict& v, Verdict to) {
  v = std::max(v, to);
}

// Rows that show a measurement against etcd's hardware guidance (etcd docs,
// "Hardware recommendations" and "FAQ": WAL fsync p99 under 10ms, backend
// commit p99 under 25ms).
void guidance_rows(const Measurements& m, std::vector<Row>& rows) {
  auto row = [&](const char* check, const std::optional<double>& v, double limit,
                 const char* over) {
    if (!v) return;
    if (!std::isfinite(*v) || *v < 0) {
      rows.push_back(
          {check, RowStatus::info, "not a number", "etcd's histogram gave no usable figure"});
      return;
    }
    const bool ok = *v <= limit;
    rows.push_back({check, ok ? RowStatus::pass : RowStatus::info,
                    format_seconds(*v) + (ok ? " <= " : " > ") + format_seconds(limit),
                    ok ? "" : over});
  };
  row("fsync probe p99 (data-dir filesystem)", m.probe_fsync_p99, 0.010,
      "above etcd's 10ms guidance: a faster disk helps more than any timeout");
  row("WAL fsync p99 (etcd)", m.wal_fsync_p99, 0.010,
      "above etcd's 10ms guidance: a faster disk helps more than any timeout");
  row("backend commit p99 (etcd)", m.backend_commit_p99, 0.025,
      "above etcd's 25ms guidance: writes and compaction will be slow");
  if (m.peer_rtt_p99 && std::isfinite(*m.peer_rtt_p99)) {
    rows.push_back(
        {"peer RTT p99 (etcd, worst peer)", RowStatus::pass, format_seconds(*m.peer_rtt_p99), ""});
  }
  if (m.has_leader && !*m.has_leader) {
    rows.push_back({"member has a leader", RowStatus::info, "no",
                    "no leader right now: see the latency rows for a cause"});
  }
  if (m.leader_changes && *m.leader_changes > 0) {
    rows.push_back({"leader changes in the interval", RowStatus::info,
                    std::to_string(static_cast<long long>(*m.leader_changes)),
                    "restarts and defrag hand-offs change leaders too; repeated ones with high "
                    "latency mean the timeouts are too short"});
  }
  if (m.failed_proposals && *m.failed_proposals > 0) {
    rows.push_back({"failed proposals in the interval", RowStatus::info,
                    std::to_string(static_cast<long long>(*m.failed_proposals)),
                    "usually leader elections or a lost quorum"});
  }
}

}  // namespace

Advice assess(Millis heartbeat, Millis election, const Measurements& m, const RuleParams& p) {
  Advice a;
  a.heartbeat = heartbeat;
  a.election = election;
  const auto worst = worst_latency(m);

  // The recommendation.
  a.recommended_heartbeat = p.min_heartbeat;
  if (worst) {
    a.worst = worst->value;
    a.worst_what = worst->what;
    a.recommended_heartbeat = std::max(p.min_heartbeat, round_up(p.margin * worst->value, p.step));
  }
  const Millis max_heartbeat = p.max_election / p.election_factor;
  const bool coverable = a.recommended_heartbeat <= max_heartbeat;
  a.recommended_heartbeat = std::min(a.recommended_heartbeat, max_heartbeat);
  a.recommended_election =
      std::clamp(a.recommended_heartbeat * p.election_factor, p.min_election, p.max_election);

  // etcd's own limits: a running etcd never has these, so seeing them means
  // the discovered values are not what etcd runs with, or etcd will not start.
  if (election < heartbeat * p.etcd_min_factor) {
    a.rows.push_back({"election >= 5 x heartbeat (etcd refuses less)", RowStatus::fail,
                      format_millis(election) + " < 5 x " + format_millis(heartbeat),
                      "etcd will not start with these values"});
    worsen(a.verdict, Verdict::critical);
  }
  if (election > p.max_election) {
    a.rows.push_back({"election <= 50s (etcd refuses more)", RowStatus::fail,
                      format_millis(election), "etcd will not start with this value"});
    worsen(a.verdict, Verdict::critical);
  }

  if (!worst) {
    a.rows.push_back({"heartbeat covers disk and network latency", RowStatus::warn, "not measured",
                      "no probe and no etcd metrics: set etcd.metrics_url or tuning.probe"});
    worsen(a.verdict, Verdict::warn);
  } else {
    const std::string versus =
        format_millis(heartbeat) + " vs " + worst->what + " " + format_seconds(worst->value);
    if (!coverable) {
      a.rows.push_back({"latency can be covered at all", RowStatus::fail,
                        worst->what + " " + format_seconds(worst->value),
                        "it needs a heartbeat above " + format_millis(max_heartbeat) +
                            ": fix the disk or network, no timeout will do"});
      worsen(a.verdict, Verdict::critical);
    }
    if (worst->value >= seconds(election) / 2) {
      a.rows.push_back({"latency below half the election timeout", RowStatus::fail,
                        worst->what + " " + format_seconds(worst->value) +
                            " >= " + format_millis(election) + " / 2",
                        "followers lose the leader: elections, failed writes"});
      worsen(a.verdict, Verdict::critical);
    }
    if (seconds(heartbeat) < p.margin * worst->value) {
      a.rows.push_back({"heartbeat covers disk and network latency", RowStatus::warn, versus,
                        "heartbeats arrive late under load: raise the heartbeat"});
      worsen(a.verdict, Verdict::warn);
    } else {
      a.rows.push_back({"heartbeat covers disk and network latency", RowStatus::pass, versus, ""});
    }
  }

  if (election < heartbeat * p.election_factor && election >= heartbeat * p.etcd_min_factor) {
    a.rows.push_back({"election >= 10 x heartbeat", RowStatus::warn,
                      format_millis(election) + " < 10 x " + format_millis(heartbeat),
                      "a few late heartbeats start an election"});
    worsen(a.verdict, Verdict::warn);
  } else if (election >= heartbeat * p.election_factor) {
    a.rows.push_back({"election >= 10 x heartbeat", RowStatus::pass,
                      format_millis(election) + " >= 10 x " + format_millis(heartbeat), ""});
  }

  const double slow = std::max(p.conservative_factor * seconds(a.recommended_election),
                               seconds(a.recommended_election + p.conservative_slack));
  if (worst && seconds(election) > slow) {
    a.rows.push_back({"failover time not longer than needed", RowStatus::warn,
                      format_millis(election) + " vs " + format_millis(a.recommended_election),
                      "a lost leader is noticed only after " + format_millis(election) + "; " +
                          format_millis(a.recommended_election) + " would do"});
    worsen(a.verdict, Verdict::warn);
  }

  guidance_rows(m, a.rows);

  // The one line.
  a.summary = std::string(to_string(a.verdict)) + " heartbeat=" + format_millis(heartbeat) +
              " election=" + format_millis(election);
  if (worst) a.summary += " " + worst->what + "=" + format_seconds(worst->value);
  if (a.verdict != Verdict::ok &&
      (a.recommended_heartbeat != heartbeat || a.recommended_election != election)) {
    a.summary += " recommended=" + format_millis(a.recommended_heartbeat) + "/" +
                 format_millis(a.recommended_election);
  }
  return a;
}

}  // namespace etcd_warden::tuning
