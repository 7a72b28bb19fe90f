// The snapshot job: streams Maintenance.Snapshot from the local member into a
// private file (verified sha256 trailer, fsync, atomic rename, optional zstd),
// writes its sidecar, copies it to copy_to directories, applies retention and
// runs the hook, then uploads it to each snapshot.upload target (on a thread
// of its own, so a slow bucket holds up neither the loop nor the blocking
// pool; a failed upload fails the run with "local ok" in its message). A failed or partial snapshot
// never replaces or deletes a verified one: files only appear by rename after verification, and
// retention runs only after a success.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "etcd_warden/jobs/job_context.hpp"
#include "etcd_warden/sched/job_result.hpp"
#include "etcd_warden/snapshot/catalog.hpp"

namespace etcd_warden::jobs {

class SnapshotJob {
 public:
  explicit SnapshotJob(JobContext& context);
  // Stops a running upload (within a second) and waits for its thread.
  ~SnapshotJob();
  SnapshotJob(const SnapshotJob&) = delete;
  SnapshotJob& operator=(const SnapshotJob&) = delete;
  Task<sched::JobResult> run();

  // At daemon start, on the blocking pool: removes the hidden partials a
  // crash (SIGKILL, power loss) left, which may hold a database's size of
  // disk, without waiting for the first run (up to its jitter away); a
  // partial another process is writing is locked and left alone. Then
  // publishes the newest verified snapshot as if just taken (metrics survive
  // a restart, so "snapshot stale" alerts stay right). `done` runs on the
  // loop afterwards (tests).
  void start(std::function<void()> done = {});
  // The daemon is stopping: a running upload ends within a second, and no
  // other starts.
  void cancel_uploads() { stop_uploads_->store(true); }

 private:
  Task<void> scan_at_start(std::function<void()> done);
  void publish_newest(const std::vector<snapshot::SnapshotEntry>& entries);
  // Uploads to every target; the problems, one per failed target.
  Task<std::vector<std::string>> upload(std::filesystem::path file, snapshot::SnapshotInfo info);

  JobContext& context_;
  bool cleaned_up_ = false;  // stale partials are removed once per process
  std::shared_ptr<std::atomic<bool>> stop_uploads_ = std::make_shared<std::atomic<bool>>(false);
  std::unique_ptr<asio::thread_pool> upload_thread_;
};

}  // namespace etcd_warden::jobs
