// The status job: polls the local member (Status, MemberList, alarms, and the
// quota from etcd's /metrics when needed), updates the board and metrics, and
// logs state changes once. etcd down is a result ("degraded"), never fatal.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "etcd_warden/jobs/job_context.hpp"
#include "etcd_warden/sched/job_result.hpp"

namespace etcd_warden::jobs {

// The quota when it needs no /metrics scrape: `etcd.quota` from the config,
// else etcd 3.6's StatusResponse.dbSizeQuota (0 on 3.4 and 3.5).
std::optional<std::pair<Bytes, status::QuotaSource>> known_quota(
    const config::Etcd& cfg, const etcdserverpb::StatusResponse& status);

class StatusJob {
 public:
  explicit StatusJob(JobContext& context) : context_(context) {}
  Task<sched::JobResult> run();

 private:
  Task<void> fill_quota(status::MemberStatus& member, const etcdserverpb::StatusResponse& status);
  void publish(const status::MemberStatus& previous);
  // A learner's warden: reads the voting members' client URLs from their
  // wardens' reports (a serializable read the learner serves) and hands them
  // to the client. True when it found new ones.
  Task<bool> find_voters(std::uint64_t self);

  JobContext& context_;
  // etcd's quota changes only with a restart of etcd, and its /metrics page is
  // ~100 KiB of text: read it after (re)connecting and then every 10 minutes,
  // not on every poll.
  std::optional<sched::SteadyTime> quota_scraped_at_;
  // The last "learner: member list unknown" note, logged once per change.
  std::string learner_gap_;
};

}  // namespace etcd_warden::jobs
