// systemd's D-Bus API (org.freedesktop.systemd1(5)): Manager.LoadUnit gives
// the unit's object path also for units systemd has not loaded yet (GetUnit
// fails for those), then Properties.Get reads what we need. Properties.Get
// is called directly rather than through sdbus-c++'s getProperty() because
// only a direct call takes a timeout.
#include "etcd_warden/systemd/unit_startup.hpp"

#include "etcd_warden/systemd/bus.hpp"
#include "etcd_warden/systemd/sdbus_api.hpp"

namespace etcd_warden::systemd {

namespace {

constexpr const char* kSystemd = "org.freedesktop.systemd1";
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManagerInterface = "org.freedesktop.systemd1.Manager";
constexpr const char* kUnitInterface = "org.freedesktop.systemd1.Unit";
constexpr const char* kServiceInterface = "org.freedesktop.systemd1.Service";
constexpr const char* kPropertiesInterface = "org.freedesktop.DBus.Properties";

// ExecStart's a(sasbttttuii): path, argv, ignore failure, start and exit
// timestamps (realtime, monotonic), pid, exit code and status.
using ExecStartEntry =
    sdbus::Struct<std::string, std::vector<std::string>, bool, std::uint64_t, std::uint64_t,
                  std::uint64_t, std::uint64_t, std::uint32_t, std::int32_t, std::int32_t>;
// EnvironmentFiles' a(sb): path, ignore if missing.
using EnvironmentFileEntry = sdbus::Struct<std::string, bool>;

std::string with_default_suffix(const std::string& unit) {
  return unit.find('.') == std::string::npos ? unit + ".service" : unit;
}

class UnitReader {
 public:
  UnitReader(sdbus::IConnection& connection, std::chrono::milliseconds timeout)
      : connection_(connection), timeout_(timeout) {}

  sdbus::ObjectPath load_unit(const std::string& unit) {
    auto manager = make_proxy(connection_, kSystemd, kManagerPath);
    sdbus::ObjectPath path;
    manager->callMethod("LoadUnit")
        .onInterface(kManagerInterface)
        .withTimeout(timeout_)
        .withArguments(unit)
        .storeResultsTo(path);
    return path;
  }

  template <class T>
  T property(const sdbus::ObjectPath& path, const char* interface, const char* name) {
    auto object = make_proxy(connection_, kSystemd, path);
    sdbus::Variant value;
    object->callMethod("Get")
        .onInterface(kPropertiesInterface)
        .withTimeout(timeout_)
        .withArguments(std::string(interface), std::string(name))
        .storeResultsTo(value);
    return value.get<T>();
  }

 private:
  sdbus::IConnection& connection_;
  std::chrono::milliseconds timeout_;
};

UnitStartup startup_of(UnitReader& reader, const sdbus::ObjectPath& path, const std::string& unit) {
  UnitStartup out;
  out.unit = unit;
  for (const auto& e :
       reader.property<std::vector<ExecStartEntry>>(path, kServiceInterface, "ExecStart")) {
    out.exec_start.push_back({e.get<0>(), e.get<1>()});
  }
  out.environment =
      reader.property<std::vector<std::string>>(path, kServiceInterface, "Environment");
  for (const auto& e : reader.property<std::vector<EnvironmentFileEntry>>(path, kServiceInterface,
                                                                          "EnvironmentFiles")) {
    out.environment_files.push_back({e.get<0>(), e.get<1>()});
  }
  return out;
}

// The usual "systemd is not here" cases read as such; anything else keeps
// the D-Bus error's own words.
std::string describe_error(const sdbus::Error& e, const std::string& bus, const std::string& unit) {
  const std::string& name = e.getName();
  const std::string where = describe_bus(bus);
  if (name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
      name == "org.freedesktop.DBus.Error.NameHasNoOwner") {
    return "systemd is not on " + where;
  }
  if (name == "org.freedesktop.systemd1.NoSuchUnit") return "systemd has no unit " + unit;
  if (name == "org.freedesktop.DBus.Error.NoReply" ||
      name == "org.freedesktop.DBus.Error.Timeout" ||
      name == "org.freedesktop.DBus.Error.TimedOut") {
    return "systemd on " + where + " did not answer in time about " + unit;
  }
  return "cannot read " + unit + " from systemd on " + where + ": " + e.getMessage() + " (" + name +
         ")";
}

}  // namespace

UnitLookup read_unit_startup(const std::string& bus, const std::string& unit_name,
                             std::chrono::milliseconds call_timeout) {
  const std::string unit = with_default_suffix(unit_name);
  UnitLookup out;
  std::unique_ptr<sdbus::IConnection> connection;
  try {
    connection = open_bus(bus);
  } catch (const sdbus::Error& e) {
    out.unavailable =
        "cannot connect to " + describe_bus(bus) + " to read " + unit + ": " + e.getMessage();
    return out;
  }
  try {
    // Also bounds any call made without an explicit timeout.
    connection->setMethodCallTimeout(call_timeout);
    UnitReader reader(*connection, call_timeout);
    const auto path = reader.load_unit(unit);
    const auto load_state = reader.property<std::string>(path, kUnitInterface, "LoadState");
    if (load_state == "not-found") {
      out.unavailable = "systemd has no unit " + unit + " (LoadState not-found)";
      return out;
    }
    if (load_state != "loaded") {  // masked, bad-setting, error: etcd cannot start from it
      out.unavailable = "systemd's unit " + unit + " is not usable (LoadState " + load_state + ")";
      return out;
    }
    out.startup = startup_of(reader, path, unit);
  } catch (const sdbus::Error& e) {
    out.unavailable = describe_error(e, bus, unit);
  }
  return out;
}

}  // namespace etcd_warden::systemd
