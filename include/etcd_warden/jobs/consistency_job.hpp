// The consistency job: the leader's warden asks every voting member for
// HashKV at one revision (consistency_rule.hpp says which and what the
// answers mean) and records the verdict under <prefix>consistency; every
// other warden reads that record. A mismatch is CONSISTENCY MISMATCH in
// STATUS=, etcd_warden_consistency_mismatch 1, and the defrag job is held.
// etcd's own corruption checks are off by default on 3.4 and 3.5.
#pragma once

#include <optional>
#include <vector>

#include "etcd_warden/jobs/consistency_rule.hpp"
#include "etcd_warden/jobs/job_context.hpp"
#include "etcd_warden/jobs/member_view.hpp"
#include "etcd_warden/sched/job_result.hpp"

namespace etcd_warden::jobs {

class ConsistencyJob {
 public:
  explicit ConsistencyJob(JobContext& context) : context_(context) {}
  Task<sched::JobResult> run();

 private:
  // The leader's part: ask, judge (one retry when the revision moved or the
  // compact revisions differ), record.
  Task<sched::JobResult> compare(std::shared_ptr<const config::Config> config,
                                 std::shared_ptr<etcd::Client> etcd, ClusterView view,
                                 std::uint64_t self);
  // Mirrors a record on the board and in the metrics.
  void publish(const std::optional<ConsistencyRecord>& record);

  JobContext& context_;
};

// The record as last written, nullopt when there is none or it is unreadable
// (with the reason in `why`, for the caller's summary).
Task<std::optional<ConsistencyRecord>> read_consistency(std::shared_ptr<etcd::Client> etcd,
                                                        std::string key, std::string* why);

}  // namespace etcd_warden::jobs
