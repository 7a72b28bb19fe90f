// Runs blocking work (file writes, fsync, compression, statvfs on a possibly
// slow NFS mount) on the blocking pool and resumes the calling coroutine on the
// loop with its result. The loop's work count stays up meanwhile, so the loop
// cannot finish under a running task. An exception thrown by the work is
// caught on the pool and rethrown in the calling coroutine: it must never
// unwind a pool thread, which would terminate the daemon.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>

#include "etcd_warden/asio.hpp"

namespace etcd_warden {

template <class F>
Task<std::invoke_result_t<F>> offload(asio::thread_pool& pool, asio::any_io_executor loop, F work) {
  using R = std::invoke_result_t<F>;
  auto op = asio::async_initiate<const asio::use_awaitable_t<>&,
                                 void(std::exception_ptr, std::optional<R>)>(
      [&pool, loop](auto handler, F fn) {
        auto tracked = asio::prefer(loop, asio::execution::outstanding_work.tracked);
        asio::post(pool, [handler = std::move(handler), fn = std::move(fn), tracked]() mutable {
          std::exception_ptr error;
          std::optional<R> result;
          try {
            result.emplace(fn());
          } catch (...) {
            error = std::current_exception();
          }
          asio::post(tracked,
                     [handler = std::move(handler), error, result = std::move(result)]() mutable {
                       handler(error, std::move(result));
                     });
        });
      },
      asio::use_awaitable, std::move(work));
  std::optional<R> done = co_await std::move(op);  // rethrows the work's exception
  co_return std::move(*done);
}

}  // namespace etcd_warden
