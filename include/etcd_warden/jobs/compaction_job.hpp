// The compaction job: only the warden whose member is leader compacts, to the
// revision jobs/compaction_rule.hpp picks (revision or periodic mode). Every
// warden samples revisions on each run, so a new leader's warden already has
// the history periodic mode needs. "Already compacted" counts as success.
#pragma once

#include "etcd_warden/jobs/compaction_rule.hpp"
#include "etcd_warden/jobs/job_context.hpp"
#include "etcd_warden/sched/job_result.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::jobs {

class CompactionJob {
 public:
  explicit CompactionJob(JobContext& context) : context_(context) {}
  Task<sched::JobResult> run();

 private:
  JobContext& context_;
  RevisionSamples samples_;
  std::int64_t last_compacted_ = 0;
};

// Compacts the keyspace to `revision` through the local member. "Already
// compacted" (etcd's ErrCompacted) is success; the message says which. The
// error: etcd's answer.
struct Compacted {
  bool already = false;
  std::string message;
};
Task<util::Result<Compacted>> compact_to(std::shared_ptr<etcd::Client> etcd, std::int64_t revision,
                                         bool physical, config::Duration timeout);

}  // namespace etcd_warden::jobs
