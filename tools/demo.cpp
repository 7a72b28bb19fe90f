// etcd-warden-demo: starts a throwaway etcd cluster on 127.0.0.1 (Debian's
// etcd), one warden per member as systemd would run it, prints where each
// metrics endpoint is and every STATUS= line as it changes, and stops
// everything on Ctrl-C or after --duration.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "etcd_warden/config/units.hpp"
#include "support/etcd_cluster.hpp"
#include "support/ports.hpp"
#include "support/warden.hpp"

using namespace etcd_warden;
using namespace etcd_warden::testing;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> g_stop{false};  // set from the signal handler only
void on_signal(int) {
  g_stop = true;
}

struct Options {
  std::optional<config::Duration> duration;
  std::size_t members = 3;
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
      o.members = std::stoul(argv[++i]);
      if (o.members < 1 || o.members > 5) {
        std::cerr << "demo: --members takes 1 to 5\n";
        return std::nullopt;
      }
    } else {
      std::cerr << "usage: etcd-warden-demo [--duration D] [--members N]\n";
      return std::nullopt;
    }
  }
  return o;
}

std::string now_hms() {
  std::time_t t = std::time(nullptr);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", std::localtime(&t));
  return buf;
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

  std::vector<std::unique_ptr<WardenProcess>> wardens;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    const auto port = free_port();
    WardenOptions w;
    w.config_yaml = etcd_config_yaml(cluster, i) +
                    "metrics:\n  listen: \"127.0.0.1:" + std::to_string(port) +
                    "\"\nstatus:\n  every: 2s\n"
                    // Snapshots stay in the throwaway cluster's directory.
                    "snapshot:\n  dir: \"" +
                    (cluster.member(i).dir / "snapshots").string() + "\"\n";
    wardens.push_back(std::make_unique<WardenProcess>(w));
    ports.push_back(port);
  }
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    const auto& m = cluster.member(i);
    std::cout << "  " << m.name << ": etcd " << m.client_url
              << "  warden metrics http://127.0.0.1:" << ports[i] << "/metrics  log "
              << wardens[i]->dir().string() << "/warden.log" << std::endl;
  }
  std::cout << "each warden's STATUS= as it changes (Ctrl-C to stop"
            << (options->duration ? ", or after " + config::format_duration(*options->duration)
                                  : "")
            << "):" << std::endl;

  std::map<std::size_t, std::string> shown;
  const auto deadline = options->duration ? std::chrono::steady_clock::now() + *options->duration
                                          : std::chrono::steady_clock::time_point::max();
  while (!g_stop && std::chrono::steady_clock::now() < deadline) {
    for (std::size_t i = 0; i < wardens.size(); ++i) {
      auto status = wardens[i]->listener().last_status();
      if (!wardens[i]->process().running()) status = "(warden exited; see its log)";
      if (status && shown[i] != *status) {
        shown[i] = *status;
        std::cout << now_hms() << " [" << cluster.member(i).name << "] STATUS=" << *status
                  << std::endl;
      }
    }
    std::this_thread::sleep_for(200ms);  // a display refresh, not a wait for a condition
  }

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
