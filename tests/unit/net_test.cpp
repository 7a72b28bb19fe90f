#include <catch2/catch.hpp>

#include "etcd_warden/net/prom_text.hpp"
#include "etcd_warden/util/url.hpp"

using namespace etcd_warden;

TEST_CASE("endpoints: http and https with host and port", "[util]") {
  auto e = util::parse_endpoint("https://10.0.0.1:2379");
  REQUIRE(e);
  CHECK(e->tls());
  CHECK(e->target() == "10.0.0.1:2379");
  CHECK(e->host == "10.0.0.1");
  e = util::parse_endpoint("http://localhost:2379/");
  REQUIRE(e);
  CHECK_FALSE(e->tls());
  CHECK(e->target() == "localhost:2379");
  e = util::parse_endpoint("http://[::1]:2379");
  REQUIRE(e);
  CHECK(e->host == "::1");
  CHECK(e->target() == "[::1]:2379");
}

TEST_CASE("endpoints: everything else is refused", "[util]") {
  for (const char* bad :
       {"127.0.0.1:2379", "http://127.0.0.1", "http://:2379", "http://h:0", "http://h:65536",
        "http://h:12x", "unix:///run/etcd.sock", "https://h:2379/v3", ""}) {
    INFO(bad);
    CHECK_FALSE(util::parse_endpoint(bad));
  }
}

TEST_CASE("prometheus text: samples, labels, comments, odd lines", "[metrics]") {
  const auto parsed = net::parse_prometheus_text(
      "# HELP etcd_server_quota_backend_bytes Current backend storage quota size in bytes.\n"
      "# TYPE etcd_server_quota_backend_bytes gauge\n"
      "etcd_server_quota_backend_bytes 2.147483648e+09\n"
      "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.001\"} 10\n"
      "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"} 12\n"
      "etcd_network_peer_round_trip_time_seconds_bucket{To=\"8211f1d0f64f3269\",le=\"0.0001\"} 0 "
      "1700000000\n"
      "weird{unterminated=\"x} 1\n"
      "novalue\n"
      "escaped{path=\"a\\\"b\"} 3\r\n");
  CHECK(parsed.samples.size() == 5);
  CHECK(parsed.malformed_lines == 2);
  CHECK(parsed.value("etcd_server_quota_backend_bytes") == Approx(2147483648.0));
  CHECK(parsed.value("etcd_disk_wal_fsync_duration_seconds_bucket", {{"le", "0.001"}}) ==
        Approx(10));
  CHECK(parsed.value("etcd_disk_wal_fsync_duration_seconds_bucket", {{"le", "+Inf"}}) ==
        Approx(12));
  CHECK(parsed.value("etcd_network_peer_round_trip_time_seconds_bucket",
                     {{"To", "8211f1d0f64f3269"}}) == Approx(0));
  CHECK(parsed.value("escaped", {{"path", "a\"b"}}) == Approx(3));
  CHECK_FALSE(parsed.value("missing"));
}

TEST_CASE("urls: one parser for endpoints, metrics URLs and etcd's flags", "[util]") {
  auto u = util::parse_http_url("http://127.0.0.1:2381/metrics");
  REQUIRE(u);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == "2381");
  CHECK(u->path == "/metrics");
  CHECK(u->target() == "127.0.0.1:2381");
  u = util::parse_http_url("https://etcd.example");
  REQUIRE(u);
  CHECK(u->port.empty());
  CHECK(u->target() == "etcd.example:443");
  u = util::parse_url("unix://localhost:2379");
  REQUIRE(u);
  CHECK(u->scheme == "unix");
  CHECK_FALSE(util::parse_http_url("unix://localhost:2379"));
  for (const char* bad : {"http://::1:2379", "http://[::1", "http://[]:1", "http://h:", "//h:1",
                          "http://h:1:2", "ht tp://h:1"}) {
    INFO(bad);
    CHECK_FALSE(util::parse_url(bad));
  }
}
