// When a job runs next: a pure state machine over an injected clock and random
// source. It knows nothing of timers; the Scheduler turns next_due() into an
// Asio timer. Rules:
//   - first run after a random delay in [0, jitter] (spreads wardens that
//     start together, e.g. after a host reboot);
//   - after success or skip: every + uniform[0, jitter];
//   - after the n-th consecutive failure: min(retry_max, retry_initial * 2^(n-1)),
//     scaled by a random factor in [0.8, 1.0] so wardens do not retry in step;
//   - never two runs at once: try_start() refuses while a run is going.
#pragma once

#include <chrono>
#include <optional>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/sched/clock.hpp"
#include "etcd_warden/sched/job_result.hpp"

namespace etcd_warden::sched {

struct RetryPolicy {
  config::Duration initial;
  config::Duration max;
};

// The retry bounds a schedule implies when it does not set them: retry soon
// (at most 10 s), and back off to at most 5 min, but never below 30 s so a
// 1 s status poll does not hammer a dead endpoint.
RetryPolicy effective_retry(const config::Schedule& s);

// The delay before the next run, given the outcome of the last one.
config::Duration delay_after(const config::Schedule& s, Outcome last, unsigned consecutive_failures,
                             double random01);

class JobSchedule {
 public:
  JobSchedule(config::Schedule schedule, const Clock& clock, Random& random);

  SteadyTime next_due() const { return next_due_; }
  bool due() const { return !running_ && clock_.now() >= next_due_; }
  bool running() const { return running_; }
  unsigned consecutive_failures() const { return failures_; }

  // Starts a run; false (and nothing changes) while one is already running.
  bool try_start();
  void finish(Outcome outcome);
  // A run requested by a person (ctl run, job NAME): due now.
  void request_now() { next_due_ = clock_.now(); }
  // New schedule (SIGHUP): the next run moves to the new interval.
  void reschedule(config::Schedule schedule);
  const config::Schedule& schedule() const { return schedule_; }

 private:
  config::Schedule schedule_;
  const Clock& clock_;
  Random& random_;
  SteadyTime next_due_;
  SteadyTime last_start_{};
  bool running_ = false;
  unsigned failures_ = 0;
};

}  // namespace etcd_warden::sched
