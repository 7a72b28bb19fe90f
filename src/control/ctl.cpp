// `etcd-warden ctl` itself: the D-Bus client. The words are parsed in
// ctl_args and the daemon's answers printed by ctl_render (both pure and
// unit-tested); here are choosing the bus, the calls, waiting for a job's
// result, and one line for every way a call can fail.
#include "etcd_warden/control/ctl.hpp"

#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ctl_args.hpp"
#include "ctl_render.hpp"
#include "etcd_warden/config/loader.hpp"
#include "etcd_warden/control/names.hpp"
#include "etcd_warden/systemd/bus.hpp"
#include "etcd_warden/systemd/sdbus_api.hpp"

namespace etcd_warden::control {

namespace {

using detail::Options;
using nlohmann::json;
using namespace std::chrono_literals;

// The daemon answers from its loop; anything slower than this is a stuck daemon.
constexpr auto kCallTimeout = 10s;

int usage_error(const std::string& message) {
  std::cerr << "etcd-warden ctl: " << message << "\n" << detail::kUsage;
  return 2;
}

// --bus, else control.bus from a config file we can read, else the system bus.
std::string choose_bus(const Options& o, const std::filesystem::path& config_path) {
  if (o.bus) return *o.bus;
  std::error_code ec;
  if (!std::filesystem::exists(config_path, ec) || ::access(config_path.c_str(), R_OK) != 0)
    return "system";
  auto loaded = config::load_file(config_path);
  if (!loaded.ok()) {
    std::cerr << "etcd-warden ctl: ignoring " << config_path.string() << " ("
              << (loaded.errors.empty() ? std::string("unreadable")
                                        : loaded.errors.front().to_string())
              << "); using the system bus\n";
    return "system";
  }
  return loaded.config->control.bus;
}

std::string not_running(const std::string& bus) {
  return "etcd-warden is not running on " + systemd::describe_bus(bus) + " (no owner of " +
         kBusName + ")";
}

// One line for every way a call can fail.
int report(const sdbus::Error& e, const std::string& bus) {
  const std::string& name = e.getName();
  if (name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
      name == "org.freedesktop.DBus.Error.NameHasNoOwner") {
    std::cerr << not_running(bus) << "\n";
  } else if (name == "org.freedesktop.DBus.Error.AccessDenied") {
    // The bus's own text is a paragraph of match rules; the policy file is what matters.
    std::cerr << "etcd-warden: permission denied: only root may run jobs, pause or resume "
                 "(D-Bus policy io.etcdwarden.Warden1.conf)\n";
  } else if (name == kErrorUnknownJob || name == kErrorAlreadyRunning ||
             name == kErrorInvalidArgs || name == kErrorFailed) {
    std::cerr << "etcd-warden: " << e.getMessage() << "\n";
  } else if (name == "org.freedesktop.DBus.Error.NoReply" ||
             name == "org.freedesktop.DBus.Error.Timeout" ||
             name == "org.freedesktop.DBus.Error.TimedOut") {
    std::cerr << "etcd-warden did not answer on " << systemd::describe_bus(bus) << " within "
              << kCallTimeout.count() << "s (" << e.getMessage() << ")\n";
  } else {
    std::cerr << "etcd-warden: " << name << ": " << e.getMessage() << "\n";
  }
  return 1;
}

class Client {
 public:
  explicit Client(std::string bus)
      : bus_(std::move(bus)),
        connection_(systemd::open_bus(bus_)),
        daemon_(systemd::make_proxy(*connection_, kBusName, kObjectPath)) {}

  const std::string& bus() const { return bus_; }
  sdbus::IConnection& connection() { return *connection_; }

  bool daemon_present() {
    auto driver =
        systemd::make_proxy(*connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    bool present = false;
    driver->callMethod("NameHasOwner")
        .onInterface("org.freedesktop.DBus")
        .withTimeout(kCallTimeout)
        .withArguments(std::string(kBusName))
        .storeResultsTo(present);
    return present;
  }

  std::string call_string(const char* method) {
    std::string out;
    daemon_->callMethod(method)
        .onInterface(kInterface)
        .withTimeout(kCallTimeout)
        .storeResultsTo(out);
    return out;
  }

  sdbus::IProxy& daemon() { return *daemon_; }

 private:
  std::string bus_;
  std::unique_ptr<sdbus::IConnection> connection_;
  std::unique_ptr<sdbus::IProxy> daemon_;
};

// Subscribes to JobFinished (and to the daemon leaving the bus) before the job
// is started, so its result cannot be missed; then waits on the connection.
int run_and_wait(Client& client, const Options& o) {
  const std::string& name = o.args.front();
  std::optional<detail::JobFinished> finished;
  bool daemon_gone = false;
  auto& connection = client.connection();
  auto on_finished =
      systemd::add_match(connection,
                         std::string("type='signal',sender='") + kBusName + "',path='" +
                             kObjectPath + "',interface='" + kInterface + "',member='JobFinished'",
                         [&](sdbus::Message& message) {
                           detail::JobFinished f;
                           message >> f.job >> f.result >> f.summary >> f.seconds;
                           if (f.job == name && !finished) finished = std::move(f);
                         });
  auto on_owner = systemd::add_match(
      connection,
      std::string("type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                  "member='NameOwnerChanged',arg0='") +
          kBusName + "'",
      [&](sdbus::Message& message) {
        std::string bus_name, old_owner, new_owner;
        message >> bus_name >> old_owner >> new_owner;
        if (new_owner.empty()) daemon_gone = true;
      });

  client.daemon()
      .callMethod("RunJob")
      .onInterface(kInterface)
      .withTimeout(kCallTimeout)
      .withArguments(name);
  if (!o.json) std::cout << "job " << name << " started; waiting for its result\n" << std::flush;

  while (!finished && !daemon_gone) {
    if (systemd::process_pending(connection)) continue;
    systemd::wait_for_event(connection);
  }
  if (!finished) {
    std::cerr << "etcd-warden stopped before job " << name << " finished\n";
    return 1;
  }
  detail::print_finished(*finished, o.json, std::cout);
  return finished->result == "failure" ? 1 : 0;
}

int execute(Client& client, const Options& o) {
  if (o.command == "status") {
    const auto text = client.call_string("GetStatusJson");
    if (o.json) {
      std::cout << text;
    } else {
      detail::print_status(json::parse(text), std::cout);
    }
    return 0;
  }
  if (o.command == "snapshots") {
    const auto text = client.call_string("ListSnapshots");
    if (o.json) {
      std::cout << text;
    } else {
      detail::print_snapshots(json::parse(text), std::cout);
    }
    return 0;
  }
  if (o.command == "run") {
    if (!o.no_wait) return run_and_wait(client, o);
    client.daemon()
        .callMethod("RunJob")
        .onInterface(kInterface)
        .withTimeout(kCallTimeout)
        .withArguments(o.args.front());
    detail::print_started(o.args.front(), o.json, std::cout);
    return 0;
  }
  if (o.command == "pause") {
    const auto pause = detail::pause_seconds(o.pause_for);
    if (!pause.seconds) {
      std::cerr << "etcd-warden ctl: " << pause.error << "\n";
      return 2;
    }
    client.daemon()
        .callMethod("Pause")
        .onInterface(kInterface)
        .withTimeout(kCallTimeout)
        .withArguments(*pause.seconds);
  } else {
    client.daemon().callMethod("Resume").onInterface(kInterface).withTimeout(kCallTimeout);
  }
  // Pause and resume answer with the state they left behind.
  detail::print_pause_state(json::parse(client.call_string("GetStatusJson")), o.json, std::cout);
  return 0;
}

}  // namespace

int run_ctl(const std::vector<std::string>& words, const std::filesystem::path& config_path) {
  const auto parsed = detail::parse(words);
  if (!parsed.options) return usage_error(parsed.error);
  const Options& options = *parsed.options;
  const std::string bus = choose_bus(options, config_path);

  std::unique_ptr<Client> client;
  try {
    client = std::make_unique<Client>(bus);
  } catch (const sdbus::Error& e) {
    std::cerr << "etcd-warden is not reachable: cannot connect to " << systemd::describe_bus(bus)
              << " (" << e.getMessage() << ")\n";
    return 1;
  }
  try {
    if (!client->daemon_present()) {
      std::cerr << not_running(bus) << "\n";
      return 1;
    }
    return execute(*client, options);
  } catch (const sdbus::Error& e) {
    return report(e, bus);
  } catch (const json::exception& e) {
    std::cerr << "etcd-warden: the daemon's answer is not the JSON expected: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace etcd_warden::control
