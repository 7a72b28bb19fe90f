#include "etcd_warden/jobs/compaction_job.hpp"

// GCC 12 at -O2 inlines Asio's awaitable frame operator new/delete (its
// recycling allocator) into large coroutines and then reports a
// -Wmismatched-new-delete that does not exist: both sides are Asio's own pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <spdlog/spdlog.h>

#include "etcd_warden/jobs/member_view.hpp"

namespace etcd_warden::jobs {

using sched::JobResult;

Task<util::Result<Compacted>> compact_to(std::shared_ptr<etcd::Client> etcd, std::int64_t revision,
                                         bool physical, config::Duration timeout) {
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  request.set_physical(physical);
  auto call = etcd->compact(std::move(request), timeout);
  auto answer = co_await std::move(call);
  if (answer) co_return Compacted{false, "compacted to revision " + std::to_string(revision)};
  if (answer.error().compacted()) {
    co_return Compacted{true, "already compacted past revision " + std::to_string(revision)};
  }
  co_return util::fail(answer.error().to_string());
}

Task<JobResult> CompactionJob::run() {
  auto config = context_.config;
  auto etcd = context_.etcd;
  const auto& cfg = config->compaction;
  auto status_op = etcd->status();
  auto st = co_await std::move(status_op);
  if (!st) co_return JobResult::skipped("local member does not answer: " + st.error().to_string());

  const std::int64_t current = st->header().revision();
  const auto now = context_.clock.now();
  samples_.add(now, current);
  if (cfg.mode == config::CompactionMode::periodic) samples_.prune(now - cfg.retention_period);

  const std::uint64_t self = st->header().member_id();
  if (st->leader() != self) {
    co_return JobResult::skipped(
        "not the leader (leader " +
        (st->leader() == 0 ? std::string("unknown") : hex_id(st->leader())) +
        "); only the leader's warden compacts");
  }

  const CompactionDecision decision =
      cfg.mode == config::CompactionMode::revision
          ? decide_revision_compaction(current, cfg.retention_revisions, last_compacted_)
          : decide_periodic_compaction(samples_, now, cfg.retention_period, last_compacted_);
  if (decision.kind == CompactionDecision::Kind::skip)
    co_return JobResult::skipped(decision.reason);

  auto compact = compact_to(etcd, decision.revision, false, etcd->request_timeout());
  auto outcome = co_await std::move(compact);
  if (!outcome) {
    co_return JobResult::failure("compaction to " + std::to_string(decision.revision) +
                                 " failed: " + outcome.error());
  }
  last_compacted_ = decision.revision;
  if (!outcome->already) {
    metrics::WardenMetrics::set(context_.metrics.compaction_last_revision,
                                static_cast<double>(decision.revision));
  }
  co_return JobResult::success(outcome->message + " (" + decision.reason + ")");
}

}  // namespace etcd_warden::jobs
