// The status job: polls the local member (Status, MemberList, alarms, and the
// quota from etcd's /metrics when needed), updates the board and metrics, and
// logs state changes once. etcd down is a result ("degraded"), never fatal.
#pragma once

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
};

}  // namespace etcd_warden::jobs
