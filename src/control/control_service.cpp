#include "etcd_warden/control/control_service.hpp"

#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <variant>
#include <vector>

#include "etcd_warden/app/build_info.hpp"
#include "etcd_warden/app/daemon.hpp"
#include "etcd_warden/asio.hpp"
#include "etcd_warden/config/units.hpp"
#include "etcd_warden/control/bus.hpp"
#include "etcd_warden/control/names.hpp"
#include "etcd_warden/control/status_json.hpp"
#include "etcd_warden/snapshot/catalog.hpp"

namespace etcd_warden::control {

namespace {

// Messages handled in one go before the loop gets a turn (timers, jobs,
// the watchdog); the rest follow in a posted continuation.
constexpr int kBatch = 32;

std::int64_t unix_seconds(sched::WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

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

struct ControlService::State : std::enable_shared_from_this<State> {
  State(app::Daemon& d, std::string bus_spec)
      : daemon(d), io(d.runtime().io), bus(std::move(bus_spec)), fd(io), timer(io) {}
  ~State() { close(); }

  app::Daemon& daemon;
  asio::io_context& io;
  std::string bus;
  std::unique_ptr<sdbus::IConnection> connection;
  std::unique_ptr<sdbus::IObject> object;
  asio::posix::stream_descriptor fd;  // sd-bus's socket: watched, never owned
  asio::steady_timer timer;           // sd-bus's own timeouts (method calls, auth)
  bool read_armed = false;
  bool write_armed = false;
  bool pump_posted = false;

  void publish();
  void pump();
  void arm();
  void post_pump();
  void after_send();
  void lost(const std::string& why);
  void close();

  std::vector<JobView> job_views() const;
  std::map<std::string, sdbus::Variant> get_status() const;
  std::string get_status_json() const;
  void run_job(const std::string& name);
  void pause(std::uint64_t seconds);
  void resume();
  void list_snapshots(sdbus::Result<std::string>&& result);
  std::string sender() const;
};

// --- Plumbing: sd-bus on the Asio loop ------------------------------------
//
// Wait for the socket to be readable (and writable while sd-bus has queued
// output) or for sd-bus's timeout, then let sd-bus process until it has
// nothing left, then wait again. Everything runs on the loop thread.

void ControlService::State::pump() {
  if (!connection) return;
  try {
    int handled = 0;
    while (connection->processPendingRequest()) {
      if (++handled == kBatch) {
        post_pump();
        break;
      }
    }
    if (connection) arm();
  } catch (const sdbus::Error& e) {
    lost(e.getMessage());
  }
}

void ControlService::State::arm() {
  const auto poll = connection->getEventLoopPollData();
  std::weak_ptr<State> weak = weak_from_this();
  if (!read_armed) {
    read_armed = true;
    fd.async_wait(asio::posix::stream_descriptor::wait_read,
                  [weak](const boost::system::error_code& ec) {
                    auto self = weak.lock();
                    if (!self) return;
                    self->read_armed = false;
                    if (!ec) self->pump();
                  });
  }
  if ((poll.events & POLLOUT) != 0 && !write_armed) {
    write_armed = true;
    fd.async_wait(asio::posix::stream_descriptor::wait_write,
                  [weak](const boost::system::error_code& ec) {
                    auto self = weak.lock();
                    if (!self) return;
                    self->write_armed = false;
                    if (!ec) self->pump();
                  });
  }
  // Re-arming replaces the previous deadline; its wait ends as aborted.
  if (auto timeout = relative_timeout(poll.timeout_usec)) {
    timer.expires_after(
        std::max<std::chrono::microseconds>(*timeout, std::chrono::milliseconds(1)));
    timer.async_wait([weak](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (self && !ec) self->pump();
    });
  } else {
    timer.cancel();
  }
}

void ControlService::State::post_pump() {
  if (pump_posted) return;
  pump_posted = true;
  asio::post(io, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    self->pump_posted = false;
    self->pump();
  });
}

// A reply or signal sent outside pump(): sd-bus writes what the socket takes
// at once and queues the rest, so make sure a write wait covers the rest.
void ControlService::State::after_send() {
  if (!connection) return;
  try {
    arm();
  } catch (const sdbus::Error& e) {
    lost(e.getMessage());
  }
}

void ControlService::State::lost(const std::string& why) {
  spdlog::warn(
      "control: lost the connection to {}: {}; D-Bus control is off until the next reload "
      "(systemctl reload etcd-warden)",
      describe_bus(bus), why);
  // Not from inside sd-bus's own dispatch: pump() has returned when we get here.
  close();
}

void ControlService::State::close() {
  boost::system::error_code ignored;
  fd.cancel(ignored);
  if (fd.is_open()) fd.release();  // the socket is sd-bus's to close
  timer.cancel();
  object.reset();
  connection.reset();  // flushes and closes; the bus drops our name
}

// --- The interface ---------------------------------------------------------

void ControlService::State::publish() {
  object = sdbus::createObject(*connection, kObjectPath);
  object->registerMethod("GetStatus")
      .onInterface(kInterface)
      .withOutputParamNames("status")
      .implementedAs([this] { return get_status(); });
  object->registerMethod("GetStatusJson")
      .onInterface(kInterface)
      .withOutputParamNames("status_json")
      .implementedAs([this] { return get_status_json(); });
  object->registerMethod("RunJob")
      .onInterface(kInterface)
      .withInputParamNames("name")
      .implementedAs([this](const std::string& name) { run_job(name); });
  object->registerMethod("Pause")
      .onInterface(kInterface)
      .withInputParamNames("seconds")
      .implementedAs([this](std::uint64_t seconds) { pause(seconds); });
  object->registerMethod("Resume").onInterface(kInterface).implementedAs([this] { resume(); });
  object->registerMethod("ListSnapshots")
      .onInterface(kInterface)
      .withOutputParamNames("snapshots_json")
      .implementedAs(
          [this](sdbus::Result<std::string>&& result) { list_snapshots(std::move(result)); });
  object->registerSignal("JobFinished")
      .onInterface(kInterface)
      .withParameters<std::string, std::string, std::string, double>("job", "result", "summary",
                                                                     "seconds");
  object->finishRegistration();
}

std::string ControlService::State::sender() const {
  const sdbus::Message* message = object->getCurrentlyProcessedMessage();
  return message != nullptr ? message->getSender() : std::string("?");
}

std::vector<JobView> ControlService::State::job_views() const {
  const auto& runtime = daemon.runtime();
  const auto& config = *runtime.context.config;
  const auto now = runtime.clock.now();
  std::vector<JobView> views;
  for (const auto& spec : runtime.jobs.specs()) {
    JobView view{.name = spec.name, .enabled = spec.enabled(config)};
    if (const auto* schedule = daemon.scheduler().schedule_of(spec.name)) {
      view.running = schedule->running();
      if (view.enabled && !view.running && !daemon.scheduler().paused()) {
        view.next_in =
            std::max(config::Duration(0),
                     std::chrono::duration_cast<config::Duration>(schedule->next_due() - now));
      }
    }
    views.push_back(std::move(view));
  }
  return views;
}

std::map<std::string, sdbus::Variant> ControlService::State::get_status() const {
  const auto& board = daemon.board();
  const auto& m = board.member;
  const auto now = daemon.runtime().clock.wall_now();
  std::map<std::string, sdbus::Variant> out;
  out["version"] = std::string(build::kVersion);
  out["health"] = health(board);
  out["status_line"] = status::format_status_line(board, now);
  out["paused"] = board.paused;
  // Unix seconds; 0 = not paused, or paused until resumed.
  out["paused_until"] =
      board.paused && board.paused_until ? unix_seconds(*board.paused_until) : std::int64_t{0};
  out["config_problem"] = board.config_problem;
  out["tuning_alert"] = board.tuning_alert;

  out["member_polled"] = m.polled;
  out["member_up"] = m.up;
  out["member_error"] = m.error;
  out["member_endpoint"] = m.endpoint;
  out["member_name"] = m.name;
  out["member_id"] = m.member_id;
  out["cluster_id"] = m.cluster_id;
  out["leader_id"] = m.leader_id;
  out["is_leader"] = m.is_leader();
  out["is_learner"] = m.is_learner;
  out["etcd_version"] = m.version;
  out["db_size_bytes"] = m.db_size.value;
  out["db_in_use_bytes"] = m.db_in_use.value;
  out["quota_bytes"] = m.quota ? m.quota->value : std::uint64_t{0};  // 0 = unknown
  out["revision"] = m.revision;
  out["raft_index"] = m.raft_index;
  out["raft_term"] = m.raft_term;
  out["member_count"] = static_cast<std::uint32_t>(m.member_count);
  std::vector<std::string> alarms;
  for (const auto& a : m.alarms) alarms.push_back(a.type + "@" + hex_id(a.member_id));
  out["alarms"] = alarms;

  // name -> {enabled, running, next_run_in_seconds?, last_result?, summary?,
  //          finished_at?, duration_seconds?, last_success_at?, consecutive_failures}
  std::map<std::string, std::map<std::string, sdbus::Variant>> jobs;
  for (const auto& view : job_views()) {
    auto& j = jobs[view.name];
    j["enabled"] = view.enabled;
    j["running"] = view.running;
    if (view.next_in)
      j["next_run_in_seconds"] = std::chrono::duration<double>(*view.next_in).count();
    auto it = board.jobs.find(view.name);
    if (it != board.jobs.end() && it->second.finished_at != sched::WallTime{}) {
      const auto& r = it->second;
      j["last_result"] = std::string(sched::to_string(r.outcome));
      j["summary"] = r.summary;
      j["finished_at"] = unix_seconds(r.finished_at);
      j["duration_seconds"] = r.seconds;
      if (r.last_success) j["last_success_at"] = unix_seconds(*r.last_success);
      j["consecutive_failures"] = static_cast<std::uint32_t>(r.consecutive_failures);
    } else {
      j["consecutive_failures"] = std::uint32_t{0};
    }
  }
  out["jobs"] = jobs;
  return out;
}

std::string ControlService::State::get_status_json() const {
  return status_json(daemon.board(), job_views(), daemon.runtime().clock.wall_now(),
                     build::kVersion);
}

void ControlService::State::run_job(const std::string& name) {
  switch (daemon.run_now(name)) {
    case sched::Scheduler::RunNow::started:
      spdlog::info("control: job={} requested by {}", name, sender());
      return;
    case sched::Scheduler::RunNow::already_running:
      throw sdbus::Error(kErrorAlreadyRunning, "job '" + name + "' is already running");
    case sched::Scheduler::RunNow::unknown_job:
      break;
  }
  throw sdbus::Error(kErrorUnknownJob,
                     "unknown job '" + name + "' (one of: " + daemon.runtime().jobs.names() + ")");
}

void ControlService::State::pause(std::uint64_t seconds) {
  const auto max_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(config::kMaxDuration).count();
  if (seconds > static_cast<std::uint64_t>(max_seconds)) {
    throw sdbus::Error(kErrorInvalidArgs, "pause of " + std::to_string(seconds) +
                                              "s is longer than the longest allowed (" +
                                              config::format_duration(config::kMaxDuration) + ")");
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
  auto& runtime = daemon.runtime();
  auto dir = runtime.context.config->snapshot.dir;
  auto reply_on_loop =
      [weak = weak_from_this(), result = std::move(result)](
          std::variant<std::vector<snapshot::SnapshotEntry>, std::string> listed) mutable {
        auto self = weak.lock();
        if (!self || !self->connection) return;
        try {
          if (auto* error = std::get_if<std::string>(&listed)) {
            result.returnError(sdbus::Error(kErrorFailed, *error));
          } else {
            result.returnResults(
                snapshots_json(std::get<0>(listed), self->daemon.runtime().clock.wall_now()));
          }
        } catch (const sdbus::Error& e) {
          spdlog::debug("control: ListSnapshots reply not sent: {}", e.getMessage());
        }
        self->after_send();
      };
  asio::post(*runtime.context.blocking,
             [&io = io, dir = std::move(dir), reply = std::move(reply_on_loop)]() mutable {
               auto listed = snapshot::list_snapshots(dir);
               asio::post(io, [reply = std::move(reply), listed = std::move(listed)]() mutable {
                 reply(std::move(listed));
               });
             });
}

// --- ControlService ----------------------------------------------------------

std::unique_ptr<ControlService> ControlService::start(app::Daemon& daemon) {
  const std::string bus = daemon.runtime().context.config->control.bus;
  auto state = std::make_shared<State>(daemon, bus);
  // What failed decides the hint: no bus at all, or a bus that refuses us the name.
  enum class Step { connect, publish, own } step = Step::connect;
  try {
    state->connection = open_bus(bus);
    step = Step::publish;
    state->publish();
    // The name last: once it is visible, every method works.
    step = Step::own;
    state->connection->requestName(kBusName);
    state->fd.assign(state->connection->getEventLoopPollData().fd);
    state->pump();
  } catch (const std::exception& e) {
    const auto* bus_error = dynamic_cast<const sdbus::Error*>(&e);
    const std::string reason = bus_error != nullptr ? bus_error->getMessage() : e.what();
    std::string what = "connect to " + describe_bus(bus);
    if (step == Step::publish)
      what = "publish " + std::string(kObjectPath) + " on " + describe_bus(bus);
    if (step == Step::own)
      what = "own the name " + std::string(kBusName) + " on " + describe_bus(bus);
    spdlog::warn(
        "control: cannot {}: {}{}; running without D-Bus control (`etcd-warden ctl` will not "
        "reach this daemon)",
        what, reason,
        step == Step::own ? " (another etcd-warden running? bus policy io.etcdwarden.Warden1.conf "
                            "not installed?)"
                          : "");
    state->close();
    return nullptr;
  }
  if (!state->connection) return nullptr;  // lost() already said why
  spdlog::info("control: serving {} on {}", kBusName, describe_bus(bus));
  return std::unique_ptr<ControlService>(new ControlService(std::move(state)));
}

ControlService::ControlService(std::shared_ptr<State> state) : state_(std::move(state)) {}

ControlService::~ControlService() {
  state_->close();
}

bool ControlService::connected() const {
  return state_->connection != nullptr;
}

void ControlService::job_finished(const std::string& job, const sched::JobResult& result,
                                  std::chrono::nanoseconds took) {
  if (!state_->connection) return;
  try {
    state_->object->emitSignal("JobFinished")
        .onInterface(kInterface)
        .withArguments(job, std::string(sched::to_string(result.outcome)), result.summary,
                       std::chrono::duration<double>(took).count());
  } catch (const sdbus::Error& e) {
    state_->lost(e.getMessage());
    return;
  }
  state_->after_send();
}

}  // namespace etcd_warden::control
