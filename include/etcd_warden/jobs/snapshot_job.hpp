// The snapshot job: streams Maintenance.Snapshot from the local member into a
// private file (verified sha256 trailer, fsync, atomic rename, optional zstd),
// writes its sidecar, copies it to copy_to directories, applies retention and
// runs the hook. A failed or partial snapshot never replaces or deletes a
// verified one: files only appear by rename after verification, and
// retention runs only after a success.
#pragma once

#include "etcd_warden/jobs/job_context.hpp"
#include "etcd_warden/sched/job_result.hpp"

namespace etcd_warden::jobs {

class SnapshotJob {
 public:
  explicit SnapshotJob(JobContext& context) : context_(context) {}
  Task<sched::JobResult> run();

  // Publishes the newest verified snapshot in the directory as if just taken
  // (metrics survive a restart, so "snapshot stale" alerts stay right).
  void publish_existing();

 private:
  JobContext& context_;
  bool cleaned_up_ = false;  // stale partials are removed once per process
};

}  // namespace etcd_warden::jobs
