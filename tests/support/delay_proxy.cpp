#include "support/delay_proxy.hpp"

#include <atomic>
#include <string>

namespace etcd_warden::testing {

namespace {

using asio::ip::tcp;

// Copies `from` to `to` until either side closes; the first chunk waits
// `delay` first. Closing both sockets at the end ends the other direction too.
Task<void> pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to,
                std::chrono::milliseconds delay) {
  try {
    char buf[16384];
    bool first = true;
    for (;;) {
      auto read = from->async_read_some(asio::buffer(buf), asio::use_awaitable);
      const std::size_t n = co_await std::move(read);
      if (first && delay.count() > 0) {
        asio::steady_timer timer(from->get_executor(), delay);
        auto wait = timer.async_wait(asio::use_awaitable);
        co_await std::move(wait);
      }
      first = false;
      auto write = asio::async_write(*to, asio::buffer(buf, n), asio::use_awaitable);
      co_await std::move(write);
    }
  } catch (const std::exception&) {
  }
  boost::system::error_code ignored;
  from->close(ignored);
  to->close(ignored);
}

Task<void> accept_loop(tcp::acceptor& acceptor, std::uint16_t upstream,
                       std::chrono::milliseconds delay, std::shared_ptr<std::atomic<int>> count) {
  for (;;) {
    auto accept = acceptor.async_accept(asio::use_awaitable);
    auto client = std::make_shared<tcp::socket>(co_await std::move(accept));
    ++*count;
    auto server = std::make_shared<tcp::socket>(acceptor.get_executor());
    boost::system::error_code ec;
    server->connect({asio::ip::make_address("127.0.0.1"), upstream}, ec);  // loopback: instant
    if (ec) continue;
    asio::co_spawn(acceptor.get_executor(), pump(client, server, std::chrono::milliseconds(0)),
                   asio::detached);
    asio::co_spawn(acceptor.get_executor(), pump(server, client, delay), asio::detached);
  }
}

}  // namespace

DelayProxy::DelayProxy(std::uint16_t upstream_port, std::chrono::milliseconds first_bytes_delay)
    : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}),
      upstream_port_(upstream_port),
      delay_(first_bytes_delay) {
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(io_, accept_loop(acceptor_, upstream_port_, delay_, connections_), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

DelayProxy::~DelayProxy() {
  io_.stop();
  thread_.join();
}

}  // namespace etcd_warden::testing
