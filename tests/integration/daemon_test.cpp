// The daemon as systemd runs it: READY, STATUS, WATCHDOG, RELOADING and
// STOPPING on a NOTIFY_SOCKET the test owns; /metrics checked by promtool;
// real etcd members killed and restarted under it.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <thread>
#include <vector>

#include "support/dbus_daemon.hpp"
#include "support/etcd_cluster.hpp"
#include "support/http_get.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;

namespace {

// A warden beside `member`, STATUS= every 300 ms. Snapshots (on by default,
// the first within 10 min) go to the cluster's temp dir, never to the
// system's /var/lib/etcd-warden.
struct Warden : MetricsWarden {
  Warden(const EtcdCluster& cluster, std::size_t member, const std::string& extra = "",
         std::optional<std::chrono::microseconds> watchdog = {})
      : MetricsWarden(yaml(cluster, member, extra), watchdog) {}

  static std::string yaml(const EtcdCluster& cluster, std::size_t member,
                          const std::string& extra) {
    const std::string snapshots =
        extra.find("snapshot:") == std::string::npos
            ? "snapshot:\n  dir: \"" + (cluster.member(member).dir / "snapshots").string() + "\"\n"
            : "";
    return etcd_config_yaml(cluster, member) + "status:\n  every: 300ms\n" + snapshots + extra;
  }
};

// A client that opens a connection to 127.0.0.1:port and sends a request one
// byte at a time, never finishing it (slowloris). Closed with the object.
struct StalledClient {
  int fd = -1;
  explicit StalledClient(std::uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    drip("GET /metrics HTTP/1.1\r\n");
  }
  void drip(const std::string& bytes) {
    (void)!::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  ~StalledClient() { ::close(fd); }
  StalledClient(const StalledClient&) = delete;
  StalledClient& operator=(const StalledClient&) = delete;
};

}  // namespace

// Kept input (issue 18): two partial requests held open blocked /metrics for
// 30 s (two server threads, civetweb's 30 s read timeout).
TEST_CASE("/metrics answers 20 scrapers at once while 2 clients stall their requests",
          "[daemon][metrics]") {
  EtcdCluster cluster({.members = 1});
  Warden warden(cluster, 0, "tuning: {enabled: false}\n");
  REQUIRE(warden.process->wait_ready());
  REQUIRE_EVENTUALLY(warden.metric_is("etcd_warden_etcd_up 1"), 10s);

  StalledClient slow1(warden.metrics_port), slow2(warden.metrics_port);
  std::atomic<bool> done{false};
  // Each stalled client sends one more header byte every 500 ms: always
  // inside the per-read timeout, so each keeps its server thread.
  std::thread dripper([&] {
    while (!done) {
      std::this_thread::sleep_for(500ms);
      slow1.drip("X");
      slow2.drip("X");
    }
  });
  std::this_thread::sleep_for(300ms);  // the stalled clients hold their threads first

  constexpr int kScrapers = 20, kEach = 5;
  std::atomic<int> failed{0};
  std::vector<std::thread> scrapers;
  for (int i = 0; i < kScrapers; ++i) {
    scrapers.emplace_back([&] {
      for (int k = 0; k < kEach; ++k) {
        const auto got = http_get_full("127.0.0.1", warden.metrics_port, "/metrics", 1s);
        if (!got || got->status != 200 ||
            got->body.find("etcd_warden_etcd_up 1") == std::string::npos)
          ++failed;
      }
    });
  }
  for (auto& t : scrapers) t.join();
  done = true;
  dripper.join();
  CHECK(failed == 0);
  CHECK(warden.process->process().running());
}

TEST_CASE("ready, status line and metrics that promtool accepts", "[daemon]") {
  EtcdCluster cluster({.members = 3});
  // Tuning off: its first run may come at any moment within its jitter, and
  // the check below is that a job that has not run has no verdict series.
  Warden warden(cluster, 0, "tuning: {enabled: false}\n");
  REQUIRE(warden.process->wait_ready());
  REQUIRE_EVENTUALLY(warden.status_contains("m1") && warden.status_contains("3 members"), 10s);
  REQUIRE_EVENTUALLY(warden.metric_is("etcd_warden_etcd_up 1"), 10s);

  const std::string body = warden.metrics();
  for (const char* name :
       {"etcd_warden_build_info{version=", "etcd_warden_member_db_size_bytes ",
        "etcd_warden_member_db_size_in_use_bytes ", "etcd_warden_member_quota_bytes ",
        "etcd_warden_member_is_leader ", "etcd_warden_paused 0",
        "etcd_warden_job_runs_total{job=\"status\",result=\"success\"}",
        "etcd_warden_job_duration_seconds_bucket{job=\"status\"",
        "etcd_warden_job_last_success_timestamp_seconds{job=\"status\"}",
        "etcd_warden_alarm_active{type=\"NOSPACE\"} 0"}) {
    INFO(name);
    CHECK(body.find(name) != std::string::npos);
  }
  // Nothing that has not happened yet reads as a value: no tuning verdict 0 ("ok").
  CHECK(body.find("etcd_warden_tuning_verdict ") == std::string::npos);
  // The quota comes from etcd's own metrics (2 GiB default).
  CHECK(body.find("etcd_warden_member_quota_bytes 2147483648") != std::string::npos);

  const auto file = warden.process->dir() / "metrics.txt";
  write_file(file, body);
  auto promtool = run_command({"/bin/sh", "-c", "promtool check metrics < " + file.string()});
  INFO(promtool.output);
  CHECK(promtool.exit_code == 0);
}

TEST_CASE("without metrics_url, the quota is read from /metrics on the client URL", "[daemon]") {
  // What docs/install.md promises for an etcd without --listen-metrics-urls:
  // the status job (quota), the defrag in-flight check and the tuning check
  // all fall back to the first endpoint. etcd 3.4/3.5 do not report the
  // quota in Status, so without the fallback it stays unknown (0).
  EtcdCluster cluster({.members = 1, .extra_flags = {"--quota-backend-bytes=16777216"}});
  std::string yaml = Warden::yaml(cluster, 0, "tuning: {enabled: false}\n");
  const auto at = yaml.find("  metrics_url: ");
  REQUIRE(at != std::string::npos);
  yaml.erase(at, yaml.find('\n', at) + 1 - at);
  MetricsWarden warden(yaml);
  REQUIRE(warden.process->wait_ready());
  REQUIRE_EVENTUALLY(warden.metric_is("etcd_warden_member_quota_bytes 16777216"), 10s);
  REQUIRE_EVENTUALLY(warden.status_contains("of 16MiB"), 10s);
}

TEST_CASE("SIGHUP with an invalid file keeps the old config running and a good one clears it",
          "[daemon]") {
  EtcdCluster cluster({.members = 1});
  Warden warden(cluster, 0);
  auto& listener = warden.process->listener();
  REQUIRE(warden.process->wait_ready());
  const std::string good = warden.yaml(cluster, 0, "");

  std::size_t mark = listener.size();
  warden.process->write_config(good + "defrag:\n  min_fre: 1GiB\n");
  warden.process->reload();
  REQUIRE(listener.wait_for("RELOADING=1", 10s, mark));
  REQUIRE(listener.wait_for("READY=1", 10s, mark));
  REQUIRE_EVENTUALLY(warden.status_contains("config reload failed"), 5s);
  CHECK(warden.status_contains("unknown key 'defrag.min_fre'"));
  CHECK(warden.process->process().running());
  CHECK(warden.process->log().find("did you mean 'min_free'") != std::string::npos);
  // Still polling with the old config.
  REQUIRE_EVENTUALLY(warden.metric_is("etcd_warden_etcd_up 1"), 5s);

  mark = listener.size();
  warden.process->write_config(good);
  warden.process->reload();
  REQUIRE(listener.wait_for("READY=1", 10s, mark));
  REQUIRE_EVENTUALLY(!warden.status_contains("config reload failed"), 5s);
  CHECK(warden.process->log().find("reload done") != std::string::npos);
}

TEST_CASE("SIGTERM: STOPPING=1 and exit 0 within 5 s", "[daemon]") {
  EtcdCluster cluster({.members = 1});
  Warden warden(cluster, 0);
  REQUIRE(warden.process->wait_ready());
  REQUIRE_EVENTUALLY(warden.metric_is("etcd_warden_etcd_up 1"), 10s);
  const auto started = std::chrono::steady_clock::now();
  warden.process->process().signal(SIGTERM);
  auto code = warden.process->process().wait_exit(5s);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(warden.process->listener().wait_for("STOPPING=1", 1s));
}

TEST_CASE("the local member dies: daemon stays up, degraded, and recovers by itself", "[daemon]") {
  EtcdCluster cluster({.members = 3});
  Warden warden(cluster, 0);
  REQUIRE(warden.process->wait_ready());
  REQUIRE_EVENTUALLY(warden.metric_is("etcd_warden_etcd_up 1"), 10s);

  cluster.kill_member(0);
  REQUIRE_EVENTUALLY(warden.metric_is("etcd_warden_etcd_up 0"), 10s);
  REQUIRE_EVENTUALLY(warden.status_contains("DEGRADED: etcd unreachable"), 10s);
  CHECK(warden.process->process().running());
  CHECK(warden.process->log().find("etcd down endpoint=" + cluster.member(0).client_url) !=
        std::string::npos);

  cluster.start_member(0);
  // Backoff is capped at 30 s for a 300 ms poll; recovery must come well within that plus a poll.
  REQUIRE_EVENTUALLY(warden.metric_is("etcd_warden_etcd_up 1"), 45s);
  REQUIRE_EVENTUALLY(!warden.status_contains("DEGRADED"), 5s);
  CHECK(warden.process->log().find("etcd up endpoint=") != std::string::npos);
}

TEST_CASE("TLS with a client certificate works and a wrong CA is a clear error", "[daemon][tls]") {
  EtcdCluster cluster({.members = 1, .tls = true});
  {
    Warden warden(cluster, 0);
    REQUIRE(warden.process->wait_ready());
    REQUIRE_EVENTUALLY(warden.metric_is("etcd_warden_etcd_up 1"), 10s);
    // STATUS= follows the status job's metrics, and the jobs run at start
    // (the certificates job among them) each send it: wait for the line.
    CHECK_EVENTUALLY(warden.status_contains("m1"), 10s);
  }
  const auto& tls = cluster.tls_material();
  std::string yaml = etcd_config_yaml(cluster, 0);
  const auto ca_at = yaml.find(tls.ca_cert.string());
  REQUIRE(ca_at != std::string::npos);
  yaml.replace(ca_at, tls.ca_cert.string().size(), tls.other_ca_cert.string());
  TempDir dir("wrong-ca");
  write_file(dir / "config.yaml", yaml);

  auto result = run_cli({"-c", (dir / "config.yaml").string(), "job", "status"}, 30s);
  INFO(result.output);
  CHECK(result.exit_code == 1);
  CHECK(result.output.find("DOWN: " + cluster.member(0).client_url) != std::string::npos);
  // gRPC's words for it: the handshake failed verifying the member's certificate.
  CHECK((result.output.find("CERTIFICATE_VERIFY_FAILED") != std::string::npos ||
         result.output.find("certificate verify failed") != std::string::npos ||
         result.output.find("Handshake failed") != std::string::npos));
}

TEST_CASE("the watchdog is pinged from the loop at half of WATCHDOG_USEC", "[daemon]") {
  EtcdCluster cluster({.members = 1});
  Warden warden(cluster, 0, "", std::chrono::microseconds(1'000'000));
  REQUIRE(warden.process->wait_ready());
  const auto start = warden.process->listener().size();
  REQUIRE(warden.process->listener().wait_for("WATCHDOG=1", 3s, start));
  REQUIRE_EVENTUALLY(warden.process->listener().count("WATCHDOG=1") >= 4, 5s);
}

TEST_CASE("a reload onto a hung D-Bus: the loop keeps pinging the watchdog until it answers",
          "[daemon]") {
  EtcdCluster cluster({.members = 1});
  DbusDaemon first;
  DbusDaemon hung;
  const auto control = [](const DbusDaemon& bus) {
    return "control:\n  bus: \"" + bus.address() + "\"\n";
  };
  Warden warden(cluster, 0, control(first), std::chrono::microseconds(1'000'000));
  auto& listener = warden.process->listener();
  REQUIRE(warden.process->wait_ready());

  // A stopped dbus-daemon accepts the connection and never answers: sd-bus
  // waits up to 25 s for its hello, longer than this watchdog's 1 s.
  hung.process().signal(SIGSTOP);
  const std::size_t mark = listener.size();
  warden.process->write_config(Warden::yaml(cluster, 0, control(hung)));
  warden.process->reload();
  REQUIRE(listener.wait_for("RELOADING=1", 10s, mark));
  const auto since_reload = [&](std::string_view needle) {
    const auto all = listener.messages();
    return std::count_if(all.begin() + static_cast<std::ptrdiff_t>(mark), all.end(),
                         [&](const std::string& m) { return m.find(needle) != std::string::npos; });
  };
  // Three pings at 500 ms while the bus hangs: the loop is not blocked.
  REQUIRE_EVENTUALLY(since_reload("WATCHDOG=1") >= 3, 5s);
  CHECK(since_reload("READY=1") == 0);  // still reloading: nothing given up
  CHECK(warden.process->process().running());

  hung.process().signal(SIGCONT);
  REQUIRE(listener.wait_for("READY=1", 30s, mark));
  REQUIRE_EVENTUALLY(warden.process->log().find("reload done") != std::string::npos, 5s);
}

TEST_CASE("an unreachable endpoint at start-up: running and degraded, not dead", "[daemon]") {
  TempDir dir("unreachable");
  const auto metrics_port = free_port();
  const auto dead_port = free_port();  // nothing listens there
  WardenOptions options;
  options.config_yaml = "etcd:\n  endpoints: [\"http://127.0.0.1:" + std::to_string(dead_port) +
                        "\"]\n  request_timeout: 1s\nmetrics:\n  listen: \"127.0.0.1:" +
                        std::to_string(metrics_port) + "\"\nstatus: {every: 300ms}\n";
  WardenProcess warden(options);
  REQUIRE(warden.wait_ready());
  REQUIRE(warden.listener().wait_for_status(
      [](std::string_view s) {
        return s.find("DEGRADED: etcd unreachable") != std::string_view::npos;
      },
      10s));
  CHECK(warden.process().running());
  auto stopped = warden.stop(5s);
  REQUIRE(stopped.has_value());
  CHECK(*stopped == 0);
}
