// The one list of jobs the warden knows: name, whether the config enables it,
// its schedule, and how to run it. The daemon schedules them; `job NAME` and
// `ctl run NAME` run one of them now.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "etcd_warden/jobs/job_context.hpp"
#include "etcd_warden/sched/job_result.hpp"

namespace etcd_warden::app {

struct JobSpec {
  std::string name;
  std::function<bool(const config::Config&)> enabled;
  std::function<config::Schedule(const config::Config&)> schedule;
  std::function<Task<sched::JobResult>()> run;
  std::function<void()> on_start =
      {};  // once, when the daemon starts (e.g. publish existing state)
  // `job NAME` prints this after the result line (e.g. tuning's table).
  std::function<void(std::ostream&)> report = {};
};

// The jobs keep references into `context`, which must outlive them.
class JobTable {
 public:
  explicit JobTable(jobs::JobContext& context);
  ~JobTable();
  const std::vector<JobSpec>& specs() const { return specs_; }
  const JobSpec* find(const std::string& name) const;
  std::string names() const;  // "status, compact, ..." for help and errors
  // At shutdown: work that would outlast the grace period (uploads to object
  // storage) ends within a second; the jobs report it as stopped.
  void cancel_in_flight();

 private:
  struct Jobs;
  std::unique_ptr<Jobs> jobs_;
  std::vector<JobSpec> specs_;
};

}  // namespace etcd_warden::app
