// The defrag job: defragments the local member when the rule says it pays
// (jobs/defrag_rule.hpp), one member of the whole cluster at a time (a leased
// lock in etcd), only while every member is healthy and the disk has room for
// the copy, handing leadership off first when the member leads.
#pragma once

#include "etcd_warden/jobs/job_context.hpp"
#include "etcd_warden/jobs/maintenance_ops.hpp"
#include "etcd_warden/sched/job_result.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::coord {
class LeaseLock;
}

namespace etcd_warden::jobs {

class DefragJob {
 public:
  explicit DefragJob(JobContext& context) : context_(context) {}
  Task<sched::JobResult> run();

 private:
  // Everything done while holding the lock; the caller releases it.
  Task<sched::JobResult> locked(std::shared_ptr<const config::Config> config,
                                std::shared_ptr<etcd::Client> etcd, coord::LeaseLock& lock,
                                std::uint64_t self);
  // The defrag round in force (round_in_force over the recorded one).
  Task<etcd::Result<std::optional<DefragRound>>> current_round(std::shared_ptr<etcd::Client> etcd,
                                                               const config::Config& cfg,
                                                               const ClusterView& view) const;
  bool in_window(const config::DefragJob& cfg) const;
  DefragPolicy policy(const config::Config& cfg) const;
  LocalFacts facts(const config::Config& cfg, const util::Result<Bytes>& free) const;

  JobContext& context_;
  DiskReporter reporter_;
  // Since when the local member, as leader, has been letting followers go
  // first without seeing progress, and for which of them.
  std::optional<sched::SteadyTime> leader_waiting_since_;
  std::string leader_wait_reason_;
};

}  // namespace etcd_warden::jobs
