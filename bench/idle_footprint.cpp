// Idle footprint of one warden polling status every 1 s against a real etcd:
// private memory (RssAnon) and VmRSS at start and end, threads, CPU, and
// /metrics scrape latency over 1000 scrapes. Prints a table with the targets.
//   bench_idle_footprint [--seconds 60] [--scrapes 1000]
// The warm-up is not idle time: gRPC's timer manager grows its pool a few
// seconds in, and each job's first run sizes its buffers (malloc keeps them;
// about 0.4 MiB). The idle period starts once tuning, compact and defrag have
// each run once, and "flat" is judged over it.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/etcd_cluster.hpp"
#include "support/http_get.hpp"
#include "support/ports.hpp"
#include "support/wait.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;

namespace {

struct Sample {
  double rss_anon_kib = 0, vm_rss_kib = 0;
  long threads = 0;
  double cpu_seconds = 0;
};

Sample sample(pid_t pid) {
  Sample s;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "RssAnon:") status >> s.rss_anon_kib;
    if (key == "VmRSS:") status >> s.vm_rss_kib;
    if (key == "Threads:") status >> s.threads;
    status.ignore(1 << 12, '\n');
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  // Fields after the ")" that closes the command name: state is field 3; utime 14, stime 15.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::vector<std::string> fields{std::istream_iterator<std::string>(rest), {}};
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  s.cpu_seconds = (std::stod(fields.at(11)) + std::stod(fields.at(12))) / ticks;
  return s;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.at(std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size()))));
}

void row(const char* what, const std::string& start, const std::string& end, const char* target,
         bool ok) {
  std::printf("| %-26s | %12s | %12s | %-22s | %-4s |\n", what, start.c_str(), end.c_str(), target,
              ok ? "ok" : "MISS");
}

std::string mib(double kib) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f MiB", kib / 1024);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 60, scrapes = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--seconds") seconds = std::stoi(argv[i + 1]);
    if (a == "--scrapes") scrapes = std::stoi(argv[i + 1]);
  }
  EtcdCluster cluster({.members = 1});
  const auto port = free_port();
  WardenOptions w;
  w.config_yaml = etcd_config_yaml(cluster, 0) +
                  "metrics:\n  listen: \"127.0.0.1:" + std::to_string(port) +
                  "\"\nstatus:\n  every: 1s\n"
                  // Never the system's snapshot dir, should the first snapshot come.
                  "snapshot:\n  dir: \"" +
                  (cluster.member(0).dir / "snapshots").string() + "\"\n";
  WardenProcess warden(w);
  if (!warden.wait_ready()) {
    std::cerr << "warden did not become ready:\n" << warden.log();
    return 1;
  }
  const pid_t pid = warden.process().pid();
  const auto warmup_start = std::chrono::steady_clock::now();
  const bool warmed = wait_until(
      [&] {
        const auto log = warden.log();
        return log.find("job=tuning") != std::string::npos &&
               log.find("job=compact") != std::string::npos &&
               log.find("job=defrag") != std::string::npos;
      },
      3min, 200ms);
  if (!warmed) {
    std::cerr << "tuning, compact and defrag did not all run within 3 min:\n" << warden.log();
    return 1;
  }
  std::this_thread::sleep_for(3s);  // the last job's allocations settle
  const int warmup = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::steady_clock::now() - warmup_start)
                                          .count());
  const Sample start = sample(pid);
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(
      std::chrono::seconds(seconds));  // the idle period itself is the measurement
  const Sample end = sample(pid);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::vector<double> latencies_ms;
  std::size_t failed = 0;
  for (int i = 0; i < scrapes; ++i) {
    const auto s = std::chrono::steady_clock::now();
    auto body = http_get("127.0.0.1", port, "/metrics", 2s);
    latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
    failed += !body || body->find("etcd_warden_etcd_up 1") == std::string::npos;
  }
  const Sample after_scrapes = sample(pid);

  const double cpu_pct = 100.0 * (end.cpu_seconds - start.cpu_seconds) / wall;
  std::printf(
      "\nidle footprint: one warden, status every 1s, %d s warm-up, %d s idle, %d scrapes "
      "(etcd %s)\n\n",
      warmup, seconds, scrapes, cluster.member(0).client_url.c_str());
  std::printf("| %-26s | %12s | %12s | %-22s | %-4s |\n", "metric", "start", "end", "target", "");
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(28, '-').c_str(), std::string(14, '-').c_str(),
              std::string(14, '-').c_str(), std::string(24, '-').c_str(),
              std::string(6, '-').c_str());
  row("RssAnon (private)", mib(start.rss_anon_kib), mib(end.rss_anon_kib), "<= 8 MiB, flat",
      end.rss_anon_kib <= 8 * 1024 && end.rss_anon_kib <= start.rss_anon_kib + 256);
  row("VmRSS", mib(start.vm_rss_kib), mib(end.vm_rss_kib), "<= 32 MiB",
      end.vm_rss_kib <= 32 * 1024);
  row("threads", std::to_string(start.threads), std::to_string(end.threads), "flat",
      end.threads == start.threads);
  char cpu[32];
  std::snprintf(cpu, sizeof cpu, "%.3f %%", cpu_pct);
  row("CPU over idle period", "", cpu, "<= 0.5 % of a core", cpu_pct <= 0.5);
  char p50[32], p99[32], mx[32];
  std::snprintf(p50, sizeof p50, "%.3f ms", percentile(latencies_ms, 0.50));
  std::snprintf(p99, sizeof p99, "%.3f ms", percentile(latencies_ms, 0.99));
  std::snprintf(mx, sizeof mx, "%.3f ms",
                *std::max_element(latencies_ms.begin(), latencies_ms.end()));
  row("/metrics scrape p50", "", p50, "", true);
  row("/metrics scrape p99", "", p99, "<= 5 ms", percentile(latencies_ms, 0.99) <= 5.0);
  row("/metrics scrape max", "", mx, "", true);
  row("failed scrapes", "", std::to_string(failed), "0", failed == 0);
  row("RssAnon after scrapes", "", mib(after_scrapes.rss_anon_kib), "<= 8 MiB",
      after_scrapes.rss_anon_kib <= 8 * 1024);
  std::printf("\n");
  warden.stop(10s);
  return 0;
}
