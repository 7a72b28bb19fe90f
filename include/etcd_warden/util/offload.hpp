// Runs blocking work (file writes, fsync, compression, statvfs on a possibly
// slow NFS mount) on the blocking pool and resumes the calling coroutine on the
// loop with its result. The loop's work count stays up meanwhile, so the loop
// cannot finish under a running task.
#pragma once

#include <type_traits>

#include "etcd_warden/asio.hpp"

namespace etcd_warden {

template <class F>
Task<std::invoke_result_t<F>> offload(asio::thread_pool& pool, asio::any_io_executor loop, F work) {
  using R = std::invoke_result_t<F>;
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(
      [&pool, loop](auto handler, F fn) {
        auto tracked = asio::prefer(loop, asio::execution::outstanding_work.tracked);
        asio::post(pool, [handler = std::move(handler), fn = std::move(fn), tracked]() mutable {
          R result = fn();
          asio::post(tracked, [handler = std::move(handler), result = std::move(result)]() mutable {
            handler(std::move(result));
          });
        });
      },
      asio::use_awaitable, std::move(work));
}

}  // namespace etcd_warden
