#include "etcd_warden/sched/job_schedule.hpp"

#include <algorithm>
#include <cmath>

namespace etcd_warden::sched {

using config::Duration;
using namespace std::chrono_literals;

namespace {

Duration scale(Duration d, double factor) {
  return Duration{
      static_cast<Duration::rep>(std::llround(static_cast<double>(d.count()) * factor))};
}

}  // namespace

RetryPolicy effective_retry(const config::Schedule& s) {
  const Duration initial = s.retry_initial.value_or(std::min<Duration>(s.every, 10s));
  const Duration max =
      s.retry_max.value_or(std::max<Duration>(30s, std::min<Duration>(s.every, 5min)));
  return {initial, std::max(initial, max)};
}

Duration delay_after(const config::Schedule& s, Outcome last, unsigned consecutive_failures,
                     double random01) {
  if (last != Outcome::failure || consecutive_failures == 0) {
    return s.every + scale(s.jitter, random01);
  }
  const RetryPolicy retry = effective_retry(s);
  // 2^(n-1), capped well before overflow: after 30 doublings any interval is past max.
  const unsigned doublings = std::min(consecutive_failures - 1, 30u);
  const double grown =
      static_cast<double>(retry.initial.count()) * std::ldexp(1.0, static_cast<int>(doublings));
  const Duration base = grown >= static_cast<double>(retry.max.count())
                            ? retry.max
                            : Duration{static_cast<Duration::rep>(grown)};
  return scale(base, 0.8 + 0.2 * random01);
}

JobSchedule::JobSchedule(config::Schedule schedule, const Clock& clock, Random& random)
    : schedule_(schedule), clock_(clock), random_(random) {
  next_due_ = clock_.now() + scale(schedule_.jitter, random_.uniform01());
}

bool JobSchedule::try_start() {
  if (running_) return false;
  running_ = true;
  last_start_ = clock_.now();
  return true;
}

void JobSchedule::finish(Outcome outcome) {
  running_ = false;
  failures_ = outcome == Outcome::failure ? failures_ + 1 : 0;
  next_due_ = clock_.now() + delay_after(schedule_, outcome, failures_, random_.uniform01());
}

void JobSchedule::reschedule(config::Schedule schedule) {
  schedule_ = schedule;
  if (running_) return;  // finish() computes the next run from the new schedule
  const SteadyTime by_new_interval = last_start_ + schedule_.every;
  next_due_ = std::max(clock_.now(), std::min(next_due_, by_new_interval));
}

}  // namespace etcd_warden::sched
