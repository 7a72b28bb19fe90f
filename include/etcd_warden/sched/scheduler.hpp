// Runs jobs on the event loop: one coroutine per job waits on a timer until
// its JobSchedule says it is due, runs it, records the outcome and waits
// again. Pausing holds every scheduled run (a requested one still runs, so an
// operator can act during a pause); stopping lets a running job finish.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "etcd_warden/asio.hpp"
#include "etcd_warden/sched/job_schedule.hpp"

namespace etcd_warden::sched {

using JobFn = std::function<Task<JobResult>()>;
// Called on the loop after every run, with the job's name, result and duration.
using FinishedFn =
    std::function<void(const std::string&, const JobResult&, std::chrono::nanoseconds)>;

class Scheduler {
 public:
  Scheduler(asio::any_io_executor executor, const Clock& clock, Random& random,
            FinishedFn on_finished);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void add(const std::string& name, const config::Schedule& schedule, JobFn run);
  void reschedule(const std::string& name, const config::Schedule& schedule);
  void start();
  // Stops scheduling; a running job is not interrupted. `idle()` tells when all are done.
  void stop();
  bool idle() const;

  enum class RunNow { started, already_running, unknown_job };
  RunNow run_now(const std::string& name);

  void set_paused(bool paused);
  // A disabled job is never scheduled; a requested run still goes ahead.
  void set_enabled(const std::string& name, bool enabled);
  bool paused() const { return paused_; }
  bool has(const std::string& name) const { return jobs_.contains(name); }
  const JobSchedule* schedule_of(const std::string& name) const;

 private:
  struct Entry;
  Task<void> drive(std::shared_ptr<Entry> entry);
  void wake(Entry& entry);

  asio::any_io_executor executor_;
  const Clock& clock_;
  Random& random_;
  FinishedFn on_finished_;
  std::map<std::string, std::shared_ptr<Entry>> jobs_;
  bool started_ = false;
  bool stopped_ = false;
  bool paused_ = false;
};

}  // namespace etcd_warden::sched
