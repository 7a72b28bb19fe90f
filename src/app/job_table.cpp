#include "etcd_warden/app/job_table.hpp"

#include "etcd_warden/jobs/status_job.hpp"

namespace etcd_warden::app {

// The job objects themselves; each issue's job adds a member here and a
// JobSpec below.
struct JobTable::Jobs {
  explicit Jobs(jobs::JobContext& context) : status(context) {}
  jobs::StatusJob status;
};

JobTable::JobTable(jobs::JobContext& context) : jobs_(std::make_unique<Jobs>(context)) {
  auto* j = jobs_.get();
  specs_.push_back({"status", [](const config::Config&) { return true; },
                    [](const config::Config& c) { return c.status.schedule; },
                    [j] { return j->status.run(); }});
}

JobTable::~JobTable() = default;

const JobSpec* JobTable::find(const std::string& name) const {
  for (const auto& spec : specs_) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string JobTable::names() const {
  std::string out;
  for (const auto& spec : specs_) out += (out.empty() ? "" : ", ") + spec.name;
  return out;
}

}  // namespace etcd_warden::app
