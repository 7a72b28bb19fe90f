// The one place that includes Boost.Asio. Boost 1.74's awaitable.hpp uses
// std::exchange without including <utility>; with GCC 12 in C++20 mode that
// fails, so <utility> must come first. Every file includes Asio through here.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

// GCC 12 pitfall (seen here under ASan as a use-after-free): a temporary with a
// non-trivial destructor inside a `co_await` full-expression (a lambda holding
// a shared_ptr, a std::string argument) can be destroyed twice. So: build the
// awaitable in its own statement and `co_await` the named local:
//     auto op = client.unary(url, ...);
//     auto result = co_await std::move(op);
namespace etcd_warden {
namespace asio = boost::asio;
template <class T = void>
using Task = asio::awaitable<T>;
}  // namespace etcd_warden
