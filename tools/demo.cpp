// etcd-warden-demo: starts a throwaway etcd cluster on 127.0.0.1 (Debian's
// etcd), one warden per member as systemd would run it, and shows the wardens
// at work. By default a client writes load that grows and fragments the
// database, and the wardens run on short schedules, so that within a minute
// the leader's warden compacts, a defrag round goes through the members one
// at a time (the leader hands off first), verified snapshots land and each
// warden gives its tuning verdict. It prints those events as they happen,
// then a summary per member. --quiet-cluster: no load, default schedules.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "etcd_warden/config/units.hpp"
#include "etcd_warden/net/prom_text.hpp"
#include "etcd_warden/snapshot/catalog.hpp"
#include "support/dbus_daemon.hpp"
#include "support/etcd_cluster.hpp"
#include "support/etcd_writer.hpp"
#include "support/http_get.hpp"
#include "support/ports.hpp"
#include "support/warden.hpp"

using namespace etcd_warden;
using namespace etcd_warden::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_stop{false};  // set from the signal handler only
void on_signal(int) {
  g_stop = true;
}

struct Options {
  std::optional<config::Duration> duration;
  std::size_t members = 3;
  bool quiet_cluster = false;
};

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--duration" || a == "-d") && i + 1 < argc) {
      o.duration = config::parse_duration(argv[++i]);
      if (!o.duration) {
        std::cerr << "demo: --duration takes a duration like 60s or 5m\n";
        return std::nullopt;
      }
    } else if (a == "--members" && i + 1 < argc) {
      const std::string n = argv[++i];
      o.members = n.size() == 1 && n[0] >= '1' && n[0] <= '5' ? std::size_t(n[0] - '0') : 0;
      if (o.members == 0) {
        std::cerr << "demo: --members takes 1 to 5\n";
        return std::nullopt;
      }
    } else if (a == "--quiet-cluster") {
      o.quiet_cluster = true;
    } else {
      std::cerr << "usage: etcd-warden-demo [--duration D] [--members N] [--quiet-cluster]\n";
      return std::nullopt;
    }
  }
  return o;
}

std::string now_hms() {
  std::time_t t = std::time(nullptr);
  char buf[16];
  std::tm local{};
  ::localtime_r(&t, &local);
  std::strftime(buf, sizeof buf, "%H:%M:%S", &local);
  return buf;
}

// Schedules short enough that a minute shows every job acting on a loaded
// cluster; the thresholds low enough that a few MiB of free pages count.
std::string busy_schedules() {
  return "compaction: {every: 5s, retention: 500}\n"
         "defrag: {every: 10s, min_free: 512KiB, min_free_ratio: 0.05}\n"
         "tuning: {every: 30s}\n"
         "consistency: {every: 15s}\n";
}

// The log lines worth showing: what a job did (not what it skipped), the
// steps of a defrag, a tuning verdict (logged when it changes). Routine
// status polls and repeated tuning runs are left out.
bool interesting(const std::string& line) {
  static const std::regex shown(
      "job=(compact|defrag|snapshot|alarms|consistency) result=(success|failure)|"
      "job=tuning result=failure|"
      "defrag start|handing leadership|leadership moved|tuning verdict|NOSPACE|CORRUPT| error |"
      " critical ");
  return std::regex_search(line, shown);
}

// The head of a STATUS= line: the member, its database and the cluster
// ("m1 (leader), db 16MiB of 2GiB (1%), 9MiB in use, 3 members").
std::string status_head(const std::string& status) {
  return status.substr(0, status.find(';'));
}

// The text after spdlog's "2026-12-03T12:00:00.123 info " prefix.
std::string message_of(const std::string& line) {
  const auto level_end = line.find(' ', line.find(' ') + 1);
  return level_end == std::string::npos ? line : line.substr(level_end + 1);
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::string bytes_text(double v) {
  return to_string(Bytes{static_cast<std::uint64_t>(v < 0 ? 0 : v)});
}

// Snapshot files kept, and how many of them are verified (their sidecar matches).
std::pair<std::size_t, std::size_t> snapshots_in(const fs::path& dir) {
  const auto listed = snapshot::list_snapshots(dir);
  if (!listed) return {0, 0};
  std::size_t verified = 0;
  for (const auto& e : *listed) verified += e.verified() ? 1 : 0;
  return {listed->size(), verified};
}

const char* verdict_text(std::optional<double> v) {
  if (!v) return "-";
  return *v == 0 ? "ok" : *v == 1 ? "WARN" : "CRIT";
}

}  // namespace

int main(int argc, char** argv) {
  auto options = parse(argc, argv);
  if (!options) return 2;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  std::cout << "starting a " << options->members << "-member etcd cluster on 127.0.0.1 ..."
            << std::endl;
  EtcdCluster cluster({.members = options->members});
  for (int i = 0; i < 20; ++i)
    cluster.put("/demo/key-" + std::to_string(i), "value-" + std::to_string(i));
  DbusDaemon bus;  // a private bus for the first warden's control interface

  std::vector<std::unique_ptr<WardenProcess>> wardens;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    const auto port = free_port();
    WardenOptions w;
    w.config_yaml = etcd_config_yaml(cluster, i) +
                    "metrics:\n  listen: \"127.0.0.1:" + std::to_string(port) +
                    "\"\nstatus:\n  every: 2s\n" +
                    // Snapshots stay in the throwaway cluster's directory.
                    "snapshot:\n  dir: \"" + (cluster.member(i).dir / "snapshots").string() +
                    "\"\n" + (options->quiet_cluster ? "" : "  every: 20s\n  keep_last: 3\n") +
                    (options->quiet_cluster ? "" : busy_schedules()) +
                    // One name per bus: the first warden answers `ctl`.
                    (i == 0 ? "control:\n  bus: \"" + bus.address() + "\"\n" : "");
    wardens.push_back(std::make_unique<WardenProcess>(w));
    ports.push_back(port);
  }
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    const auto& m = cluster.member(i);
    std::cout << "  " << m.name << ": etcd " << m.client_url
              << "  warden metrics http://127.0.0.1:" << ports[i] << "/metrics  log "
              << wardens[i]->dir().string() << "/warden.log" << std::endl;
  }
  const std::string config = wardens[0]->config_path().string();
  std::cout << "while it runs, look further (in another shell):\n"
            << "  build/etcd-warden ctl --bus '" << bus.address() << "' status\n"
            << "  build/etcd-warden snapshot list -c " << config << "\n"
            << "  build/etcd-warden restore-plan -c " << config << std::endl;

  std::optional<EtcdWriter> load;
  if (!options->quiet_cluster) {
    // Overwriting a few hundred 4 KiB values: every put leaves an old
    // revision behind, compaction frees it, the file keeps its size until a
    // defrag gives the pages back.
    load.emplace(cluster.endpoint_list(),
                 WriterOptions{.interval = 10ms, .value_bytes = 4096, .keys = 300});
    std::cout << "writing load (4KiB values, " << cluster.endpoint_list().size() << " clients) ..."
              << std::endl;
  }
  std::cout << "what the wardens do (Ctrl-C to stop"
            << (options->duration ? ", or after " + config::format_duration(*options->duration)
                                  : "")
            << "):" << std::endl;

  std::vector<std::size_t> read_up_to(wardens.size(), 0);
  std::vector<std::string> last_status(wardens.size());
  const auto deadline = options->duration ? std::chrono::steady_clock::now() + *options->duration
                                          : std::chrono::steady_clock::time_point::max();
  while (!g_stop && std::chrono::steady_clock::now() < deadline) {
    for (std::size_t i = 0; i < wardens.size(); ++i) {
      const std::string& name = cluster.member(i).name;
      const std::string log = wardens[i]->log();
      // Whole lines only: the last one may still be being written.
      const auto end = log.rfind('\n');
      if (end != std::string::npos && end + 1 > read_up_to[i]) {
        std::size_t at = read_up_to[i];
        bool acted = false;
        while (at <= end) {
          const auto nl = log.find('\n', at);
          const std::string line = log.substr(at, nl - at);
          if (interesting(line)) {
            std::cout << now_hms() << " [" << name << "] " << message_of(line) << std::endl;
            acted = true;
          }
          at = nl + 1;
        }
        read_up_to[i] = end + 1;
        // The head of the member's STATUS= when its warden did something.
        auto status = wardens[i]->listener().last_status();
        if (acted && status && status_head(*status) != last_status[i]) {
          last_status[i] = status_head(*status);
          std::cout << "           [" << name << "] STATUS=" << last_status[i] << " ..."
                    << std::endl;
        }
      }
      if (!wardens[i]->process().running()) {
        std::cout << now_hms() << " [" << name << "] warden exited; see its log" << std::endl;
        g_stop = true;
      }
    }
    std::this_thread::sleep_for(200ms);  // a display refresh, not a wait for a condition
  }
  if (load) load->stop();

  // Per member: what its warden did and what etcd saw.
  std::cout << "\nsummary:\n";
  std::printf("  %-6s %-8s %8s %10s %11s %9s %8s\n", "MEMBER", "ROLE", "DEFRAGS", "RECLAIMED",
              "SNAPSHOTS", "ELECTIONS", "TUNING");
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    const auto& m = cluster.member(i);
    const std::string log = wardens[i]->log();
    const auto metrics =
        net::parse_prometheus_text(http_get("127.0.0.1", ports[i], "/metrics", 2s).value_or(""));
    const auto etcd = net::parse_prometheus_text(
        http_get("127.0.0.1", m.metrics_port, "/metrics", 2s).value_or(""));
    const auto [files, verified] = snapshots_in(m.dir / "snapshots");
    const bool leader = metrics.value("etcd_warden_member_is_leader").value_or(0) == 1;
    std::printf(
        "  %-6s %-8s %8zu %10s %5zu (%zu ok) %9.0f %8s\n", m.name.c_str(),
        leader ? "leader" : "follower", count(log, "defrag done member=" + m.name),
        bytes_text(metrics.value("etcd_warden_defrag_reclaimed_bytes_total").value_or(0)).c_str(),
        files, verified, etcd.value("etcd_server_leader_changes_seen_total").value_or(0),
        verdict_text(metrics.value("etcd_warden_tuning_verdict")));
  }
  std::cout << "  (compactions by the leader's warden: ";
  std::size_t compactions = 0;
  for (const auto& w : wardens) compactions += count(w->log(), "job=compact result=success");
  std::cout << compactions << ")\n";

  std::cout << "stopping wardens and etcd ..." << std::endl;
  int failures = 0;
  for (std::size_t i = 0; i < wardens.size(); ++i) {
    auto code = wardens[i]->stop(10s);
    std::cout << "  warden " << cluster.member(i).name << " exited with "
              << (code ? std::to_string(*code) : std::string("no exit (killed)")) << std::endl;
    failures += code != 0;
  }
  return failures == 0 ? 0 : 1;
}
