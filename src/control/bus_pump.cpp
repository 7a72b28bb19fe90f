#include "bus_pump.hpp"

#include "etcd_warden/systemd/sdbus_api.hpp"

namespace etcd_warden::control {

namespace {

// Messages handled in one go before the loop gets a turn (timers, jobs,
// the watchdog); the rest follow in a posted continuation.
constexpr int kBatch = 32;

}  // namespace

BusPump::BusPump(asio::io_context& io, std::unique_ptr<sdbus::IConnection> connection,
                 std::function<void(const std::string&)> on_lost)
    : io_(io),
      connection_(std::move(connection)),
      on_lost_(std::move(on_lost)),
      fd_(io),
      event_fd_(io),
      timer_(io) {}

BusPump::~BusPump() {
  close();
}

void BusPump::start() {
  asio::post(io_, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || !self->connection_) return;
    try {
      const auto wants = systemd::poll_wants(*self->connection_);
      self->fd_.assign(wants.fd);
      if (wants.event_fd >= 0) self->event_fd_.assign(wants.event_fd);
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
    while (systemd::process_pending(*connection_)) {
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
  const auto wants = systemd::poll_wants(*connection_);
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
  if (wants.write && !write_armed_) {
    write_armed_ = true;
    fd_.async_wait(asio::posix::stream_descriptor::wait_write, on_ready(&BusPump::write_armed_));
  }
  if (event_fd_.is_open() && !event_armed_) {
    event_armed_ = true;
    event_fd_.async_wait(asio::posix::stream_descriptor::wait_read,
                         on_ready(&BusPump::event_armed_));
  }
  // Re-arming replaces the previous deadline; its wait ends as aborted.
  if (wants.timeout) {
    timer_.expires_after(
        std::max<std::chrono::microseconds>(*wants.timeout, std::chrono::milliseconds(1)));
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
  for (auto* fd : {&fd_, &event_fd_}) {
    fd->cancel(ignored);
    if (fd->is_open()) fd->release();  // sd-bus's to close
  }
  timer_.cancel();
  connection_.reset();  // flushes and closes; the bus drops our name
}

}  // namespace etcd_warden::control
