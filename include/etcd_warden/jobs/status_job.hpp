// The status job: polls the local member (Status, MemberList, alarms, and the
// quota from etcd's /metrics when needed), updates the board and metrics, and
// logs state changes once. etcd down is a result ("degraded"), never fatal.
#pragma once

#include <optional>

#include "etcd_warden/jobs/job_context.hpp"
#include "etcd_warden/sched/job_result.hpp"

namespace etcd_warden::jobs {

class StatusJob {
 public:
  explicit StatusJob(JobContext& context) : context_(context) {}
  Task<sched::JobResult> run();

 private:
  Task<void> fill_quota(status::MemberStatus& member, const etcdserverpb::StatusResponse& status);
  void publish(const status::MemberStatus& previous);

  JobContext& context_;
  // etcd's quota changes only with a restart of etcd, and its /metrics page is
  // ~100 KiB of text: read it after (re)connecting and then every 10 minutes,
  // not on every poll.
  std::optional<sched::SteadyTime> quota_scraped_at_;
};

}  // namespace etcd_warden::jobs
