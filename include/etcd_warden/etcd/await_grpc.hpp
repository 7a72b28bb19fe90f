// Bridges gRPC's callback API to Asio coroutines. gRPC runs the callback on
// one of its own threads; we only post the result onto the loop's executor,
// so every line of our logic stays on the loop thread. The posted handler
// keeps the loop's work count up, so the loop cannot finish while a call is
// in flight (shutdown cancels calls, then drains).
#pragma once

#include <grpcpp/support/status.h>

#include <functional>
#include <memory>

#include "etcd_warden/asio.hpp"

namespace etcd_warden::etcd {

// `start(done)` begins the call and arranges for done(status) to be called
// exactly once, on any thread.
//
// `keep_alive` is what the call uses (its ClientContext, request, answer):
// `done` owns it until gRPC calls it, then hands it, with the coroutine's
// handler, to the loop, so it is released there and never on gRPC's thread.
// That matters: a ClientContext holds a reference to its channel, and when the
// channel's last reference goes on one of the threads of gRPC's callback
// queue, the channel's destructor joins that very thread (gRPC 1.51: the join
// fails with EDEADLK unnoticed and the queue is freed twice; ASan caught it
// after a short-lived `etcd-warden job` had already dropped its Client).
template <class Start>
Task<grpc::Status> await_grpc(const asio::any_io_executor& executor,
                              std::shared_ptr<void> keep_alive, Start start) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(grpc::Status)>(
      [executor, keep_alive = std::move(keep_alive)](auto handler, Start begin) mutable {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto tracked = asio::prefer(executor, asio::execution::outstanding_work.tracked);
        std::function<void(grpc::Status)> done =
            [shared = std::move(shared), tracked = std::move(tracked),
             keep = std::move(keep_alive)](grpc::Status status) mutable {
              // Moved out, so that whatever gRPC's thread destroys holds nothing.
              auto on_loop = tracked;
              asio::post(
                  on_loop,
                  [shared = std::move(shared), keep = std::move(keep), tracked = std::move(tracked),
                   status = std::move(status)]() mutable { (*shared)(std::move(status)); });
            };
        begin(std::move(done));
      },
      asio::use_awaitable, std::move(start));
}

}  // namespace etcd_warden::etcd
