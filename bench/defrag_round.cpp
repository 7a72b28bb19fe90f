// One defrag round of a 3-member cluster under client load, two ways:
// (a) `etcdctl defrag --cluster` (what operators run from cron), (b) one round
// of three etcd-warden daemons (one per member). Every phase gets a fresh
// cluster and the same fragmented data set, so neither inherits the other's
// history; rounds alternate which tool goes first. A writer sends Puts to all
// three endpoints throughout (30 s deadline, one retry of a write etcd
// dropped, see support/etcd_writer.hpp).
// Per endpoint: requests, failures, retries, max latency, and p99 latency
// before the round, while its own member was defragmented, and while another
// member was (etcd's log says when each defrag ran); leader elections; total
// time of the round; the gRPC calls each member served during the round
// besides the writer's Puts, and the CPU time of etcd and of the tool.
//   bench_defrag_round [--size-mb 500] [--free 0.5] [--value-kb 64] [--interval-ms 10]
//                      [--rounds 3] [--every 2s] [--slow-ms 0] [--show-logs 1] [--warden-first 1]
//                      [--disks shared|own]
// --disks own puts each member's data dir on an ext4 filesystem of its own
// (a loop device over an image in /var/tmp, see support/loop_filesystem.hpp;
// needs root), as on separate hosts; shared (the default) keeps all three on
// the filesystem of $TMPDIR.
// Targets: 0 failed requests; p99 <= 50 ms on members not being defragmented
// ("p99 others" in the summary); no election other than the planned hand-off.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "etcd_warden/net/prom_text.hpp"
#include "etcd_warden/tuning/histogram.hpp"
#include "support/etcd_cluster.hpp"
#include "support/etcd_data.hpp"
#include "support/etcd_log.hpp"
#include "support/etcd_writer.hpp"
#include "support/http_get.hpp"
#include "support/loop_filesystem.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::size_t size_mb = 500;
  double free_ratio = 0.5;
  std::size_t value_kb = 64;
  int interval_ms = 10;
  int rounds = 3;
  std::string every = "2s";   // the wardens' defrag.every
  int slow_ms = 0;            // also list requests this slow outside their own member's defrag
  bool show_logs = false;     // print the wardens' defrag log lines after round (b)
  bool warden_first = false;  // the first round runs (b) before (a); later rounds alternate
  bool own_disks = false;     // each member's data dir on a filesystem of its own
};

// The images behind the members' own filesystems: written once, a fresh
// ext4 on them for every phase.
struct DiskImages {
  std::optional<TempDir> dir;
  std::uint64_t bytes = 0;
  std::vector<std::filesystem::path> paths;
};

DiskImages disk_images(const Options& o) {
  DiskImages images;
  if (!o.own_disks) return images;
  // Room for the database, its WAL (every byte written is logged), the
  // defrag's copy of the in-use pages and the warden's margin.
  images.bytes = (4 * o.size_mb + 1024) << 20;
  images.dir.emplace("etcd-warden-bench-disks", "/var/tmp");
  for (int i = 1; i <= 3; ++i) {
    images.paths.push_back(*images.dir / ("m" + std::to_string(i) + ".img"));
  }
  return images;
}

using Calls = std::map<std::string, double>;  // gRPC method -> calls served

struct Phase {
  std::string name;
  std::vector<EndpointLoad> loads;
  std::vector<std::vector<LogInterval>> defrags;  // per member, within the phase
  std::size_t elections = 0;
  std::vector<LogTime> transfers;
  double seconds = 0;
  std::vector<std::uint64_t> db_before, db_after;
  LogTime round_start;
  std::vector<Calls> calls;      // per member, served during the round
  std::vector<double> etcd_cpu;  // per member, CPU seconds during the round
  // per member, etcd's WAL fsync p99 (ms) in the baseline and during the round
  std::vector<std::optional<double>> wal_before, wal_during;
  double tool_cpu = 0;  // etcdctl's, or the three wardens' CPU seconds
};

std::vector<LogInterval> after(const std::vector<LogInterval>& all, LogTime since) {
  std::vector<LogInterval> out;
  for (const auto& d : all) {
    if (d.start >= since) out.push_back(d);
  }
  return out;
}

bool inside(const std::vector<LogInterval>& defrags, const WriteSample& s) {
  const auto end = s.start + s.latency;
  for (const auto& d : defrags) {
    // A request overlapping the member's defrag at all counts as "during".
    if (s.start <= d.end.value_or(LogTime::max()) && end >= d.start) return true;
  }
  return false;
}

double ms(std::chrono::microseconds us) {
  return static_cast<double>(us.count()) / 1000.0;
}

double p99(std::vector<std::chrono::microseconds> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(0.99 * static_cast<double>(v.size()));
  return ms(v[std::min(v.size() - 1, rank)]);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<std::uint64_t> sizes(const EtcdCluster& cluster) {
  std::vector<std::uint64_t> out;
  for (const auto& s : cluster.status()) out.push_back(s ? s->db_size : 0);
  return out;
}

etcd_warden::net::ParsedMetrics scrape(const EtcdMember& m) {
  const auto body = http_get("127.0.0.1", m.metrics_port, "/metrics", 5s);
  return etcd_warden::net::parse_prometheus_text(body.value_or(""));
}

// grpc_server_handled_total of one member, summed over result codes.
Calls grpc_calls(const etcd_warden::net::ParsedMetrics& metrics) {
  Calls out;
  for (const auto& s : metrics.samples) {
    if (s.name != "grpc_server_handled_total") continue;
    const auto method = s.labels.find("grpc_method");
    if (method != s.labels.end()) out[method->second] += s.value;
  }
  return out;
}

// p99 of etcd's WAL fsync between two scrapes, in ms, placed in its bucket as
// the tuning check does (tuning/histogram.hpp: interpolation bounded by the
// interval's _sum; a latency that straddles a bucket edge still reads high).
std::optional<double> wal_fsync_p99(const etcd_warden::net::ParsedMetrics& before,
                                    const etcd_warden::net::ParsedMetrics& after) {
  using namespace etcd_warden::tuning;
  constexpr auto kWal = "etcd_disk_wal_fsync_duration_seconds";
  const auto q = worst_quantile(histograms(before, kWal), histograms(after, kWal), 0.99);
  if (!q) return std::nullopt;
  return q->value * 1000;
}

// utime + stime of a live process, from /proc/PID/stat.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto name_end = stat.rfind(')');
  if (name_end == std::string::npos) return 0;
  std::istringstream rest(stat.substr(name_end + 1));
  std::vector<std::string> fields;  // from field 3 (state) on
  for (std::string f; rest >> f;) fields.push_back(f);
  if (fields.size() < 13) return 0;
  const double ticks = std::stod(fields[11]) + std::stod(fields[12]);  // fields 14 and 15
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double children_cpu_seconds() {
  struct rusage ru {};
  ::getrusage(RUSAGE_CHILDREN, &ru);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

void fragment(const EtcdCluster& cluster, const Options& o) {
  const std::size_t value = o.value_kb * 1024;
  const std::size_t total = o.size_mb * 1024 * 1024 / value;
  const auto garbage = static_cast<std::size_t>(static_cast<double>(total) * o.free_ratio);
  const auto t0 = Clock::now();
  make_fragmented(cluster.member(0).client_url, total - garbage, garbage, value);
  // Followers compact in the background after the request returned: wait
  // until no member's in-use size moves any more, so that no phase starts
  // with a compaction still competing for the disk.
  std::vector<std::uint64_t> last;
  int stable = 0;
  wait_until(
      [&] {
        std::vector<std::uint64_t> now;
        for (const auto& st : cluster.status()) now.push_back(st ? st->db_size_in_use : 0);
        stable = now == last ? stable + 1 : 0;
        last = now;
        return stable >= 4;
      },
      300s, 500ms);
  // Nor with the writeback (and, with ext4's discard option, the discards)
  // of what the previous phase wrote and deleted.
  ::sync();
  std::fprintf(stderr, "data set ready in %.0fs\n",
               std::chrono::duration<double>(Clock::now() - t0).count());
}

// Runs `round` (which returns the tool's CPU seconds) under the writer's
// load, with a 5 s baseline before it and 2 s after.
Phase measure(EtcdCluster& cluster, const std::string& name, const Options& o,
              const std::function<double()>& round) {
  Phase phase;
  phase.name = name;
  phase.db_before = sizes(cluster);
  const LogTime since = std::chrono::system_clock::now();
  WriterOptions wo;
  wo.interval = std::chrono::milliseconds(o.interval_ms);
  // Longer than any defrag here: a request to the member being defragmented
  // waits for it rather than fail (clients such as kube-apiserver wait longer).
  wo.deadline = 30s;
  EtcdWriter writer(cluster.endpoint_list(), wo);
  using Scrapes = std::vector<etcd_warden::net::ParsedMetrics>;
  auto scrape_all = [&] {
    Scrapes out;
    for (std::size_t i = 0; i < cluster.size(); ++i) out.push_back(scrape(cluster.member(i)));
    return out;
  };
  const Scrapes at_start = scrape_all();
  std::this_thread::sleep_for(5s);  // a baseline before the round
  const Scrapes at_round = scrape_all();
  std::vector<double> cpu_before;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    cpu_before.push_back(cpu_seconds(cluster.member_process(i)->pid()));
  }
  phase.round_start = std::chrono::system_clock::now();
  const auto t0 = Clock::now();
  phase.tool_cpu = round();
  phase.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const Scrapes at_end = scrape_all();
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    Calls delta = grpc_calls(at_end[i]);
    const Calls before = grpc_calls(at_round[i]);
    for (auto& [method, n] : delta) {
      const auto was = before.find(method);
      if (was != before.end()) n -= was->second;
    }
    phase.calls.push_back(std::move(delta));
    phase.etcd_cpu.push_back(cpu_seconds(cluster.member_process(i)->pid()) - cpu_before[i]);
    phase.wal_before.push_back(wal_fsync_p99(at_start[i], at_round[i]));
    phase.wal_during.push_back(wal_fsync_p99(at_round[i], at_end[i]));
  }
  std::this_thread::sleep_for(2s);
  writer.stop();
  phase.loads = writer.results();
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    phase.defrags.push_back(after(defrag_intervals(cluster.member_log(i)), since));
    for (auto t : leader_elections(cluster.member_log(i))) phase.elections += t >= since;
    for (auto t : leader_transfers(cluster.member_log(i))) {
      if (t >= since) phase.transfers.push_back(t);
    }
  }
  phase.db_after = sizes(cluster);
  return phase;
}

using Latencies = std::vector<std::chrono::microseconds>;

// One endpoint's requests by when they ran: before the round, overlapping its
// own member's defrag, or overlapping another member's.
struct Split {
  Latencies before, own, others;
};

Split split(const Phase& p, std::size_t i) {
  Split out;
  for (const auto& s : p.loads[i].samples) {
    if (s.start + s.latency < p.round_start) {
      out.before.push_back(s.latency);
    } else if (inside(p.defrags[i], s)) {
      out.own.push_back(s.latency);
    } else {
      for (std::size_t j = 0; j < p.defrags.size(); ++j) {
        if (j != i && inside(p.defrags[j], s)) {
          out.others.push_back(s.latency);
          break;
        }
      }
    }
  }
  return out;
}

struct EndpointFigures {
  std::size_t requests = 0, failed = 0, retried = 0;
  double before = 0, own = 0, others = 0, worst = 0, defrag_s = 0;
};

EndpointFigures figures(const Phase& p, std::size_t i) {
  const auto& l = p.loads[i];
  EndpointFigures f;
  f.requests = l.samples.size();
  f.failed = l.failures();
  f.retried = l.retried();
  const Split parts = split(p, i);
  f.before = p99(parts.before);
  f.own = p99(parts.own);
  f.others = p99(parts.others);
  for (const auto& s : l.samples) f.worst = std::max(f.worst, ms(s.latency));
  for (const auto& d : p.defrags[i]) {
    if (d.end) f.defrag_s += std::chrono::duration<double>(*d.end - d.start).count();
  }
  return f;
}

// The whole phase at a glance. The target's figure is `others`: the p99 of
// every request served by a member while another member was defragmented,
// pooled over the endpoints (one endpoint's window is a few seconds, so its
// own p99 is close to its maximum).
struct PhaseFigures {
  std::size_t others_n = 0, failed = 0, retried = 0;
  double others = 0, worst_endpoint = 0, before = 0, worst = 0;
};

PhaseFigures phase_figures(const Phase& p) {
  PhaseFigures f;
  Latencies others, before;
  for (std::size_t i = 0; i < p.loads.size(); ++i) {
    const Split parts = split(p, i);
    others.insert(others.end(), parts.others.begin(), parts.others.end());
    before.insert(before.end(), parts.before.begin(), parts.before.end());
    const EndpointFigures e = figures(p, i);
    f.worst_endpoint = std::max(f.worst_endpoint, e.others);
    f.worst = std::max(f.worst, e.worst);
    f.failed += e.failed;
    f.retried += e.retried;
  }
  f.others_n = others.size();
  f.others = p99(others);
  f.before = p99(before);
  return f;
}

void print(const Phase& p, int slow_ms) {
  std::printf("\n%s: round %.1fs, leader elections %zu\n", p.name.c_str(), p.seconds, p.elections);
  std::printf(
      "| member | requests | failed | retried | p99 ms before | p99 ms own defrag | "
      "p99 ms others' defrag | max ms | defrag s | db before | db after |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (std::size_t i = 0; i < p.loads.size(); ++i) {
    const EndpointFigures f = figures(p, i);
    std::printf(
        "| m%zu | %zu | %zu | %zu | %.1f | %.1f | %.1f | %.0f | %.2f | %.0f MiB | %.0f MiB |\n",
        i + 1, f.requests, f.failed, f.retried, f.before, f.own, f.others, f.worst, f.defrag_s,
        static_cast<double>(p.db_before[i]) / 1048576.0,
        static_cast<double>(p.db_after[i]) / 1048576.0);
  }
  const PhaseFigures all = phase_figures(p);
  std::printf("all endpoints: p99 ms while another member was defragmented %.1f (%zu requests)\n",
              all.others, all.others_n);
  std::printf("CPU s during the round: tool %.2f, etcd", p.tool_cpu);
  for (std::size_t i = 0; i < p.etcd_cpu.size(); ++i)
    std::printf(" m%zu %.2f", i + 1, p.etcd_cpu[i]);
  auto opt = [](const std::optional<double>& v) { return v ? *v : -1.0; };
  std::printf("\netcd WAL fsync p99 ms, before the round -> during:");
  for (std::size_t i = 0; i < p.wal_during.size(); ++i) {
    std::printf(" m%zu %.1f -> %.1f", i + 1, opt(p.wal_before[i]), opt(p.wal_during[i]));
  }
  std::printf("\ngRPC calls served during the round besides Put:\n");
  for (std::size_t i = 0; i < p.calls.size(); ++i) {
    std::printf("  m%zu:", i + 1);
    for (const auto& [method, n] : p.calls[i]) {
      if (method != "Put" && n > 0) std::printf(" %s %.0f", method.c_str(), n);
    }
    std::printf("\n");
  }
  // What happened when, in seconds from the start of the round.
  auto at = [&](LogTime t) { return std::chrono::duration<double>(t - p.round_start).count(); };
  std::printf("events (s from the start of the round):\n");
  for (std::size_t i = 0; i < p.defrags.size(); ++i) {
    for (const auto& d : p.defrags[i]) {
      std::printf("  %7.2f  m%zu defrag for %.2fs\n", at(d.start), i + 1,
                  d.end ? std::chrono::duration<double>(*d.end - d.start).count() : -1.0);
    }
  }
  for (auto t : p.transfers) std::printf("  %7.2f  leadership transfer (MoveLeader)\n", at(t));
  for (std::size_t i = 0; i < p.loads.size(); ++i) {
    for (const auto& s : p.loads[i].samples) {
      const bool slow = s.latency >= 1s ||
                        (slow_ms > 0 && s.latency >= slow_ms * 1ms && !inside(p.defrags[i], s));
      if (!slow && s.error.empty()) continue;
      std::printf(
          "  %7.2f  m%zu request took %.2fs%s%s\n", at(s.start), i + 1,
          static_cast<double>(s.latency.count()) / 1e6, s.ok ? "" : " FAILED",
          s.error.empty() ? "" : (" (" + s.error + (s.retried ? ", retried" : "") + ")").c_str());
    }
  }
  std::fflush(stdout);
}

std::size_t finished(const EtcdCluster& cluster, std::size_t i, LogTime since) {
  std::size_t n = 0;
  for (const auto& d : after(defrag_intervals(cluster.member_log(i)), since)) n += d.end ? 1 : 0;
  return n;
}

double etcdctl_round(EtcdCluster& cluster) {
  const double cpu0 = children_cpu_seconds();
  auto r = cluster.etcdctl({"defrag", "--cluster", "--command-timeout=600s"}, 900s);
  if (r.exit_code != 0) std::fprintf(stderr, "etcdctl defrag failed: %s\n", r.output.c_str());
  return children_cpu_seconds() - cpu0;
}

double warden_round(EtcdCluster& cluster, const Options& o) {
  const LogTime since = std::chrono::system_clock::now();
  std::vector<std::unique_ptr<WardenProcess>> wardens;
  for (std::size_t i = 0; i < 3; ++i) {
    const std::string yaml = etcd_config_yaml(cluster, i) +
                             "metrics: {listen: \"\"}\n"
                             "status: {every: 1s}\n"
                             "compaction: {enabled: false}\n"
                             "snapshot: {enabled: false}\n"
                             "tuning: {enabled: false}\n"
                             "defrag: {every: " +
                             o.every + ", jitter: 500ms, min_free: 16MiB}\n";
    wardens.push_back(std::make_unique<WardenProcess>(yaml));
  }
  const bool done = wait_until(
      [&] {
        return finished(cluster, 0, since) >= 1 && finished(cluster, 1, since) >= 1 &&
               finished(cluster, 2, since) >= 1;
      },
      900s, 100ms);
  if (!done) {
    std::fprintf(stderr, "the wardens did not finish the round\n");
    for (auto& w : wardens) std::fprintf(stderr, "%s\n", tail_lines(w->log(), 20).c_str());
  }
  // The last warden still waits for its member to be caught up; let it finish.
  wait_until(
      [&] {
        for (auto& w : wardens) {
          if (w->log().find("job=defrag result=success") == std::string::npos) return false;
        }
        return true;
      },
      60s, 100ms);
  double cpu = 0;
  for (auto& w : wardens) cpu += cpu_seconds(w->process().pid());
  if (o.show_logs) {
    for (std::size_t i = 0; i < wardens.size(); ++i) {
      std::istringstream in(wardens[i]->log());
      for (std::string line; std::getline(in, line);) {
        if (line.find("defrag") != std::string::npos || line.find("leader") != std::string::npos) {
          std::fprintf(stderr, "warden m%zu: %s\n", i + 1, line.c_str());
        }
      }
    }
  }
  return cpu;
}

// A fresh 3-member cluster with the data set, then one round of one tool.
Phase run_phase(const Options& o, const DiskImages& images, bool warden) {
  std::vector<std::unique_ptr<LoopFilesystem>> disks;  // outlive the cluster
  std::vector<std::filesystem::path> data_parents;
  for (const auto& image : images.paths) {
    disks.push_back(std::make_unique<LoopFilesystem>(image, images.bytes));
    data_parents.push_back(disks.back()->path());
  }
  EtcdCluster cluster({.members = 3,
                       .extra_flags = {"--quota-backend-bytes=8589934592"},
                       .data_parents = data_parents,
                       .start_deadline = 60s});
  fragment(cluster, o);
  if (warden) {
    return measure(cluster, "(b) etcd-warden, one round", o,
                   [&] { return warden_round(cluster, o); });
  }
  return measure(cluster, "(a) etcdctl defrag --cluster", o,
                 [&] { return etcdctl_round(cluster); });
}

void summary(const std::vector<Phase>& a, const std::vector<Phase>& b) {
  std::printf(
      "\nsummary, a fresh cluster per phase. p99 ms of requests served by a member while "
      "another member was defragmented, all endpoints pooled (the target), and the worst "
      "single endpoint's; p99 before the round shows how loaded the machine was\n");
  std::printf(
      "| round | tool | p99 others | requests | worst endpoint | p99 before | max ms | failed | "
      "retried | elections | round s |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (std::size_t r = 0; r < a.size(); ++r) {
    for (const Phase* p : {&a[r], &b[r]}) {
      const PhaseFigures f = phase_figures(*p);
      std::printf("| %zu | %s | %.1f | %zu | %.1f | %.1f | %.0f | %zu | %zu | %zu | %.1f |\n",
                  r + 1, p->name.c_str(), f.others, f.others_n, f.worst_endpoint, f.before, f.worst,
                  f.failed, f.retried, p->elections, p->seconds);
    }
  }
  for (const auto* phases : {&a, &b}) {
    std::vector<double> others, worst_endpoint, before, seconds;
    for (const auto& p : *phases) {
      const PhaseFigures f = phase_figures(p);
      others.push_back(f.others);
      worst_endpoint.push_back(f.worst_endpoint);
      before.push_back(f.before);
      seconds.push_back(p.seconds);
    }
    std::printf("| median | %s | %.1f | | %.1f | %.1f | | | | | %.1f |\n",
                phases->front().name.c_str(), median(others), median(worst_endpoint),
                median(before), median(seconds));
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--size-mb") o.size_mb = std::stoul(argv[i + 1]);
    if (a == "--free") o.free_ratio = std::stod(argv[i + 1]);
    if (a == "--value-kb") o.value_kb = std::stoul(argv[i + 1]);
    if (a == "--interval-ms") o.interval_ms = std::stoi(argv[i + 1]);
    if (a == "--rounds") o.rounds = std::max(1, std::stoi(argv[i + 1]));
    if (a == "--every") o.every = argv[i + 1];
    if (a == "--slow-ms") o.slow_ms = std::stoi(argv[i + 1]);
    if (a == "--show-logs") o.show_logs = std::string(argv[i + 1]) == "1";
    if (a == "--warden-first") o.warden_first = std::string(argv[i + 1]) == "1";
    if (a == "--disks") {
      const std::string disks = argv[i + 1];
      if (disks != "own" && disks != "shared") {
        std::fprintf(stderr, "bench_defrag_round: --disks takes own or shared, not '%s'\n",
                     disks.c_str());
        return 2;
      }
      o.own_disks = disks == "own";
    }
  }
  std::printf(
      "defrag round: 3 members, ~%zu MB database, %.0f%% free, writer every %d ms on "
      "each endpoint, a fresh cluster per phase, %d round(s), %s\n",
      o.size_mb, 100 * o.free_ratio, o.interval_ms, o.rounds,
      o.own_disks ? "each member on an ext4 filesystem of its own (loop device)"
                  : "all members on one filesystem");
  const DiskImages images = disk_images(o);
  std::vector<Phase> a, b;
  for (int r = 0; r < o.rounds; ++r) {
    const bool warden_first = o.warden_first != (r % 2 == 1);
    std::printf("\n## round %d (%s first)\n", r + 1, warden_first ? "(b)" : "(a)");
    for (bool warden : {warden_first, !warden_first}) {
      Phase p = run_phase(o, images, warden);
      print(p, o.slow_ms);
      (warden ? b : a).push_back(std::move(p));
    }
  }
  summary(a, b);
  std::printf(
      "\ntargets: 0 failed requests; p99 <= 50 ms on members not being defragmented; no "
      "election other than the planned hand-off (b: 1, a: 0 expected per round)\n");
  return 0;
}
