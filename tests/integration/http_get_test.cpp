// net::http_get against real etcd: plain HTTP on the metrics URL, HTTPS with
// a client certificate on a TLS member's client URL, and each way TLS can be
// wrong, as one line naming the URL (or the file). Then the tuning job reads
// etcd's histograms from an https client URL when no metrics_url is set.
#include <catch2/catch.hpp>

#include <optional>

#include "etcd_warden/net/http_get.hpp"
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
