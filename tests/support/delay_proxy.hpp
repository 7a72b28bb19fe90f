// A TCP proxy on 127.0.0.1 for tests of slow networks: each connection is
// forwarded to `upstream`, but the upstream's first bytes reach the client only
// `first_bytes_delay` after they arrived (an etcd on a slow or congested link,
// whose HTTP/2 preface comes late). Later bytes, and everything the client
// sends, pass at once. It runs on its own thread until destroyed.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include "etcd_warden/asio.hpp"

namespace etcd_warden::testing {

class DelayProxy {
 public:
  DelayProxy(std::uint16_t upstream_port, std::chrono::milliseconds first_bytes_delay);
  ~DelayProxy();
  DelayProxy(const DelayProxy&) = delete;
  DelayProxy& operator=(const DelayProxy&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return *connections_; }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::uint16_t upstream_port_;
  std::chrono::milliseconds delay_;
  std::uint16_t port_ = 0;
  std::shared_ptr<std::atomic<int>> connections_ = std::make_shared<std::atomic<int>>(0);
  std::thread thread_;
};

}  // namespace etcd_warden::testing
