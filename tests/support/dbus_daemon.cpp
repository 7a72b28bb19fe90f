#include "support/dbus_daemon.hpp"

#include <stdexcept>

#include "support/wait.hpp"

namespace etcd_warden::testing {

namespace {

constexpr const char* kHeader =
    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n";

// Everyone may own and call anything.
std::string open_config(const std::string& listen) {
  return std::string(kHeader) +
         "<busconfig>\n"
         "  <type>session</type>\n"
         "  <listen>" +
         listen +
         "</listen>\n"
         "  <auth>EXTERNAL</auth>\n"
         "  <policy context=\"default\">\n"
         "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
         "    <allow eavesdrop=\"true\"/>\n"
         "    <allow own=\"*\"/>\n"
         "  </policy>\n"
         "</busconfig>\n";
}

// The default policy of Debian's /usr/share/dbus-1/system.conf: anyone may
// connect; owning names and calling methods needs a hole punched by an
// included file.
std::string system_like_config(const std::string& listen,
                               const std::vector<std::filesystem::path>& includes) {
  std::string out = std::string(kHeader) +
                    "<busconfig>\n"
                    "  <type>system</type>\n"
                    "  <listen>" +
                    listen +
                    "</listen>\n"
                    "  <auth>EXTERNAL</auth>\n"
                    "  <policy context=\"default\">\n"
                    "    <allow user=\"*\"/>\n"
                    "    <deny own=\"*\"/>\n"
                    "    <deny send_type=\"method_call\"/>\n"
                    "    <allow send_type=\"signal\"/>\n"
                    "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
                    "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
                    "    <allow receive_type=\"method_call\"/>\n"
                    "    <allow receive_type=\"method_return\"/>\n"
                    "    <allow receive_type=\"error\"/>\n"
                    "    <allow receive_type=\"signal\"/>\n"
                    "    <allow send_destination=\"org.freedesktop.DBus\"\n"
                    "           send_interface=\"org.freedesktop.DBus\"/>\n"
                    "    <allow send_destination=\"org.freedesktop.DBus\"\n"
                    "           send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
                    "    <allow send_destination=\"org.freedesktop.DBus\"\n"
                    "           send_interface=\"org.freedesktop.DBus.Properties\"/>\n"
                    "    <deny send_destination=\"org.freedesktop.DBus\"\n"
                    "          send_interface=\"org.freedesktop.DBus\"\n"
                    "          send_member=\"UpdateActivationEnvironment\"/>\n"
                    "  </policy>\n";
  for (const auto& file : includes) out += "  <include>" + file.string() + "</include>\n";
  return out + "</busconfig>\n";
}

}  // namespace

DbusDaemon::DbusDaemon(DbusDaemonOptions options) {
  // The temp dir's path is unique, so it names the abstract socket too.
  address_ = "unix:abstract=" + (dir_ / "bus").string();
  const auto config = dir_ / "bus.conf";
  write_file(config, options.policy == DbusDaemonOptions::Policy::open
                         ? open_config(address_)
                         : system_like_config(address_, options.includes));
  ProcessOptions po;
  po.argv = {"/usr/bin/dbus-daemon",
             "--config-file=" + config.string(),
             "--nofork",
             "--nopidfile",
             "--nosyslog",
             "--print-address=1"};
  po.unset_env = {"DBUS_*"};
  po.log_path = dir_ / "dbus-daemon.log";
  process_.emplace(std::move(po));
  const bool ready = wait_until(
      [this] {
        return process_->log().find("unix:abstract=") != std::string::npos || !process_->running();
      },
      options.start_deadline);
  if (!ready || !process_->running()) {
    throw std::runtime_error("dbus-daemon did not start: " + process_->log_tail());
  }
}

}  // namespace etcd_warden::testing
