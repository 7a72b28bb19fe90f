// offload(): blocking work on the pool, its result or its exception back in
// the calling coroutine on the loop, and the loop never taken down by it.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <thread>

#include "etcd_warden/util/offload.hpp"

using namespace etcd_warden;

TEST_CASE("offload: the result comes back on the loop thread", "[util][offload]") {
  asio::io_context io;
  asio::thread_pool pool(1);
  std::thread::id worker, resumed;
  int value = 0;
  auto body = [&]() -> Task<void> {
    auto op = offload(pool, io.get_executor(), [&worker] {
      worker = std::this_thread::get_id();
      return 42;
    });
    value = co_await std::move(op);
    resumed = std::this_thread::get_id();
  };
  asio::co_spawn(io, body(), asio::detached);
  io.run();
  pool.join();
  CHECK(value == 42);
  CHECK(worker != std::this_thread::get_id());
  CHECK(resumed == std::this_thread::get_id());
}

TEST_CASE("offload: a throw on the pool reaches the caller, the loop goes on", "[util][offload]") {
  asio::io_context io;
  asio::thread_pool pool(1);
  std::string caught;
  bool after = false;
  auto body = [&]() -> Task<void> {
    try {
      auto op = offload(pool, io.get_executor(), []() -> int {
        throw std::runtime_error("cannot remove /x/.snap.partial: Permission denied");
      });
      co_await std::move(op);
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    // The pool thread survived: it runs the next piece of work too.
    auto next = offload(pool, io.get_executor(), [] { return std::string("still here"); });
    after = co_await std::move(next) == "still here";
  };
  asio::co_spawn(io, body(), asio::detached);
  io.run();
  pool.join();
  CHECK(caught == "cannot remove /x/.snap.partial: Permission denied");
  CHECK(after);
}
