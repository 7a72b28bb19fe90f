// Tuning discovery against real parts: a real etcd started from an env file
// (found in the real /proc), and the D-Bus path against a real dbus-daemon
// on which the test plays systemd's manager with sdbus-c++.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "etcd_warden/systemd/sdbus_api.hpp"
#include "etcd_warden/tuning/discovery.hpp"
#include "support/dbus_daemon.hpp"
#include "support/etcd_cluster.hpp"
#include "support/ports.hpp"
#include "support/temp_dir.hpp"

using namespace etcd_warden;
using namespace etcd_warden::testing;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

std::string all_notes(const tuning::Discovered& d) {
  std::string out;
  for (const auto& n : d.notes) out += n + "\n";
  return out;
}

bool has_note(const tuning::Discovered& d, const std::string& text) {
  return all_notes(d).find(text) != std::string::npos;
}

// A config that reads only what the test sets up: no system bus, no
// kubeadm manifest, no /etc/default files.
config::Config isolated_config(const TempDir& dir) {
  config::Config c;
  c.tuning.systemd_bus = "unix:path=" + (dir / "no-bus.socket").string();
  c.tuning.kubeadm_manifest = dir / "no-manifest.yaml";
  c.tuning.env_files = {};
  // Matches no process: another test's etcd must never be taken for ours.
  c.etcd.data_dir = dir / "no-member-here";
  c.etcd.endpoints = {"http://127.0.0.1:" + std::to_string(free_port())};
  return c;
}

// The properties of one service unit, as systemd serves them.
struct FakeUnit {
  std::string name;
  std::vector<std::string> exec_start_argv;
  std::vector<std::string> environment;
  std::vector<std::pair<std::string, bool>> environment_files;
};

// systemd's manager on a test bus: LoadUnit and the unit properties that
// discovery reads. "nosuch.service" fails like systemd's NoSuchUnit, any
// other unknown unit loads as not-found (as systemd's LoadUnit does), and
// "slow.service" answers only after 3 s.
class FakeSystemd {
 public:
  using ExecStartEntry =
      sdbus::Struct<std::string, std::vector<std::string>, bool, std::uint64_t, std::uint64_t,
                    std::uint64_t, std::uint64_t, std::uint32_t, std::int32_t, std::int32_t>;
  static constexpr const char* kUnitPath = "/org/freedesktop/systemd1/unit/etcd_2eservice";
  static constexpr const char* kNotFoundPath = "/org/freedesktop/systemd1/unit/not_2dfound";

  FakeSystemd(const std::string& address, FakeUnit unit)
      : unit_(std::move(unit)), connection_(sdbus::createSessionBusConnectionWithAddress(address)) {
    systemd::request_name(*connection_, "org.freedesktop.systemd1");
    manager_ = systemd::make_object(*connection_, "/org/freedesktop/systemd1");
    systemd::VTable(*manager_, "org.freedesktop.systemd1.Manager")
        .method("LoadUnit", {"name"}, {"unit"},
                [this](const std::string& name) { return load_unit(name); })
        .finish();

    unit_object_ = systemd::make_object(*connection_, kUnitPath);
    systemd::VTable(*unit_object_, "org.freedesktop.systemd1.Unit")
        .property("LoadState", [] { return std::string("loaded"); })
        .on("org.freedesktop.systemd1.Service")
        .property("ExecStart", [this] { return exec_start(); })
        .property("Environment", [this] { return unit_.environment; })
        .property("EnvironmentFiles", [this] { return environment_files(); })
        .finish();

    not_found_object_ = systemd::make_object(*connection_, kNotFoundPath);
    systemd::VTable(*not_found_object_, "org.freedesktop.systemd1.Unit")
        .property("LoadState", [] { return std::string("not-found"); })
        .finish();

    connection_->enterEventLoopAsync();
  }
  ~FakeSystemd() { connection_->leaveEventLoop(); }
  FakeSystemd(const FakeSystemd&) = delete;
  FakeSystemd& operator=(const FakeSystemd&) = delete;

 private:
  sdbus::ObjectPath load_unit(const std::string& name) const {
    if (name == "nosuch.service") {
      throw systemd::bus_error("org.freedesktop.systemd1.NoSuchUnit",
                               "Unit nosuch.service not loaded.");
    }
    if (name == "slow.service") std::this_thread::sleep_for(3s);
    return sdbus::ObjectPath(name == unit_.name ? kUnitPath : kNotFoundPath);
  }
  std::vector<ExecStartEntry> exec_start() const {
    return {ExecStartEntry(unit_.exec_start_argv.front(), unit_.exec_start_argv, false, 0, 0, 0, 0,
                           0, 0, 0)};
  }
  std::vector<sdbus::Struct<std::string, bool>> environment_files() const {
    std::vector<sdbus::Struct<std::string, bool>> out;
    for (const auto& [path, ignore] : unit_.environment_files) out.emplace_back(path, ignore);
    return out;
  }

  FakeUnit unit_;
  std::unique_ptr<sdbus::IConnection> connection_;  // outlives the objects
  std::unique_ptr<sdbus::IObject> manager_, unit_object_, not_found_object_;
};

}  // namespace

TEST_CASE("discover reports the settings of an etcd started from an env file",
          "[tuning][discovery]") {
  TempDir dir("etcd-warden-discovery");
  const auto env_file = dir / "etcd.env";
  write_file(env_file,
             "# tuned for slow disks\nETCD_HEARTBEAT_INTERVAL=250\nETCD_ELECTION_TIMEOUT=5000\n");

  // etcd gets exactly the file's variables, as systemd's EnvironmentFile= would pass them.
  EtcdClusterOptions options;
  for (const auto& entry : tuning::parse_env_file(read_file(env_file))) {
    const auto eq = entry.find('=');
    options.env.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
  }
  REQUIRE(options.env.size() == 2);
  EtcdCluster cluster(options);

  auto config = isolated_config(dir);
  config.etcd.endpoints = {cluster.member(0).client_url};
  config.etcd.data_dir = cluster.member(0).data_dir;
  config.tuning.env_files = {env_file};
  const tuning::Discovered d = tuning::discover(config);
  INFO(all_notes(d));

  const int pid = cluster.member_process(0)->pid();
  REQUIRE(d.pid == pid);
  const std::string uses = "the running etcd, pid " + std::to_string(pid) + ", uses it";
  CHECK(d.heartbeat.value == 250ms);
  CHECK(d.heartbeat.source == env_file.string() + " (ETCD_HEARTBEAT_INTERVAL=250; " + uses + ")");
  CHECK(d.election.value == 5000ms);
  CHECK(d.election.source == env_file.string() + " (ETCD_ELECTION_TIMEOUT=5000; " + uses + ")");
  CHECK_FALSE(has_note(d, "restart pending"));

  SECTION("a file that says otherwise than the running etcd") {
    write_file(env_file, "ETCD_HEARTBEAT_INTERVAL=300\nETCD_ELECTION_TIMEOUT=5000\n");
    const tuning::Discovered changed = tuning::discover(config);
    INFO(all_notes(changed));
    CHECK(changed.heartbeat.value == 250ms);
    CHECK(changed.heartbeat.source ==
          "/proc/" + std::to_string(pid) + "/environ (ETCD_HEARTBEAT_INTERVAL=250)");
    CHECK(has_note(changed, env_file.string() +
                                " (ETCD_HEARTBEAT_INTERVAL=300) sets heartbeat-interval 300ms but "
                                "the running etcd, pid " +
                                std::to_string(pid) + ", uses 250ms: restart pending?"));
  }
}

TEST_CASE("discover reads etcd's systemd unit over D-Bus", "[tuning][discovery]") {
  TempDir dir("etcd-warden-discovery");
  DbusDaemon bus;
  const auto env_file = dir / "etcd.env";
  write_file(env_file,
             "ETCD_ELECTION_TIMEOUT=3000\nETCD_PEER_KEY_FILE=/etc/etcd/secret-peer.key\n");
  FakeSystemd systemd(
      bus.address(), FakeUnit{
                         "etcd.service",
                         {"/usr/bin/etcd", "--name=m1", "--heartbeat-interval=300", "$DAEMON_ARGS"},
                         {"DAEMON_ARGS=--data-dir=/var/lib/etcd --snapshot-count=5000"},
                         {{env_file.string(), false}, {(dir / "optional.env").string(), true}},
                     });

  auto config = isolated_config(dir);
  config.tuning.systemd_bus = bus.address();

  SECTION("ExecStart and an EnvironmentFile") {
    const tuning::Discovered d = tuning::discover(config);
    INFO(all_notes(d));
    CHECK_FALSE(d.pid);
    CHECK(d.heartbeat == tuning::Found{300ms, "etcd.service ExecStart (--heartbeat-interval=300)"});
    CHECK(d.election ==
          tuning::Found{3000ms, env_file.string() + " (ETCD_ELECTION_TIMEOUT=3000, an "
                                                    "EnvironmentFile of etcd.service)"});
    CHECK_FALSE(has_note(d, "optional.env"));  // EnvironmentFile=-...: silent when missing
    CHECK_FALSE(has_note(d, "secret-peer"));
  }
  SECTION("a unit systemd does not know: a note and etcd's defaults") {
    config.tuning.etcd_unit = "missing.service";
    const tuning::Discovered d = tuning::discover(config);
    INFO(all_notes(d));
    CHECK(d.heartbeat == tuning::Found{100ms, "etcd default"});
    CHECK(d.election == tuning::Found{1000ms, "etcd default"});
    CHECK(has_note(d, "systemd has no unit missing.service (LoadState not-found)"));
  }
  SECTION("NoSuchUnit") {
    config.tuning.etcd_unit = "nosuch";  // a bare name means nosuch.service
    const tuning::Discovered d = tuning::discover(config);
    CHECK(d.heartbeat.value == 100ms);
    CHECK(has_note(d, "systemd has no unit nosuch.service"));
  }
  SECTION("systemd that does not answer: a note after the 2 s call timeout") {
    config.tuning.etcd_unit = "slow.service";
    const auto start = std::chrono::steady_clock::now();
    const tuning::Discovered d = tuning::discover(config);
    const auto took = std::chrono::steady_clock::now() - start;
    INFO(all_notes(d));
    CHECK(took < 2900ms);
    CHECK(has_note(d, "did not answer in time about slow.service"));
    CHECK(d.heartbeat.value == 100ms);
  }
}

TEST_CASE("discover notes a bus without systemd or without anyone listening",
          "[tuning][discovery]") {
  TempDir dir("etcd-warden-discovery");
  auto config = isolated_config(dir);

  SECTION("nothing listens at the address") {
    const auto start = std::chrono::steady_clock::now();
    const tuning::Discovered d = tuning::discover(config);
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    INFO(all_notes(d));
    CHECK(has_note(d,
                   "cannot connect to bus " + config.tuning.systemd_bus + " to read etcd.service"));
    CHECK(d.heartbeat == tuning::Found{100ms, "etcd default"});
  }
  SECTION("a bus on which systemd is not") {
    DbusDaemon bus;
    config.tuning.systemd_bus = bus.address();
    const tuning::Discovered d = tuning::discover(config);
    INFO(all_notes(d));
    CHECK(has_note(d, "systemd is not on bus " + bus.address()));
    CHECK(d.election == tuning::Found{1000ms, "etcd default"});
  }
}
