// The alarms job: recovers from NOSPACE without a human (compact to the
// current revision, defragment every member one at a time, disarm, check that
// a write succeeds) and reports CORRUPT loudly without ever disarming it.
// Under NOSPACE the lease lock is unusable (etcd refuses LeaseGrant and Txn
// with a Put), so the warden chosen by jobs/alarm_rule.hpp acts alone.
#pragma once

#include <optional>
#include <set>

#include "etcd_warden/jobs/alarm_rule.hpp"
#include "etcd_warden/jobs/job_context.hpp"
#include "etcd_warden/jobs/maintenance_ops.hpp"
#include "etcd_warden/sched/job_result.hpp"

namespace etcd_warden::jobs {

class AlarmsJob {
 public:
  explicit AlarmsJob(JobContext& context) : context_(context) {}
  Task<sched::JobResult> run();

 private:
  Task<sched::JobResult> recover(std::shared_ptr<const config::Config> config,
                                 std::shared_ptr<etcd::Client> etcd, std::uint64_t self);
  void report_corrupt(const std::string& reason);

  JobContext& context_;
  DiskReporter reporter_;
  // A Defragment of this recovery that got no answer: not asked again until
  // etcd shows it finished (the member's file size changed).
  std::optional<DefragMarker> pending_;
  // Members defragmented since this NOSPACE alarm was raised (a retry does
  // not copy them again unless they have free pages again).
  std::set<std::uint64_t> done_this_alarm_;
  std::string last_corrupt_;
};

}  // namespace etcd_warden::jobs
