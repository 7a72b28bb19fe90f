// etcd::stream_snapshot against a real member while Client::cancel_all() (what
// SIGTERM does) fires on every turn of the loop: each stream ends, cancelled
// or complete, and cancel_all never reaches the call state of a stream that
// has already ended. That moment (the stream done on gRPC's or the pool's
// thread, its coroutine not yet resumed on the loop) is the one this test
// hits over and over; under AddressSanitizer a use-after-free there is a
// report, not luck.
#include <catch2/catch.hpp>

#include <memory>

#include "etcd_warden/etcd/snapshot_stream.hpp"
#include "support/etcd_cluster.hpp"

using namespace etcd_warden;
using namespace etcd_warden::testing;
using namespace std::chrono_literals;

namespace {

// Waits `after`, then calls cancel_all() once per turn of the loop until the
// stream's coroutine says it is back.
Task<void> cancel_until_done(std::shared_ptr<etcd::Client> client, std::shared_ptr<bool> done,
                             std::chrono::microseconds after) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, after);
  auto wait = timer.async_wait(asio::use_awaitable);
  co_await std::move(wait);
  while (!*done) {
    client->cancel_all();
    auto turn = asio::post(executor, asio::use_awaitable);
    co_await std::move(turn);
  }
}

}  // namespace

TEST_CASE("snapshot stream: cancel_all racing the end of many streams", "[etcd][snapshot]") {
  EtcdCluster cluster({.members = 1});
  for (int i = 0; i < 20; ++i) cluster.put("/k/" + std::to_string(i), std::string(4000, 'x'));
  const std::string url = cluster.member(0).client_url;

  asio::io_context io;
  asio::thread_pool pool(2);
  config::Etcd cfg;
  cfg.endpoints = {url};
  cfg.request_timeout = 5s;
  auto made = etcd::Client::create(cfg, io.get_executor());
  REQUIRE(made.ok());
  auto client = *made;

  constexpr int kStreams = 300;
  struct Seen {
    int ended = 0, complete = 0, cancelled = 0;
    std::string unexpected;  // the first error that is neither
  } seen;
  auto body = [&]() -> Task<void> {
    for (int i = 0; i < kStreams; ++i) {
      auto done = std::make_shared<bool>(false);
      // From "at once" to "about when a small snapshot ends", so that both
      // cancelled and complete streams meet a cancel_all right at their end.
      const auto after = std::chrono::microseconds(150 * (i % 16));
      asio::co_spawn(io, cancel_until_done(client, done, after), asio::detached);
      auto op = etcd::stream_snapshot(*client, url, 10s, pool,
                                      [](std::span<const std::byte>) { return util::ok(); });
      auto r = co_await std::move(op);
      *done = true;
      ++seen.ended;
      if (r.ok()) {
        ++seen.complete;
      } else if (r.error && r.error->code == grpc::StatusCode::CANCELLED) {
        ++seen.cancelled;
      } else if (seen.unexpected.empty()) {
        seen.unexpected = r.error ? r.error->to_string() : r.sink_error;
      }
    }
  };
  asio::co_spawn(io, body(), asio::detached);
  io.run();
  pool.join();
  INFO("complete=" << seen.complete << " cancelled=" << seen.cancelled);
  CHECK(seen.unexpected == "");
  CHECK(seen.ended == kStreams);
  CHECK(seen.cancelled > 0);
  CHECK(client->in_flight() == 0);
}
