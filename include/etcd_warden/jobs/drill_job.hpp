// The restore drill: the newest verified snapshot in snapshot.dir, its bytes
// checked against its sidecar again, restored (etcdutl from 3.5, etcdctl on
// 3.4) into <snapshot.dir>/.drill after a free-space preflight, and served by
// a throwaway single-member etcd on free loopback ports. It must answer
// within drill.start_timeout at the snapshot's revision, with as many keys
// and the same HashKV as the live cluster at that revision where the live
// cluster can still tell (drill/drill_rule.hpp). Then the etcd is stopped
// and every file of the drill removed, whatever happened.
//
// Blocking steps (verify, decompress, restore, start, cleanup) run on the
// blocking pool; the waits and the checks are gRPC calls with deadlines on
// the loop. One drill at a time per snapshot directory (drill/scratch.hpp).
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "etcd_warden/jobs/job_context.hpp"
#include "etcd_warden/sched/job_result.hpp"

namespace etcd_warden::jobs {

struct DrillStep {
  std::string name;  // verify, restore, start, revision, keys, hash, cleanup
  std::optional<std::chrono::duration<double>> took;  // for the timed ones
  std::string detail;
  bool ok = true;
};

struct DrillReport {
  std::string about;  // "snapshot FILE (revision, size), etcd 3.4.23 in DIR (...)"
  std::vector<DrillStep> steps;
  std::vector<std::string> notes;
  std::chrono::duration<double> total{0};
};

class DrillJob {
 public:
  explicit DrillJob(JobContext& context) : context_(context) {}
  Task<sched::JobResult> run();
  // At daemon start: removes what a drill killed mid-way left, and publishes
  // the last success recorded in .drill.json.
  void start();
  // The steps with their timings, for `job drill`.
  void print_report(std::ostream& out) const;

  struct Session;  // drill_job.cpp

 private:
  Task<sched::JobResult> drill(std::shared_ptr<const config::Config> config,
                               std::shared_ptr<Session> session, DrillReport& report);
  Task<void> start_scan(std::filesystem::path dir);
  void publish_success(double unix_seconds, double duration_seconds);

  JobContext& context_;
  std::optional<DrillReport> last_;
};

}  // namespace etcd_warden::jobs
