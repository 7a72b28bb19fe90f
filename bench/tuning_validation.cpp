// Holds the tuning rule against a real 3-member cluster whose disks are
// slowed: every member runs under strace, which delays the return of each
// fsync/fdatasync by D (what a slow or saturated disk does to etcd). For
// each delay, first with etcd's defaults (100ms/1000ms), then with what
// `etcd-warden job tuning` recommended from that first cluster's own metrics:
//   - is a leader elected, and how long after start;
//   - a writer on all endpoints for --observe seconds: writes that succeed,
//     their p99, and leader elections meanwhile;
//   - failover: SIGKILL the leader, time until another member leads and a
//     write succeeds (a too-conservative election timeout shows up here);
//   - the warden's verdict and recommendation for that cluster, and the WAL
//     fsync p99 it read from etcd's histogram (placed in its bucket with
//     _sum: a constant delay should read as itself, not ~2x).
//   bench_tuning_validation [--delays-ms 0,50,200,500,1000,1040,2000] [--observe-s 30]
//                           [--show-warden] [--settings HB/EL]
// The table goes into docs/tuning.md. A recommendation that leaves the
// cluster without a leader, or whose failover takes minutes, is a bug.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "etcd_warden/net/prom_text.hpp"
#include "support/etcd_cluster.hpp"
#include "support/etcd_log.hpp"
#include "support/etcd_writer.hpp"
#include "support/http_get.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::vector<int> delays_ms{0, 50, 200, 500, 1000, 1040, 2000};
  int observe_s = 30;
  bool show_warden = false;  // --show-warden: print each `job tuning` report on stderr
  // --settings HB/EL: measure only these settings at each delay (no defaults
  // run, no recommendation run), e.g. to repeat a row or try the seed's own.
  std::optional<std::pair<int, int>> settings;
};

struct Settings {
  int heartbeat_ms = 100;
  int election_ms = 1000;
};

struct WardenView {
  std::string verdict = "?";
  std::optional<Settings> recommended;
  std::string wal_p99 = "?";  // "1.04s", as `job tuning` prints it
};

struct Run {
  int delay_ms = 0;
  std::string label;
  Settings settings;
  std::optional<double> leader_after_s;
  int leader_wait_s = 60;
  std::size_t writes = 0, writes_ok = 0;
  double write_p99_ms = 0;
  std::size_t elections = 0;
  std::optional<double> failover_s;
  bool write_after_failover = false;
  WardenView warden;
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<std::string> strace_wrapper(int delay_ms) {
  if (delay_ms <= 0) return {};
  // --seccomp-bpf: only the traced syscalls stop the process; everything
  // else runs at full speed, so the delay is the only slowdown.
  return {"strace", "--seccomp-bpf",
          "-f",     "-qq",
          "-o",     "/dev/null",
          "-e",     "trace=fdatasync,fsync",
          "-e",     "inject=fdatasync,fsync:delay_exit=" + std::to_string(delay_ms * 1000)};
}

// `etcd-warden job tuning` beside member 0: its verdict and recommendation.
WardenView ask_warden(const EtcdCluster& cluster, const Settings& current, bool show) {
  TempDir dir("etcd-warden-tuning-bench");
  const auto config = dir.path() / "config.yaml";
  write_file(config, etcd_config_yaml(cluster, 0) +
                         "  request_timeout: 5s\n"
                         "metrics: {listen: \"127.0.0.1:0\"}\n"
                         "compaction: {enabled: false}\n"
                         "defrag: {enabled: false}\n"
                         "snapshot: {enabled: false}\n"
                         "tuning: {probe_max_time: 1s}\n");
  const auto r = run_cli({"job", "tuning", "-c", config.string()}, 60s);
  WardenView view;
  std::smatch m;
  if (std::regex_search(r.output, m, std::regex("verdict: ([A-Z]+)"))) view.verdict = m[1];
  if (std::regex_search(r.output, m, std::regex("WAL fsync p99 \\(etcd\\) +([0-9.]+m?s)")))
    view.wal_p99 = m[1];
  if (std::regex_search(r.output, m,
                        std::regex("--heartbeat-interval=(\\d+) --election-timeout=(\\d+)"))) {
    view.recommended = Settings{std::stoi(m[1]), std::stoi(m[2])};
  } else if (view.verdict != "?") {
    view.recommended = current;  // nothing to change
  }
  if (show || view.verdict == "?") std::cerr << "job tuning said:\n" << r.output << "\n";
  if (show) {
    // etcd's own WAL fsync histogram (lifetime) of member 0, as the warden read it.
    const auto body = http_get("127.0.0.1", cluster.member(0).metrics_port, "/metrics", 2s);
    std::istringstream lines(body.value_or(""));
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("etcd_disk_wal_fsync_duration_seconds")) std::cerr << line << "\n";
    }
  }
  return view;
}

// etcd_server_leader_changes_seen_total of member i when it has a leader.
std::optional<double> leader_changes(const EtcdCluster& cluster, std::size_t i) {
  const auto body = http_get("127.0.0.1", cluster.member(i).metrics_port, "/metrics", 1s);
  if (!body) return std::nullopt;
  const auto metrics = etcd_warden::net::parse_prometheus_text(*body);
  const auto has_leader = metrics.value("etcd_server_has_leader");
  if (!has_leader || *has_leader < 1) return std::nullopt;
  return metrics.value("etcd_server_leader_changes_seen_total");
}

std::size_t elections_since(const EtcdCluster& cluster, LogTime since) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    for (auto t : leader_elections(cluster.member_log(i))) n += t >= since;
  }
  return n;
}

Run measure(int delay_ms, const std::string& label, Settings s, const Options& o) {
  Run run{delay_ms, label, s};
  EtcdClusterOptions co;
  co.members = 3;
  co.wrapper = strace_wrapper(delay_ms);
  co.wait_healthy = false;
  co.extra_flags = {"--heartbeat-interval=" + std::to_string(s.heartbeat_ms),
                    "--election-timeout=" + std::to_string(s.election_ms)};
  // A first election takes up to about two election timeouts (etcd's
  // randomized timeout is in [1, 2) x election), and every vote is an fsync:
  // at 2s per sync and a 30s election timeout, 60s can be too short to see
  // the leader the recommendation does elect.
  run.leader_wait_s = std::max(60, 3 * s.election_ms / 1000);
  const auto t0 = Clock::now();
  EtcdCluster cluster(co);
  const int leader = cluster.wait_for_leader(std::chrono::seconds(run.leader_wait_s));
  if (leader >= 0) run.leader_after_s = seconds_since(t0);

  // Writes with a deadline far above any delay here: what fails, fails
  // because the cluster has no leader, not because a write was slow.
  const LogTime window_start = std::chrono::system_clock::now();
  {
    WriterOptions wo;
    wo.interval = 200ms;
    wo.deadline = 15s;
    EtcdWriter writer(cluster.endpoint_list(), wo);
    std::this_thread::sleep_for(std::chrono::seconds(o.observe_s));
    writer.stop();
    std::vector<std::chrono::microseconds> latencies;
    for (const auto& load : writer.results()) {
      for (const auto& sample : load.samples) {
        ++run.writes;
        if (sample.ok) {
          ++run.writes_ok;
          latencies.push_back(sample.latency);
        }
      }
    }
    if (!latencies.empty()) {
      std::sort(latencies.begin(), latencies.end());
      const auto idx = static_cast<std::size_t>(0.99 * static_cast<double>(latencies.size() - 1));
      run.write_p99_ms = static_cast<double>(latencies[idx].count()) / 1000.0;
    }
  }
  run.elections = elections_since(cluster, window_start);
  run.warden = ask_warden(cluster, s, o.show_warden);

  // Failover: the leader dies; how long until another member leads (then a
  // write must go through). Polled every 50 ms: the figure is +-0.05 s.
  const int old_leader = cluster.leader_index();
  if (old_leader >= 0) {
    const auto killed_at = Clock::now();
    cluster.kill_member(static_cast<std::size_t>(old_leader));
    const std::size_t other = old_leader == 0 ? 1 : 0;
    // etcd's own view on a survivor: a new leader is one more leader change
    // while it has a leader. /metrics answers at once, even without a leader.
    const auto changes_before = leader_changes(cluster, other);
    const bool led = changes_before && wait_until(
                                           [&] {
                                             const auto now = leader_changes(cluster, other);
                                             return now && *now > *changes_before;
                                           },
                                           180s, 50ms);
    if (led) run.failover_s = seconds_since(killed_at);
    run.write_after_failover =
        led && cluster.etcdctl_on(other, {"put", "--command-timeout=60s", "/failover", "x"}, 70s)
                       .exit_code == 0;
  }
  return run;
}

std::string fmt(const std::optional<double>& v, const char* missing) {
  if (!v) return missing;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", *v);
  return buf;
}

void print(const std::vector<Run>& runs) {
  std::printf(
      "\n| fsync delay | settings | heartbeat / election | leader after s | writes ok | "
      "write p99 ms | elections while writing | failover s | warden reads WAL p99 | warden "
      "verdict | warden recommends |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : runs) {
    std::string rec = "?";
    if (r.warden.recommended) {
      rec = std::to_string(r.warden.recommended->heartbeat_ms) + " / " +
            std::to_string(r.warden.recommended->election_ms);
    }
    std::printf(
        "| %d ms | %s | %d / %d | %s | %zu / %zu | %.0f | %zu | %s | %s | %s | %s |\n", r.delay_ms,
        r.label.c_str(), r.settings.heartbeat_ms, r.settings.election_ms,
        fmt(r.leader_after_s, ("none in " + std::to_string(r.leader_wait_s) + " s").c_str())
            .c_str(),
        r.writes_ok, r.writes, r.write_p99_ms, r.elections,
        (fmt(r.failover_s, "none in 180 s") + (r.write_after_failover ? "" : ", no write")).c_str(),
        r.warden.wal_p99.c_str(), r.warden.verdict.c_str(), rec.c_str());
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--show-warden") {
      o.show_warden = true;
      continue;
    }
    if (i + 1 >= argc) break;
    const std::string value = argv[++i];
    if (a == "--observe-s") o.observe_s = std::stoi(value);
    if (a == "--settings") {
      const auto slash = value.find('/');
      o.settings = {std::stoi(value.substr(0, slash)), std::stoi(value.substr(slash + 1))};
    }
    if (a == "--delays-ms") {
      o.delays_ms.clear();
      std::stringstream in(value);
      for (std::string item; std::getline(in, item, ',');) o.delays_ms.push_back(std::stoi(item));
    }
  }
  std::printf(
      "tuning validation: 3 members under strace, fsync delayed; writer every 200 ms on "
      "each endpoint for %d s\n",
      o.observe_s);
  std::vector<Run> runs;
  for (const int d : o.delays_ms) {
    if (o.settings) {
      std::fprintf(stderr, "delay %d ms, given %d/%d...\n", d, o.settings->first,
                   o.settings->second);
      runs.push_back(measure(d, "given", Settings{o.settings->first, o.settings->second}, o));
      print(runs);
      continue;
    }
    std::fprintf(stderr, "delay %d ms, etcd defaults...\n", d);
    const Run defaults = measure(d, "etcd defaults", Settings{}, o);
    runs.push_back(defaults);
    if (defaults.warden.recommended) {
      const Settings rec = *defaults.warden.recommended;
      if (rec.heartbeat_ms != 100 || rec.election_ms != 1000) {
        std::fprintf(stderr, "delay %d ms, recommended %d/%d...\n", d, rec.heartbeat_ms,
                     rec.election_ms);
        runs.push_back(measure(d, "recommended", rec, o));
      }
    }
    print(runs);
  }
  return 0;
}
