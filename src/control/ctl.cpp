#include "etcd_warden/control/ctl.hpp"

#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "etcd_warden/config/loader.hpp"
#include "etcd_warden/config/units.hpp"
#include "etcd_warden/control/names.hpp"
#include "etcd_warden/snapshot/sidecar.hpp"
#include "etcd_warden/status/status_board.hpp"
#include "etcd_warden/systemd/bus.hpp"
#include "etcd_warden/util/bytes.hpp"

namespace etcd_warden::control {

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The daemon answers from its loop; anything slower than this is a stuck daemon.
constexpr auto kCallTimeout = 10s;

constexpr const char* kUsage =
    "usage: etcd-warden [-c FILE] ctl COMMAND [-o table|json] [--bus ADDRESS]\n"
    "\n"
    "Talks to the running daemon over D-Bus: --bus, else the config's control.bus\n"
    "(system, session or an address), else the system bus.\n"
    "\n"
    "commands:\n"
    "  status              member, jobs, pause state\n"
    "  run NAME [--no-wait]\n"
    "                      run a job now and wait for its result (exit 1 if it failed)\n"
    "  pause [--for D]     hold scheduled jobs, until resumed or for D (e.g. 30m, 2h)\n"
    "  resume              schedule jobs again\n"
    "  snapshots           the snapshots in the daemon's snapshot directory\n"
    "\n"
    "Running jobs, pausing and resuming are for root; status and snapshots for everyone.\n";

struct Options {
  std::string command;
  std::vector<std::string> args;
  std::optional<std::string> bus;
  bool json = false;
  std::optional<std::string> pause_for;
  bool no_wait = false;
};

int usage_error(const std::string& message) {
  std::cerr << "etcd-warden ctl: " << message << "\n" << kUsage;
  return 2;
}

// nullopt: a usage error was printed.
std::optional<Options> parse(const std::vector<std::string>& words) {
  Options o;
  std::vector<std::string> positional;
  auto value = [&](std::size_t& i, const std::string& flag) -> std::optional<std::string> {
    const std::string& w = words[i];
    if (w.size() > flag.size() && w.starts_with(flag + "=")) return w.substr(flag.size() + 1);
    if (i + 1 >= words.size()) {
      usage_error(flag + " needs a value");
      return std::nullopt;
    }
    return words[++i];
  };
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    auto is = [&w](const std::string& flag) { return w == flag || w.starts_with(flag + "="); };
    if (is("--bus")) {
      auto v = value(i, "--bus");
      if (!v) return std::nullopt;
      if (v->empty()) return usage_error("--bus needs an address"), std::nullopt;
      o.bus = *v;
    } else if (is("-o") || is("--output")) {
      auto v = value(i, is("-o") ? "-o" : "--output");
      if (!v) return std::nullopt;
      if (*v != "json" && *v != "table")
        return usage_error("-o takes json or table, not '" + *v + "'"), std::nullopt;
      o.json = *v == "json";
    } else if (is("--for")) {
      auto v = value(i, "--for");
      if (!v) return std::nullopt;
      o.pause_for = *v;
    } else if (w == "--no-wait") {
      o.no_wait = true;
    } else if (w.starts_with("-") && w.size() > 1) {
      return usage_error("unknown option '" + w + "'"), std::nullopt;
    } else {
      positional.push_back(w);
    }
  }
  if (positional.empty()) return usage_error("which command?"), std::nullopt;
  o.command = positional.front();
  o.args.assign(positional.begin() + 1, positional.end());

  const std::size_t want = o.command == "run" ? 1 : 0;
  if (o.command != "status" && o.command != "run" && o.command != "pause" &&
      o.command != "resume" && o.command != "snapshots") {
    return usage_error("unknown command '" + o.command + "'"), std::nullopt;
  }
  if (o.args.size() != want) {
    return usage_error(o.command == "run" ? "run needs one job name"
                                          : o.command + " takes no arguments"),
           std::nullopt;
  }
  if (o.pause_for && o.command != "pause") return usage_error("--for is for pause"), std::nullopt;
  if (o.no_wait && o.command != "run") return usage_error("--no-wait is for run"), std::nullopt;
  return o;
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

// --- Tables ------------------------------------------------------------------

std::string str(const json& j, const char* key, const std::string& fallback = "") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::string age(double seconds) {
  return status::format_age(std::chrono::seconds(static_cast<long long>(std::llround(seconds))));
}

std::string bytes(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return "?";
  return to_string(Bytes{it->get<std::uint64_t>()});
}

// Left-aligned columns, two spaces apart; the last column is not padded.
void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
}

void print_status(const json& s, std::ostream& out) {
  std::string headline = "etcd-warden " + str(s, "version") + ": " + str(s, "health");
  if (s.value("paused", false)) {
    const auto until = str(s, "paused_until");
    headline += until.empty() ? ", PAUSED until resumed"
                              : ", PAUSED until " + until + " (" +
                                    age(s.value("paused_remaining_seconds", 0.0)) + " left)";
  }
  out << headline << "\n";

  const json& m = s.at("member");
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"endpoint", str(m, "endpoint")});
  if (!m.value("polled", false)) {
    rows.push_back({"member", "first status poll pending"});
  } else if (!m.value("up", false)) {
    rows.push_back({"member", "DOWN since " + str(m, "down_since", "?") + ": " + str(m, "error")});
  } else {
    std::string role = m.value("is_learner", false)   ? "learner"
                       : m.value("is_leader", false)  ? "leader"
                       : m.value("has_leader", false) ? "follower of " + str(m, "leader_id")
                                                      : "NO LEADER";
    rows.push_back({"member", str(m, "name", "?") + " (" + role + "), id " + str(m, "id", "?") +
                                  ", etcd " + str(m, "version") + ", " +
                                  std::to_string(m.value("member_count", 0)) + " members"});
    std::string db = bytes(m, "db_size_bytes");
    if (m.contains("quota_bytes") && m["quota_bytes"].is_number()) {
      const auto quota = m["quota_bytes"].get<double>();
      char pct[16];
      std::snprintf(pct, sizeof pct, "%.0f%%",
                    quota > 0 ? 100.0 * m.value("db_size_bytes", 0.0) / quota : 0.0);
      db += " of " + bytes(m, "quota_bytes") + " quota (" + pct + ")";
    }
    db += ", " + bytes(m, "db_in_use_bytes") + " in use";
    rows.push_back({"db", db});
    rows.push_back({"revision", std::to_string(m.value("revision", 0LL)) + ", raft index " +
                                    std::to_string(m.value("raft_index", 0ULL)) + " term " +
                                    std::to_string(m.value("raft_term", 0ULL))});
    std::string alarms;
    for (const auto& a : m.value("alarms", json::array()))
      alarms += (alarms.empty() ? "" : ", ") + str(a, "type") + " on " + str(a, "member_id");
    rows.push_back({"alarms", alarms.empty() ? "none" : alarms});
  }
  const auto problem = str(s, "config_problem");
  rows.push_back({"config", problem.empty()
                                ? "ok"
                                : "RELOAD FAILED, running the previous config: " + problem});
  const auto tuning = str(s, "tuning_alert");
  if (!tuning.empty()) rows.push_back({"tuning", tuning + " (etcd-warden job tuning)"});
  print_table(rows, out);

  out << "\n";
  std::vector<std::vector<std::string>> jobs{
      {"JOB", "ENABLED", "LAST", "AGE", "TOOK", "NEXT", "SUMMARY"}};
  for (const auto& j : s.value("jobs", json::array())) {
    const bool ran = j.contains("last_result") && j["last_result"].is_string();
    std::string next = "-";
    if (j.value("running", false)) {
      next = "running";
    } else if (j.contains("next_run_in_seconds") && j["next_run_in_seconds"].is_number()) {
      next = "in " + age(j["next_run_in_seconds"].get<double>());
    } else if (s.value("paused", false) && j.value("enabled", false)) {
      next = "paused";
    }
    char took[32] = "-";
    if (ran) std::snprintf(took, sizeof took, "%.3fs", j.value("duration_seconds", 0.0));
    jobs.push_back({str(j, "name"), j.value("enabled", false) ? "yes" : "no",
                    ran ? str(j, "last_result") : "never",
                    ran ? age(j.value("age_seconds", 0.0)) : "-", took, next, str(j, "summary")});
  }
  print_table(jobs, out);
}

void print_snapshots(const json& list, std::ostream& out) {
  if (list.empty()) {
    out << "no snapshots\n";
    return;
  }
  std::vector<std::vector<std::string>> rows{
      {"FILE", "TAKEN", "AGE", "REVISION", "SIZE", "VERIFIED"}};
  for (const auto& e : list) {
    rows.push_back({str(e, "file"), str(e, "taken_at"), age(e.value("age_seconds", 0.0)),
                    std::to_string(e.value("revision", 0LL)), bytes(e, "file_bytes"),
                    e.value("verified", false) ? "yes" : "NO: " + str(e, "problem")});
  }
  print_table(rows, out);
}

// --- Talking to the daemon -------------------------------------------------------

class Client {
 public:
  explicit Client(std::string bus)
      : bus_(std::move(bus)),
        connection_(systemd::open_bus(bus_)),
        daemon_(sdbus::createProxy(*connection_, kBusName, kObjectPath)) {}

  const std::string& bus() const { return bus_; }
  sdbus::IConnection& connection() { return *connection_; }

  bool daemon_present() {
    auto driver = sdbus::createProxy(*connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus");
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

struct Finished {
  std::string job, result, summary;
  double seconds = 0;
};

// Subscribes to JobFinished (and to the daemon leaving the bus) before the job
// is started, so its result cannot be missed; then waits on the connection.
int run_and_wait(Client& client, const Options& o) {
  const std::string& name = o.args.front();
  std::optional<Finished> finished;
  bool daemon_gone = false;
  auto& connection = client.connection();
  auto on_finished =
      connection.addMatch(std::string("type='signal',sender='") + kBusName + "',path='" +
                              kObjectPath + "',interface='" + kInterface + "',member='JobFinished'",
                          [&](sdbus::Message& message) {
                            Finished f;
                            message >> f.job >> f.result >> f.summary >> f.seconds;
                            if (f.job == name && !finished) finished = std::move(f);
                          });
  auto on_owner = connection.addMatch(
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
    if (connection.processPendingRequest()) continue;
    const auto poll_data = connection.getEventLoopPollData();
    pollfd pfd{poll_data.fd, poll_data.events, 0};
    ::poll(&pfd, 1, poll_data.getPollTimeout());
  }
  if (!finished) {
    std::cerr << "etcd-warden stopped before job " << name << " finished\n";
    return 1;
  }
  if (o.json) {
    std::cout << json{{"job", finished->job},
                      {"result", finished->result},
                      {"summary", finished->summary},
                      {"seconds", finished->seconds}}
                     .dump(2)
              << "\n";
  } else {
    char took[32];
    std::snprintf(took, sizeof took, "%.3fs", finished->seconds);
    std::cout << name << ": " << finished->result << " in " << took;
    if (!finished->summary.empty()) std::cout << " (" << finished->summary << ")";
    std::cout << "\n";
  }
  return finished->result == "failure" ? 1 : 0;
}

int execute(Client& client, const Options& o) {
  if (o.command == "status") {
    const auto text = client.call_string("GetStatusJson");
    if (o.json) {
      std::cout << text;
    } else {
      print_status(json::parse(text), std::cout);
    }
    return 0;
  }
  if (o.command == "snapshots") {
    const auto text = client.call_string("ListSnapshots");
    if (o.json) {
      std::cout << text;
    } else {
      print_snapshots(json::parse(text), std::cout);
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
    if (o.json) {
      std::cout << json{{"job", o.args.front()}, {"started", true}}.dump(2) << "\n";
    } else {
      std::cout << "job " << o.args.front() << " started\n";
    }
    return 0;
  }
  if (o.command == "pause") {
    std::uint64_t seconds = 0;  // until resumed
    if (o.pause_for) {
      const auto d = config::parse_duration(*o.pause_for);
      if (!d) {
        std::cerr << "etcd-warden ctl: --for: expected a duration like 30m or 2h, got '"
                  << *o.pause_for << "'\n";
        return 2;
      }
      if (*d < 1s) {
        std::cerr << "etcd-warden ctl: --for must be at least 1s (to pause until resumed, leave "
                     "out --for)\n";
        return 2;
      }
      // Whole seconds on the wire; round up so the pause is never shorter than asked.
      seconds = static_cast<std::uint64_t>((d->count() + 999) / 1000);
    }
    client.daemon()
        .callMethod("Pause")
        .onInterface(kInterface)
        .withTimeout(kCallTimeout)
        .withArguments(seconds);
  } else {
    client.daemon().callMethod("Resume").onInterface(kInterface).withTimeout(kCallTimeout);
  }
  // Pause and resume answer with the state they left behind.
  const auto status = json::parse(client.call_string("GetStatusJson"));
  if (o.json) {
    std::cout << json{{"paused", status.at("paused")}, {"paused_until", status.at("paused_until")}}
                     .dump(2)
              << "\n";
  } else if (!status.value("paused", false)) {
    std::cout << "maintenance resumed\n";
  } else if (auto until = str(status, "paused_until"); !until.empty()) {
    std::cout << "maintenance paused until " << until
              << " (`etcd-warden ctl resume` ends it sooner)\n";
  } else {
    std::cout << "maintenance paused until `etcd-warden ctl resume`\n";
  }
  return 0;
}

}  // namespace

int run_ctl(const std::vector<std::string>& words, const std::filesystem::path& config_path) {
  auto options = parse(words);
  if (!options) return 2;
  const std::string bus = choose_bus(*options, config_path);

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
    return execute(*client, *options);
  } catch (const sdbus::Error& e) {
    return report(e, bus);
  } catch (const json::exception& e) {
    std::cerr << "etcd-warden: the daemon's answer is not the JSON expected: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace etcd_warden::control
