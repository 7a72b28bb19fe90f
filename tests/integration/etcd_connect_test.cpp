// The gRPC channel's connect deadline is etcd.dial_timeout: an etcd whose
// first bytes come 0.8 s late (a slow link, a loaded host) is reached, not
// reported down; one slower than dial_timeout is a clear "unreachable".
#include <catch2/catch.hpp>

#include "etcd_warden/etcd/client.hpp"
#include "support/delay_proxy.hpp"
#include "support/etcd_cluster.hpp"

using namespace etcd_warden;
using namespace etcd_warden::testing;
using namespace std::chrono_literals;

namespace {

etcd::Result<etcdserverpb::StatusResponse> status_through(const std::string& url,
                                                          config::Duration dial) {
  asio::io_context io;
  config::Etcd cfg;
  cfg.endpoints = {url};
  cfg.dial_timeout = dial;
  cfg.request_timeout = 5s;
  auto made = etcd::Client::create(cfg, io.get_executor());
  REQUIRE(made.ok());
  auto client = *made;
  std::optional<etcd::Result<etcdserverpb::StatusResponse>> out;
  auto body = [&]() -> Task<void> {
    auto op = client->status();
    out = co_await std::move(op);
  };
  asio::co_spawn(io, body(), asio::detached);
  io.run();
  REQUIRE(out);
  return *std::move(out);
}

}  // namespace

TEST_CASE("etcd client: a member whose first bytes come 0.8 s late is reached", "[etcd]") {
  EtcdCluster cluster({.members = 1});
  DelayProxy slow(cluster.member(0).client_port, 800ms);

  const auto r = status_through(slow.url(), 3s);
  INFO((r ? std::string("ok") : r.error().to_string()));
  REQUIRE(r);
  CHECK(r->header().member_id() != 0);
  CHECK(slow.connections() >= 1);
}

TEST_CASE("etcd client: first bytes later than dial_timeout are 'unreachable'", "[etcd]") {
  EtcdCluster cluster({.members = 1});
  DelayProxy slower(cluster.member(0).client_port, 3000ms);

  const auto r = status_through(slower.url(), 1s);
  REQUIRE_FALSE(r);
  INFO(r.error().to_string());
  CHECK(r.error().code == grpc::StatusCode::UNAVAILABLE);
}
