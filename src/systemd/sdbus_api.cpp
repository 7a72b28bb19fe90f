#include "etcd_warden/systemd/sdbus_api.hpp"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

#include "etcd_warden/util/utf8.hpp"

namespace etcd_warden::systemd {

#if ETCD_WARDEN_SDBUS_2

std::unique_ptr<sdbus::IProxy> make_proxy(sdbus::IConnection& connection,
                                          const std::string& destination, const std::string& path) {
  return sdbus::createProxy(connection, sdbus::ServiceName(destination), sdbus::ObjectPath(path));
}

std::unique_ptr<sdbus::IObject> make_object(sdbus::IConnection& connection,
                                            const std::string& path) {
  return sdbus::createObject(connection, sdbus::ObjectPath(path));
}

void request_name(sdbus::IConnection& connection, const std::string& name) {
  connection.requestName(sdbus::ServiceName(name));
}

sdbus::Error bus_error(const std::string& name, const std::string& message) {
  return {sdbus::Error::Name(name), util::valid_utf8(message)};
}

bool process_pending(sdbus::IConnection& connection) {
  return connection.processPendingEvent();
}

PollWants poll_wants(const sdbus::IConnection& connection) {
  const auto data = connection.getEventLoopPollData();
  PollWants out{data.fd, (data.events & POLLOUT) != 0, data.eventFd, std::nullopt};
  const auto relative = data.getRelativeTimeout();
  if (relative != std::chrono::microseconds::max()) out.timeout = relative;
  return out;
}

sdbus::Slot add_match(sdbus::IConnection& connection, const std::string& rule,
                      std::function<void(sdbus::Message&)> handler) {
  return connection.addMatch(
      rule, [handler = std::move(handler)](sdbus::Message message) { handler(message); },
      sdbus::return_slot);
}

std::string current_sender(const sdbus::IObject& object) {
  const char* sender = object.getCurrentlyProcessedMessage().getSender();
  return sender != nullptr ? sender : "?";
}

void VTable::finish() {
  for (auto& interface : interfaces_) {
    object_.addVTable(std::move(interface.items)).forInterface(interface.name);
  }
  interfaces_.clear();
}

#else  // sdbus-c++ 1.x

std::unique_ptr<sdbus::IProxy> make_proxy(sdbus::IConnection& connection,
                                          const std::string& destination, const std::string& path) {
  return sdbus::createProxy(connection, destination, path);
}

std::unique_ptr<sdbus::IObject> make_object(sdbus::IConnection& connection,
                                            const std::string& path) {
  return sdbus::createObject(connection, path);
}

void request_name(sdbus::IConnection& connection, const std::string& name) {
  connection.requestName(name);
}

sdbus::Error bus_error(const std::string& name, const std::string& message) {
  return {name, util::valid_utf8(message)};
}

bool process_pending(sdbus::IConnection& connection) {
  return connection.processPendingRequest();
}

PollWants poll_wants(const sdbus::IConnection& connection) {
  const auto data = connection.getEventLoopPollData();
  return {data.fd, (data.events & POLLOUT) != 0, -1, data.getRelativeTimeout()};
}

sdbus::Slot add_match(sdbus::IConnection& connection, const std::string& rule,
                      std::function<void(sdbus::Message&)> handler) {
  return connection.addMatch(rule, std::move(handler));
}

std::string current_sender(const sdbus::IObject& object) {
  const sdbus::Message* message = object.getCurrentlyProcessedMessage();
  return message != nullptr ? message->getSender() : "?";
}

void VTable::finish() {
  object_.finishRegistration();
  interfaces_.clear();
}

#endif

void wait_for_event(const sdbus::IConnection& connection) {
  const auto wants = poll_wants(connection);
  std::array<pollfd, 2> fds{
      {{wants.fd, static_cast<short>(POLLIN | (wants.write ? POLLOUT : 0)), 0},
       {wants.event_fd, POLLIN, 0}}};
  int timeout_ms = -1;
  if (wants.timeout) {
    // Rounded up: a wait that ends before the deadline would only spin.
    timeout_ms = static_cast<int>(std::min<std::int64_t>((wants.timeout->count() + 999) / 1000,
                                                         std::numeric_limits<int>::max()));
  }
  ::poll(fds.data(), wants.event_fd >= 0 ? 2 : 1, timeout_ms);
}

}  // namespace etcd_warden::systemd
