// await_grpc(): a call's state is released on the loop thread, never on the
// thread that completed it. gRPC completes calls on its callback queue's
// threads, and a ClientContext released there can take its channel's last
// reference with it, whose destructor then joins that same thread (gRPC 1.51
// frees its queue twice; ASan caught it in `etcd-warden job compact`).
#include <catch2/catch.hpp>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "etcd_warden/etcd/await_grpc.hpp"

using namespace etcd_warden;

namespace {

// Records the thread that destroys it.
struct Witness {
  std::mutex* mutex;
  std::thread::id* released_on;
  ~Witness() {
    std::lock_guard lock(*mutex);
    *released_on = std::this_thread::get_id();
  }
};

}  // namespace

TEST_CASE("await_grpc: the call's state goes on the loop, not on the completing thread",
          "[etcd][await_grpc]") {
  asio::io_context io;
  std::mutex mutex;
  std::condition_variable cv;
  std::thread::id released_on;
  std::thread completer;
  grpc::Status got;
  bool resumed = false;

  auto body = [&]() -> Task<void> {
    auto keep = std::make_shared<Witness>(&mutex, &released_on);
    // As gRPC does: the callback runs on another thread, and that thread
    // destroys it afterwards; here only once the coroutine is back on the
    // loop, so whatever the callback still held would go on that thread.
    auto start = [&](std::function<void(grpc::Status)> done) {
      completer = std::thread([&, done = std::move(done)]() mutable {
        done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "gone"));
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return resumed; });
        lock.unlock();
        auto last = std::move(done);  // destroyed here, on this thread
      });
    };
    auto op = etcd::await_grpc(io.get_executor(), std::move(keep), std::move(start));
    got = co_await std::move(op);
    std::lock_guard lock(mutex);
    resumed = true;
    cv.notify_all();
  };
  asio::co_spawn(io, body(), asio::detached);
  io.run();
  completer.join();

  CHECK(got.error_code() == grpc::StatusCode::UNAVAILABLE);
  std::lock_guard lock(mutex);
  CHECK(resumed);
  CHECK(released_on == std::this_thread::get_id());
}
