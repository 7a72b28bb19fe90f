#include "etcd_warden/control/control_service.hpp"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <map>
#include <optional>
#include <variant>
#include <vector>

#include "bus_pump.hpp"
#include "etcd_warden/config/units.hpp"
#include "etcd_warden/control/names.hpp"
#include "etcd_warden/control/status_json.hpp"
#include "etcd_warden/snapshot/catalog.hpp"
#include "etcd_warden/systemd/bus.hpp"
#include "etcd_warden/systemd/sdbus_api.hpp"
#include "etcd_warden/util/build_info.hpp"
#include "etcd_warden/util/result.hpp"
#include "etcd_warden/util/utf8.hpp"

namespace etcd_warden::control {

namespace {

// Every string sent over D-Bus goes through here (or util::valid_utf8): sd-bus
// refuses to send invalid UTF-8, and sdbus-c++ throws inside the handler.
sdbus::Variant text(const std::string& s) {
  return sdbus::Variant(util::valid_utf8(s));
}

// A method handler's body: any exception becomes a D-Bus error reply for the
// caller, never an exception unwinding into the event loop (which would stop
// the daemon: GetStatusJson is open to every local user).
template <class Body>
auto answer(const char* method, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const sdbus::Error&) {
    throw;  // already an answer (bus_error)
  } catch (const std::exception& e) {
    spdlog::error("control: {} failed: {}", method, util::valid_utf8(e.what()));
    throw systemd::bus_error(kErrorFailed, std::string(method) + " failed: " + e.what());
  }
}

}  // namespace

struct ControlService::State : std::enable_shared_from_this<State> {
  State(ControlledDaemon& d, std::string bus_spec) : daemon(d), bus(std::move(bus_spec)) {}
  ~State() { close(); }

  ControlledDaemon& daemon;
  std::string bus;
  std::shared_ptr<BusPump> pump;  // null once closed
  std::unique_ptr<sdbus::IObject> object;

  bool connected() const { return pump && pump->connection() != nullptr; }
  void publish(sdbus::IConnection& connection);
  void lost(const std::string& why);
  void close();

  std::map<std::string, sdbus::Variant> get_status() const;
  std::string get_status_json() const;
  void run_job(const std::string& name);
  void pause(std::uint64_t seconds);
  void resume();
  void list_snapshots(sdbus::Result<std::string>&& result);
  std::string sender() const;
};

void ControlService::State::lost(const std::string& why) {
  spdlog::warn(
      "control: lost the connection to {}: {}; D-Bus control is off until the next reload "
      "(systemctl reload etcd-warden)",
      systemd::describe_bus(bus), why);
  object.reset();  // before the pump closes the connection it lives on
}

void ControlService::State::close() {
  object.reset();
  if (pump) pump->close();
  pump.reset();
}

// --- The interface ---------------------------------------------------------

void ControlService::State::publish(sdbus::IConnection& connection) {
  object = systemd::make_object(connection, kObjectPath);
  systemd::VTable(*object, kInterface)
      .method("GetStatus", {}, {"status"},
              [this] { return answer("GetStatus", [&] { return get_status(); }); })
      .method("GetStatusJson", {}, {"status_json"},
              [this] { return answer("GetStatusJson", [&] { return get_status_json(); }); })
      .method("RunJob", {"name"}, {},
              [this](const std::string& name) { answer("RunJob", [&] { run_job(name); }); })
      .method("Pause", {"seconds"}, {},
              [this](std::uint64_t seconds) { answer("Pause", [&] { pause(seconds); }); })
      .method("Resume", {}, {}, [this] { answer("Resume", [&] { resume(); }); })
      .method("ListSnapshots", {}, {"snapshots_json"},
              [this](sdbus::Result<std::string>&& result) {
                answer("ListSnapshots", [&] { list_snapshots(std::move(result)); });
              })
      .signal<std::string, std::string, std::string, double>(
          "JobFinished", {"job", "result", "summary", "seconds"})
      .finish();
}

std::string ControlService::State::sender() const {
  return systemd::current_sender(*object);
}

std::map<std::string, sdbus::Variant> ControlService::State::get_status() const {
  const auto& board = daemon.board();
  const auto& m = board.member;
  const auto now = daemon.wall_now();
  std::map<std::string, sdbus::Variant> out;
  out["version"] = text(std::string(build::kVersion));
  out["health"] = text(health(board));
  out["status_line"] = text(status::format_status_line(board, now));
  out["paused"] = sdbus::Variant(board.paused);
  // Unix seconds; 0 = not paused, or paused until resumed.
  out["paused_until"] =
      sdbus::Variant(board.paused && board.paused_until ? sched::unix_seconds(*board.paused_until)
                                                        : std::int64_t{0});
  out["config_problem"] = text(board.config_problem);
  out["tuning_alert"] = text(board.tuning_alert);
  out["tuning_settings"] = text(board.tuning_settings);
  out["certificate_alert"] = text(board.certificate_alert);
  out["consistency_alert"] = text(board.consistency_alert);

  out["member_polled"] = sdbus::Variant(m.polled);
  out["member_up"] = sdbus::Variant(m.up);
  out["member_error"] = text(m.error);
  out["member_endpoint"] = text(m.endpoint);
  out["member_name"] = text(m.name);
  out["member_id"] = sdbus::Variant(m.member_id);
  out["cluster_id"] = sdbus::Variant(m.cluster_id);
  out["leader_id"] = sdbus::Variant(m.leader_id);
  out["is_leader"] = sdbus::Variant(m.is_leader());
  out["is_learner"] = sdbus::Variant(m.is_learner);
  out["etcd_version"] = text(m.version);
  out["db_size_bytes"] = sdbus::Variant(m.db_size.value);
  out["db_in_use_bytes"] = sdbus::Variant(m.db_in_use.value);
  out["quota_bytes"] = sdbus::Variant(m.quota ? m.quota->value : std::uint64_t{0});  // 0 = unknown
  out["revision"] = sdbus::Variant(m.revision);
  out["raft_index"] = sdbus::Variant(m.raft_index);
  out["raft_term"] = sdbus::Variant(m.raft_term);
  out["member_count"] = sdbus::Variant(static_cast<std::uint32_t>(m.member_count));
  std::vector<std::string> alarms;
  for (const auto& a : m.alarms)
    alarms.push_back(util::valid_utf8(a.type + "@" + hex_id(a.member_id)));
  out["alarms"] = sdbus::Variant(alarms);

  // name -> {enabled, running, next_run_in_seconds?, last_result?, summary?,
  //          finished_at?, duration_seconds?, last_success_at?, consecutive_failures}
  std::map<std::string, std::map<std::string, sdbus::Variant>> jobs;
  for (const auto& view : daemon.job_views()) {
    auto& j = jobs[view.name];
    j["enabled"] = sdbus::Variant(view.enabled);
    j["running"] = sdbus::Variant(view.running);
    if (view.next_in)
      j["next_run_in_seconds"] =
          sdbus::Variant(std::chrono::duration<double>(*view.next_in).count());
    auto it = board.jobs.find(view.name);
    if (it != board.jobs.end() && it->second.finished_at != sched::WallTime{}) {
      const auto& r = it->second;
      j["last_result"] = text(std::string(sched::to_string(r.outcome)));
      j["summary"] = text(r.summary);
      j["finished_at"] = sdbus::Variant(sched::unix_seconds(r.finished_at));
      j["duration_seconds"] = sdbus::Variant(r.seconds);
      if (r.last_success)
        j["last_success_at"] = sdbus::Variant(sched::unix_seconds(*r.last_success));
      j["consecutive_failures"] =
          sdbus::Variant(static_cast<std::uint32_t>(r.consecutive_failures));
    } else {
      j["consecutive_failures"] = sdbus::Variant(std::uint32_t{0});
    }
  }
  out["jobs"] = sdbus::Variant(jobs);
  return out;
}

std::string ControlService::State::get_status_json() const {
  return status_json(daemon.board(), daemon.job_views(), daemon.wall_now(), build::kVersion);
}

void ControlService::State::run_job(const std::string& name) {
  switch (daemon.run_now(name)) {
    case sched::Scheduler::RunNow::started:
      spdlog::info("control: job={} requested by {}", name, sender());
      return;
    case sched::Scheduler::RunNow::already_running:
      throw systemd::bus_error(kErrorAlreadyRunning, "job '" + name + "' is already running");
    case sched::Scheduler::RunNow::unknown_job:
      break;
  }
  throw systemd::bus_error(kErrorUnknownJob,
                           "unknown job '" + name + "' (one of: " + daemon.job_names() + ")");
}

void ControlService::State::pause(std::uint64_t seconds) {
  const auto max_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(config::kMaxDuration).count();
  if (seconds > static_cast<std::uint64_t>(max_seconds)) {
    throw systemd::bus_error(kErrorInvalidArgs, "pause of " + std::to_string(seconds) +
                                                    "s is longer than the longest allowed (" +
                                                    config::format_duration(config::kMaxDuration) +
                                                    ")");
  }
  spdlog::debug("control: pause seconds={} requested by {}", seconds, sender());
  std::optional<config::Duration> duration;
  if (seconds > 0) duration = std::chrono::seconds(seconds);
  daemon.pause(duration);
}

void ControlService::State::resume() {
  spdlog::debug("control: resume requested by {}", sender());
  daemon.resume();
}

// Reading the directory and the sidecars is file I/O: it runs on the blocking
// pool and the reply is sent from the loop (sd-bus is not thread-safe).
void ControlService::State::list_snapshots(sdbus::Result<std::string>&& result) {
  auto dir = daemon.snapshot_dir();
  auto reply_on_loop = [weak = weak_from_this(), result = std::move(result)](
                           util::Result<std::vector<snapshot::SnapshotEntry>> listed) mutable {
    auto self = weak.lock();
    if (!self || !self->connected()) return;
    try {
      if (!listed) {
        result.returnError(systemd::bus_error(kErrorFailed, listed.error()));
      } else {
        result.returnResults(snapshots_json(*listed, self->daemon.wall_now()));
      }
    } catch (const sdbus::Error& e) {
      spdlog::debug("control: ListSnapshots reply not sent: {}", e.getMessage());
    } catch (const std::exception& e) {
      // Off the method handler, so answer() does not cover it: on the loop.
      spdlog::error("control: ListSnapshots failed: {}", util::valid_utf8(e.what()));
      try {
        result.returnError(
            systemd::bus_error(kErrorFailed, std::string("ListSnapshots failed: ") + e.what()));
      } catch (const sdbus::Error&) {
      }
    }
    self->pump->after_send();
  };
  asio::post(daemon.blocking_pool(), [&io = daemon.loop(), dir = std::move(dir),
                                      reply = std::move(reply_on_loop)]() mutable {
    auto listed = snapshot::list_snapshots(dir);
    asio::post(io, [reply = std::move(reply), listed = std::move(listed)]() mutable {
      reply(std::move(listed));
    });
  });
}

// --- ControlService ----------------------------------------------------------

std::unique_ptr<ControlService> ControlService::start(ControlledDaemon& daemon,
                                                      const std::string& bus) {
  auto state = std::make_shared<State>(daemon, bus);
  // What failed decides the hint: no bus at all, or a bus that refuses us the name.
  enum class Step { connect, publish, own } step = Step::connect;
  std::unique_ptr<sdbus::IConnection> connection;
  try {
    connection = systemd::open_bus(bus);
    step = Step::publish;
    state->publish(*connection);
    // The name last: once it is visible, every method works.
    step = Step::own;
    systemd::request_name(*connection, kBusName);
  } catch (const std::exception& e) {
    const auto* bus_error = dynamic_cast<const sdbus::Error*>(&e);
    const std::string reason = bus_error != nullptr ? bus_error->getMessage() : e.what();
    std::string what = "connect to " + systemd::describe_bus(bus);
    if (step == Step::publish)
      what = "publish " + std::string(kObjectPath) + " on " + systemd::describe_bus(bus);
    if (step == Step::own)
      what = "own the name " + std::string(kBusName) + " on " + systemd::describe_bus(bus);
    spdlog::warn(
        "control: cannot {}: {}{}; running without D-Bus control (`etcd-warden ctl` will not "
        "reach this daemon)",
        what, reason,
        step == Step::own ? " (another etcd-warden running? bus policy io.etcdwarden.Warden1.conf "
                            "not installed?)"
                          : "");
    state->object.reset();
    return nullptr;
  }
  std::weak_ptr<State> weak = state;
  state->pump = std::make_shared<BusPump>(daemon.loop(), std::move(connection),
                                          [weak](const std::string& why) {
                                            if (auto self = weak.lock()) self->lost(why);
                                          });
  state->pump->start();
  spdlog::info("control: serving {} on {}", kBusName, systemd::describe_bus(bus));
  return std::unique_ptr<ControlService>(new ControlService(std::move(state)));
}

ControlService::ControlService(std::shared_ptr<State> state) : state_(std::move(state)) {}

ControlService::~ControlService() {
  state_->close();
}

bool ControlService::connected() const {
  return state_->connected();
}

void ControlService::job_finished(const std::string& job, const sched::JobResult& result,
                                  std::chrono::nanoseconds took) {
  if (!state_->connected() || !state_->object) return;
  try {
    state_->object->emitSignal("JobFinished")
        .onInterface(kInterface)
        .withArguments(util::valid_utf8(job), std::string(sched::to_string(result.outcome)),
                       util::valid_utf8(result.summary),
                       std::chrono::duration<double>(took).count());
  } catch (const sdbus::Error& e) {
    state_->lost(e.getMessage());
    state_->close();
    return;
  }
  state_->pump->after_send();
}

}  // namespace etcd_warden::control
