#include "bus_pump.hpp"

#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>
#include <time.h>

#include <limits>
#include <optional>

namespace etcd_warden::control {

namespace {

// Messages handled in one go before the loop gets a turn (timers, jobs,
// the watchdog); the rest follow in a posted continuation.
constexpr int kBatch = 32;

// sd-bus gives an absolute CLOCK_MONOTONIC deadline (UINT64_MAX: none).
// Asio's steady_timer runs on the same clock, but the conversion is done here
// explicitly so it does not depend on that.
std::optional<std::chrono::microseconds> relative_timeout(std::uint64_t absolute_usec) {
  if (absolute_usec == std::numeric_limits<std::uint64_t>::max()) return std::nullopt;
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto now = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
                   static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
  return std::chrono::microseconds(absolute_usec > now ? absolute_usec - now : 0);
}

}  // namespace

BusPump::BusPump(asio::io_context& io, std::unique_ptr<sdbus::IConnection> connection,
                 std::function<void(const std::string&)> on_lost)
    : io_(io),
      connection_(std::move(connection)),
      on_lost_(std::move(on_lost)),
      fd_(io),
      timer_(io) {}

BusPump::~BusPump() {
  close();
}

void BusPump::start() {
  asio::post(io_, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || !self->connection_) return;
    try {
      self->fd_.assign(self->connection_->getEventLoopPollData().fd);
    } catch (const std::exception& e) {
      self->lost(e.what());
      return;
    }
    self->pump();
  });
}

void BusPump::pump() {
  if (!connection_) return;
  try {
    int handled = 0;
    while (connection_->processPendingRequest()) {
      if (++handled == kBatch) {
        post_pump();
        break;
      }
    }
    if (connection_) arm();
  } catch (const sdbus::Error& e) {
    lost(e.getMessage());
  }
}

void BusPump::arm() {
  const auto poll = connection_->getEventLoopPollData();
  std::weak_ptr<BusPump> weak = weak_from_this();
  auto on_ready = [weak](bool BusPump::*armed) {
    return [weak, armed](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self) return;
      self.get()->*armed = false;
      if (!ec) self->pump();
    };
  };
  if (!read_armed_) {
    read_armed_ = true;
    fd_.async_wait(asio::posix::stream_descriptor::wait_read, on_ready(&BusPump::read_armed_));
  }
  if ((poll.events & POLLOUT) != 0 && !write_armed_) {
    write_armed_ = true;
    fd_.async_wait(asio::posix::stream_descriptor::wait_write, on_ready(&BusPump::write_armed_));
  }
  // Re-arming replaces the previous deadline; its wait ends as aborted.
  if (auto timeout = relative_timeout(poll.timeout_usec)) {
    timer_.expires_after(
        std::max<std::chrono::microseconds>(*timeout, std::chrono::milliseconds(1)));
    timer_.async_wait([weak](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (self && !ec) self->pump();
    });
  } else {
    timer_.cancel();
  }
}

void BusPump::post_pump() {
  if (pump_posted_) return;
  pump_posted_ = true;
  asio::post(io_, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    self->pump_posted_ = false;
    self->pump();
  });
}

void BusPump::after_send() {
  if (!connection_) return;
  try {
    arm();
  } catch (const sdbus::Error& e) {
    lost(e.getMessage());
  }
}

void BusPump::lost(const std::string& why) {
  // Not from inside sd-bus's own dispatch: pump() has returned when we get
  // here. The owner hears first: objects on the connection must go before it.
  auto on_lost = std::move(on_lost_);
  if (on_lost) on_lost(why);
  close();
}

void BusPump::close() {
  boost::system::error_code ignored;
  fd_.cancel(ignored);
  if (fd_.is_open()) fd_.release();  // the socket is sd-bus's to close
  timer_.cancel();
  connection_.reset();  // flushes and closes; the bus drops our name
}

}  // namespace etcd_warden::control
