// net::http_get against real etcd: plain HTTP on the metrics URL, HTTPS with
// a client certificate on a TLS member's client URL, and each way TLS can be
// wrong, as one line naming the URL (or the file). Then the tuning job reads
// etcd's histograms from an https client URL when no metrics_url is set.
// scrape_metrics reads a huge answer on the pool, not on the loop.
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <optional>
#include <thread>

#include "etcd_warden/net/http_get.hpp"
#include "etcd_warden/net/metrics_scrape.hpp"
#include "support/etcd_cluster.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/warden.hpp"

using namespace etcd_warden;
using namespace etcd_warden::testing;
using namespace std::chrono_literals;

namespace {

net::HttpResponse get(const std::string& url, std::optional<config::Tls> tls = std::nullopt) {
  asio::io_context io;
  net::HttpResponse out;
  auto body = [&]() -> Task<void> {
    auto op = net::http_get(url, 5s, tls);
    out = co_await std::move(op);
  };
  asio::co_spawn(io, body(), asio::detached);
  io.run();
  return out;
}

config::Tls client_tls(const TlsMaterial& m) {
  return config::Tls{.ca = m.ca_cert, .cert = m.client_cert, .key = m.client_key};
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

}  // namespace

TEST_CASE("http_get reads etcd's metrics over plain HTTP and over TLS with a client cert",
          "[net][tls]") {
  EtcdCluster cluster({.members = 1, .tls = true});
  const auto& m = cluster.tls_material();
  const std::string plain = cluster.member(0).metrics_url + "/metrics";
  const std::string secure = cluster.member(0).client_url + "/metrics";
  REQUIRE(starts_with(secure, "https://127.0.0.1:"));

  auto r = get(plain);
  INFO(r.error);
  CHECK(r.ok());
  CHECK(r.body.find("etcd_server_has_leader 1") != std::string::npos);

  r = get(secure, client_tls(m));
  INFO(r.error);
  CHECK(r.ok());
  CHECK(r.body.find("etcd_disk_wal_fsync_duration_seconds_bucket") != std::string::npos);

  // The certificate carries DNS:localhost too: a server_name override is checked.
  auto named = client_tls(m);
  named.server_name = "localhost";
  r = get(secure, named);
  INFO(r.error);
  CHECK(r.ok());
}

TEST_CASE("http_get over TLS: each mistake is one line naming the URL or the file", "[net][tls]") {
  EtcdCluster cluster({.members = 1, .tls = true});
  const auto& m = cluster.tls_material();
  const std::string url = cluster.member(0).client_url + "/metrics";

  SECTION("a CA that did not sign the member's certificate") {
    auto tls = client_tls(m);
    tls.ca = m.other_ca_cert;
    const auto r = get(url, tls);
    INFO(r.error);
    CHECK_FALSE(r.ok());
    CHECK(starts_with(r.error, url + ": "));
    CHECK(r.error.find("certificate verify failed") != std::string::npos);
  }
  SECTION("a name the certificate does not carry") {
    auto tls = client_tls(m);
    tls.server_name = "etcd.example.invalid";
    const auto r = get(url, tls);
    INFO(r.error);
    CHECK_FALSE(r.ok());
    CHECK(r.error.find("certificate verify failed") != std::string::npos);
  }
  SECTION("no client certificate where etcd requires one") {
    auto tls = client_tls(m);
    tls.cert.clear();
    tls.key.clear();
    const auto r = get(url, tls);
    INFO(r.error);
    CHECK_FALSE(r.ok());
    CHECK(starts_with(r.error, url + ": "));
    CHECK(r.error.find('\n') == std::string::npos);
  }
  SECTION("a CA file that does not exist") {
    auto tls = client_tls(m);
    tls.ca = "/nonexistent/ca.pem";
    const auto r = get(url, tls);
    INFO(r.error);
    CHECK_FALSE(r.ok());
    CHECK(r.error.find("etcd.tls.ca /nonexistent/ca.pem: ") != std::string::npos);
  }
  SECTION("a key that does not match the certificate") {
    auto tls = client_tls(m);
    tls.key = m.other_client_key;
    const auto r = get(url, tls);
    INFO(r.error);
    CHECK_FALSE(r.ok());
    CHECK(r.error.find("etcd.tls.key " + m.other_client_key.string()) != std::string::npos);
  }
}

TEST_CASE("job tuning reads etcd's histograms from an https client URL", "[tuning][tls][cli]") {
  EtcdCluster cluster({.members = 1, .tls = true});
  std::string yaml = etcd_config_yaml(cluster, 0);
  // No metrics_url: the warden falls back to the client URL, here https.
  const auto line = yaml.find("  metrics_url:");
  REQUIRE(line != std::string::npos);
  yaml.erase(line, yaml.find('\n', line) + 1 - line);
  TempDir dir("etcd-warden-tuning-tls");
  const auto config = dir / "config.yaml";
  // Without the probe, etcd's metrics are the only measurement.
  write_file(config, yaml + "tuning: {probe: false, env_files: []}\n");
  const auto r = run_cli({"job", "tuning", "-c", config.string()}, 60s);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("etcd metrics        " + cluster.member(0).client_url + "/metrics") !=
        std::string::npos);
  CHECK(r.output.find("WAL fsync p99 (etcd)") != std::string::npos);  // measured from etcd
  CHECK(r.output.find("FAILED") == std::string::npos);
}

namespace {

// One HTTP/1.1 answer with `body` to the first connection, written on `io`'s
// loop: the loop that scrapes also serves, so a parse on the loop would stall
// the server as well.
Task<void> serve_once(asio::ip::tcp::acceptor& acceptor, std::string body) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  std::string request;
  while (request.find("\r\n\r\n") == std::string::npos) {
    char buf[1024];
    const std::size_t n = co_await socket.async_read_some(asio::buffer(buf), asio::use_awaitable);
    request.append(buf, n);
  }
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  co_await asio::async_write(
      socket, std::array<asio::const_buffer, 2>{asio::buffer(head), asio::buffer(body)},
      asio::use_awaitable);
  socket.shutdown(asio::ip::tcp::socket::shutdown_send);
}

}  // namespace

TEST_CASE("scrape_metrics reads a 60 MB answer on the pool while the loop keeps running", "[net]") {
  std::string body;
  body.reserve(61u << 20);
  for (int i = 0; body.size() < (60u << 20); ++i) {
    body += "warden_probe_series{instance=\"node-" + std::to_string(i) + "\",job=\"x\"} 1\n";
  }
  body += "etcd_server_quota_backend_bytes 2.147483648e+09\n";

  asio::io_context io;
  asio::thread_pool pool(1);
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string url =
      "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/metrics";

  // The loop ticks every 10 ms; the reader on the pool waits (up to 20 s)
  // until it has seen a tick while it was reading. Run on the loop, it could
  // never see one.
  std::atomic<bool> reading{false};
  std::atomic<int> ticks_while_reading{0};
  bool done = false;
  std::thread::id reader_thread;
  util::Result<std::optional<double>> quota = util::fail("not run");

  auto ticker = [&]() -> Task<void> {
    asio::steady_timer timer(io);
    while (!done) {
      timer.expires_after(10ms);
      co_await timer.async_wait(asio::use_awaitable);
      if (reading) ++ticks_while_reading;
    }
  };
  auto scraper = [&]() -> Task<void> {
    auto op = net::scrape_metrics(url, 30s, std::nullopt, pool, [&](const net::ParsedMetrics& m) {
      reader_thread = std::this_thread::get_id();
      reading = true;
      const auto give_up = std::chrono::steady_clock::now() + 20s;
      while (ticks_while_reading == 0 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(1ms);
      }
      reading = false;
      return m.value("etcd_server_quota_backend_bytes");
    });
    quota = co_await std::move(op);
    done = true;
  };
  asio::co_spawn(io, serve_once(acceptor, std::move(body)), asio::detached);
  asio::co_spawn(io, ticker(), asio::detached);
  asio::co_spawn(io, scraper(), asio::detached);
  io.run();
  pool.join();

  REQUIRE(quota);
  CHECK(*quota == std::optional<double>(2147483648.0));
  CHECK(reader_thread != std::this_thread::get_id());
  CHECK(ticks_while_reading > 0);
}

TEST_CASE("scrape_metrics: an error answer names the URL and the status", "[net]") {
  asio::io_context io;
  asio::thread_pool pool(1);
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string url =
      "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/nope";
  auto serve_404 = [&]() -> Task<void> {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    char buf[1024];
    co_await socket.async_read_some(asio::buffer(buf), asio::use_awaitable);
    const std::string answer = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(answer), asio::use_awaitable);
  };
  util::Result<int> r = util::fail("not run");
  auto scraper = [&]() -> Task<void> {
    auto op = net::scrape_metrics(url, 5s, std::nullopt, pool, [](const net::ParsedMetrics& m) {
      return int(m.samples.size());
    });
    r = co_await std::move(op);
  };
  asio::co_spawn(io, serve_404(), asio::detached);
  asio::co_spawn(io, scraper(), asio::detached);
  io.run();
  pool.join();
  REQUIRE_FALSE(r);
  CHECK(r.error() == url + ": HTTP 404");
}
