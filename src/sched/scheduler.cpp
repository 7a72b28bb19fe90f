#include "etcd_warden/sched/scheduler.hpp"

#include <spdlog/spdlog.h>

namespace etcd_warden::sched {

struct Scheduler::Entry {
  Entry(std::string n, const config::Schedule& s, JobFn fn, const Clock& clock, Random& random,
        const asio::any_io_executor& ex)
      : name(std::move(n)), schedule(s, clock, random), run(std::move(fn)), timer(ex) {}

  std::string name;
  JobSchedule schedule;
  JobFn run;
  asio::steady_timer timer;
  bool requested = false;  // a person asked for a run: ignore pause once
  bool enabled = true;
  bool done = false;  // the driving coroutine has returned
};

Scheduler::Scheduler(asio::any_io_executor executor, const Clock& clock, Random& random,
                     FinishedFn on_finished)
    : executor_(std::move(executor)),
      clock_(clock),
      random_(random),
      on_finished_(std::move(on_finished)) {}

Scheduler::~Scheduler() {
  stop();
}

void Scheduler::add(const std::string& name, const config::Schedule& schedule, JobFn run) {
  auto entry = std::make_shared<Entry>(name, schedule, std::move(run), clock_, random_, executor_);
  jobs_[name] = entry;
  if (started_ && !stopped_) {
    asio::co_spawn(executor_, drive(entry), asio::detached);
  }
}

void Scheduler::reschedule(const std::string& name, const config::Schedule& schedule) {
  auto it = jobs_.find(name);
  if (it == jobs_.end()) return;
  it->second->schedule.reschedule(schedule);
  wake(*it->second);
}

void Scheduler::start() {
  if (started_) return;
  started_ = true;
  for (auto& [name, entry] : jobs_) {
    asio::co_spawn(executor_, drive(entry), asio::detached);
  }
}

void Scheduler::stop() {
  stopped_ = true;
  for (auto& [name, entry] : jobs_) wake(*entry);
}

bool Scheduler::idle() const {
  for (const auto& [name, entry] : jobs_) {
    if (entry->schedule.running()) return false;
  }
  return true;
}

Scheduler::RunNow Scheduler::run_now(const std::string& name) {
  auto it = jobs_.find(name);
  if (it == jobs_.end()) return RunNow::unknown_job;
  Entry& entry = *it->second;
  if (entry.schedule.running()) return RunNow::already_running;
  entry.requested = true;
  entry.schedule.request_now();
  wake(entry);
  return RunNow::started;
}

void Scheduler::set_paused(bool paused) {
  paused_ = paused;
  for (auto& [name, entry] : jobs_) wake(*entry);
}

void Scheduler::set_enabled(const std::string& name, bool enabled) {
  auto it = jobs_.find(name);
  if (it == jobs_.end()) return;
  it->second->enabled = enabled;
  wake(*it->second);
}

const JobSchedule* Scheduler::schedule_of(const std::string& name) const {
  auto it = jobs_.find(name);
  return it == jobs_.end() ? nullptr : &it->second->schedule;
}

void Scheduler::wake(Entry& entry) {
  entry.timer.cancel();
}

Task<void> Scheduler::drive(std::shared_ptr<Entry> entry) {
  while (!stopped_) {
    const bool may_run = (!paused_ && entry->enabled) || entry->requested;
    if (may_run && entry->schedule.due()) {
      entry->requested = false;
      if (entry->schedule.try_start()) {
        const auto started = clock_.now();
        JobResult result;
        try {
          result = co_await entry->run();
        } catch (const std::exception& e) {
          // A job must not take the daemon down; an escaped exception is a bug we report.
          result = JobResult::failure(std::string("internal error: ") + e.what());
        }
        entry->schedule.finish(result.outcome);
        if (on_finished_) on_finished_(entry->name, result, clock_.now() - started);
        continue;
      }
    }
    // Sleep until due (or, when paused, until woken). Timers use the real
    // steady clock; the injected clock only decides *when*.
    if (may_run) {
      entry->timer.expires_after(entry->schedule.next_due() - clock_.now());
    } else {
      entry->timer.expires_at(asio::steady_timer::time_point::max());
    }
    boost::system::error_code ec;
    co_await entry->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  entry->done = true;
}

}  // namespace etcd_warden::sched
