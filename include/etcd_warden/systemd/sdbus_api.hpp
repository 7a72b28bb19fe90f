// The parts of sdbus-c++ that changed between 1.x (Debian 12: 1.2) and 2.x
// (Debian 13: 2.1), behind one spelling, so the daemon, `ctl` and the tests
// build against either. 2.x made names strong types (ServiceName, ObjectPath,
// InterfaceName, Error::Name, all explicit), replaced registerMethod()...
// finishRegistration() by vtables, renamed processPendingRequest(), passes
// matched messages by value, and adds an event fd an outside loop must watch.
// Everything not listed here is spelled the same in both.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// Only 2.x has vtable items.
#if __has_include(<sdbus-c++/VTableItems.h>)
#define ETCD_WARDEN_SDBUS_2 1
#else
#define ETCD_WARDEN_SDBUS_2 0
#endif

namespace etcd_warden::systemd {

std::unique_ptr<sdbus::IProxy> make_proxy(sdbus::IConnection& connection,
                                          const std::string& destination, const std::string& path);
std::unique_ptr<sdbus::IObject> make_object(sdbus::IConnection& connection,
                                            const std::string& path);
void request_name(sdbus::IConnection& connection, const std::string& name);
// The message is made valid UTF-8 (an error reply is a D-Bus string too).
sdbus::Error bus_error(const std::string& name, const std::string& message);

// Handles one pending message (or timeout); false when nothing was pending.
bool process_pending(sdbus::IConnection& connection);

// What an outside event loop waits for before calling process_pending().
struct PollWants {
  int fd = -1;         // the bus socket: always readable-interest
  bool write = false;  // ... and writable-interest (output queued)
  int event_fd = -1;   // 2.x: readable when queued messages wait (-1: none)
  std::optional<std::chrono::microseconds> timeout;  // from now; none: no deadline
};
PollWants poll_wants(const sdbus::IConnection& connection);
// Blocks in poll(2) until one of those is ready or the timeout passes: for a
// client's own loop (`ctl`), never on the daemon's event loop.
void wait_for_event(const sdbus::IConnection& connection);

// A match whose handler runs while the returned slot lives.
sdbus::Slot add_match(sdbus::IConnection& connection, const std::string& rule,
                      std::function<void(sdbus::Message&)> handler);

// The sender of the call being handled (only inside a method handler).
std::string current_sender(const sdbus::IObject& object);

// Methods, signals and properties of one object, declared interface by
// interface and registered together by finish():
//   VTable(object, "io.x.A").method("Get", {}, {"out"}, f).signal<int>("Done", {"n"}).finish();
class VTable {
 public:
  VTable(sdbus::IObject& object, std::string interface) : object_(object) {
    on(std::move(interface));
  }

  // The items that follow belong to this interface.
  VTable& on(std::string interface) {
    interfaces_.emplace_back();
    interfaces_.back().name = std::move(interface);
    return *this;
  }

  template <class Handler>
  VTable& method(const std::string& name, std::vector<std::string> in, std::vector<std::string> out,
                 Handler&& handler) {
#if ETCD_WARDEN_SDBUS_2
    items().push_back(sdbus::registerMethod(name)
                          .withInputParamNames(std::move(in))
                          .withOutputParamNames(std::move(out))
                          .implementedAs(std::forward<Handler>(handler)));
#else
    object_.registerMethod(name)
        .onInterface(interface())
        .withInputParamNames(std::move(in))
        .withOutputParamNames(std::move(out))
        .implementedAs(std::forward<Handler>(handler));
#endif
    return *this;
  }

  template <class... Args>
  VTable& signal(const std::string& name, std::vector<std::string> parameter_names) {
#if ETCD_WARDEN_SDBUS_2
    items().push_back(
        sdbus::registerSignal(name).withParameters<Args...>(std::move(parameter_names)));
#else
    object_.registerSignal(name)
        .onInterface(interface())
        .template withParameters<Args...>(std::move(parameter_names));
#endif
    return *this;
  }

  template <class Getter>
  VTable& property(const std::string& name, Getter&& getter) {
#if ETCD_WARDEN_SDBUS_2
    items().push_back(sdbus::registerProperty(name).withGetter(std::forward<Getter>(getter)));
#else
    object_.registerProperty(name)
        .onInterface(interface())
        .withGetter(std::forward<Getter>(getter));
#endif
    return *this;
  }

  // Exports everything declared; the object answers from then on.
  void finish();

 private:
  struct Interface {
    std::string name;
#if ETCD_WARDEN_SDBUS_2
    std::vector<sdbus::VTableItem> items;
#endif
  };
  const std::string& interface() const {
    return interfaces_.back().name;
  }
#if ETCD_WARDEN_SDBUS_2
  std::vector<sdbus::VTableItem>& items() {
    return interfaces_.back().items;
  }
#endif

  sdbus::IObject& object_;
  std::vector<Interface> interfaces_;
};

}  // namespace etcd_warden::systemd
