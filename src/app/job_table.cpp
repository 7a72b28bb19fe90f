#include "etcd_warden/app/job_table.hpp"

#include "etcd_warden/jobs/alarms_job.hpp"
#include "etcd_warden/jobs/certificates_job.hpp"
#include "etcd_warden/jobs/compaction_job.hpp"
#include "etcd_warden/jobs/consistency_job.hpp"
#include "etcd_warden/jobs/defrag_job.hpp"
#include "etcd_warden/jobs/drill_job.hpp"
#include "etcd_warden/jobs/snapshot_job.hpp"
#include "etcd_warden/jobs/status_job.hpp"
#include "etcd_warden/jobs/tuning_job.hpp"

namespace etcd_warden::app {

// The job objects themselves; each issue's job adds a member here and a
// JobSpec below.
struct JobTable::Jobs {
  explicit Jobs(jobs::JobContext& context)
      : status(context),
        snapshot(context),
        compaction(context),
        defrag(context),
        alarms(context),
        tuning(context),
        consistency(context),
        certificates(context),
        drill(context) {}
  jobs::StatusJob status;
  jobs::SnapshotJob snapshot;
  jobs::CompactionJob compaction;
  jobs::DefragJob defrag;
  jobs::AlarmsJob alarms;
  jobs::TuningJob tuning;
  jobs::ConsistencyJob consistency;
  jobs::CertificatesJob certificates;
  jobs::DrillJob drill;
};

void JobTable::cancel_in_flight() {
  jobs_->snapshot.cancel_uploads();
}

JobTable::JobTable(jobs::JobContext& context) : jobs_(std::make_unique<Jobs>(context)) {
  auto* j = jobs_.get();
  specs_.push_back({"status", [](const config::Config&) { return true; },
                    [](const config::Config& c) { return c.status.schedule; },
                    [j] { return j->status.run(); }});
  specs_.push_back({"snapshot", [](const config::Config& c) { return c.snapshot.enabled; },
                    [](const config::Config& c) { return c.snapshot.schedule; },
                    [j] { return j->snapshot.run(); }, [j] { j->snapshot.start(); }});
  specs_.push_back({"compact", [](const config::Config& c) { return c.compaction.enabled; },
                    [](const config::Config& c) { return c.compaction.schedule; },
                    [j] { return j->compaction.run(); }});
  specs_.push_back({"defrag", [](const config::Config& c) { return c.defrag.enabled; },
                    [](const config::Config& c) { return c.defrag.schedule; },
                    [j] { return j->defrag.run(); }});
  specs_.push_back({"alarms", [](const config::Config& c) { return c.alarms.enabled; },
                    [](const config::Config& c) { return c.alarms.schedule; },
                    [j] { return j->alarms.run(); }});
  specs_.push_back({"tuning",
                    [](const config::Config& c) { return c.tuning.enabled; },
                    [](const config::Config& c) { return c.tuning.schedule; },
                    [j] { return j->tuning.run(); },
                    {},
                    [j](std::ostream& out) { j->tuning.print_report(out); }});
  specs_.push_back({"consistency", [](const config::Config& c) { return c.consistency.enabled; },
                    [](const config::Config& c) { return c.consistency.schedule; },
                    [j] { return j->consistency.run(); }});
  specs_.push_back({"certificates",
                    [](const config::Config& c) { return c.certificates.enabled; },
                    [](const config::Config& c) { return c.certificates.schedule; },
                    [j] { return j->certificates.run(); },
                    {},
                    [j](std::ostream& out) { j->certificates.print_report(out); }});
  specs_.push_back({"drill", [](const config::Config& c) { return c.drill.enabled; },
                    [](const config::Config& c) { return c.drill.schedule; },
                    [j] { return j->drill.run(); }, [j] { j->drill.start(); },
                    [j](std::ostream& out) { j->drill.print_report(out); }});
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
