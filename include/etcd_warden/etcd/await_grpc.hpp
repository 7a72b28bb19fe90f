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
template <class Start>
Task<grpc::Status> await_grpc(const asio::any_io_executor& executor, Start start) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(grpc::Status)>(
      [executor](auto handler, Start begin) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto tracked = asio::prefer(executor, asio::execution::outstanding_work.tracked);
        std::function<void(grpc::Status)> done = [shared, tracked](grpc::Status status) {
          asio::post(tracked, [shared, status = std::move(status)]() mutable {
            (*shared)(std::move(status));
          });
        };
        begin(std::move(done));
      },
      asio::use_awaitable, std::move(start));
}

}  // namespace etcd_warden::etcd
