#include "etcd_warden/jobs/alarms_job.hpp"

// GCC 12 at -O2 inlines Asio's awaitable frame operator new/delete (its
// recycling allocator) into large coroutines and then reports a
// -Wmismatched-new-delete that does not exist: both sides are Asio's own pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <spdlog/spdlog.h>

#include "etcd_warden/coord/lease_lock.hpp"
#include "etcd_warden/jobs/compaction_job.hpp"

namespace etcd_warden::jobs {

namespace pb = ::etcdserverpb;
using sched::JobResult;

namespace {

void publish_alarms(metrics::WardenMetrics& m, const ClusterView& view) {
  m.alarm("NOSPACE").Set(view.has_alarm(AlarmKind::nospace) ? 1 : 0);
  m.alarm("CORRUPT").Set(view.has_alarm(AlarmKind::corrupt) ? 1 : 0);
}

}  // namespace

void AlarmsJob::report_corrupt(const std::string& reason) {
  // Once per change: the status line and metric stay on for as long as it lasts.
  if (reason == last_corrupt_) return;
  last_corrupt_ = reason;
  spdlog::critical("{}", reason);
}

Task<JobResult> AlarmsJob::run() {
  auto config = context_.config;
  auto etcd = context_.etcd;
  if (etcd->cancelled()) co_return JobResult::skipped("stopping");
  std::uint64_t self = 0;
  auto probe = probe_cluster(etcd, &self);
  auto seen = co_await std::move(probe);
  if (!seen) {
    co_return JobResult::skipped("cannot read the alarms: " + seen.error());
  }
  const ClusterView& view = *seen;
  publish_alarms(context_.metrics, view);
  if (const MemberView* me = view.find(self);
      me != nullptr && !me->is_learner && !view.has_alarm(AlarmKind::nospace)) {
    auto report = reporter_.publish(context_, self, me->url);
    co_await std::move(report);
  }

  const DefragPolicy rules = defrag_policy(
      config->defrag, config->etcd.quota ? config->etcd.quota : context_.board.member.quota);
  const AlarmDecision decision = decide_alarms(view, self, rules);
  if (!view.has_alarm(AlarmKind::nospace)) done_this_alarm_.clear();
  switch (decision.kind) {
    case AlarmDecision::Kind::none:
      last_corrupt_.clear();
      co_return JobResult::success("no alarm");
    case AlarmDecision::Kind::corrupt:
      report_corrupt(decision.reason);
      co_return JobResult::failure(decision.reason);
    case AlarmDecision::Kind::stand_by:
      co_return JobResult::skipped(decision.reason);
    case AlarmDecision::Kind::blocked:
      co_return JobResult::failure(decision.reason);
    case AlarmDecision::Kind::recover:
      break;
  }
  spdlog::warn("{}", decision.reason);
  auto body = recover(config, etcd, self);
  JobResult result = co_await std::move(body);
  if (result.outcome == sched::Outcome::failure) {
    spdlog::error("NOSPACE recovery failed: {}", result.summary);
  } else if (result.outcome == sched::Outcome::success) {
    spdlog::info("{}", result.summary);
  }
  co_return result;
}

Task<JobResult> AlarmsJob::recover(std::shared_ptr<const config::Config> config,
                                   std::shared_ptr<etcd::Client> etcd, std::uint64_t self) {
  const CoordKeys keys(config->coordination.prefix);
  const auto now_unix = sched::unix_seconds(context_.clock.wall_now());

  // A normal defrag that started before the alarm may still hold the lock:
  // wait for it. No new lock can be taken while NOSPACE is raised (LeaseGrant
  // and Txn-with-Put are refused), so once the key is gone it stays gone.
  auto holder_op = coord::LeaseLock::holder_of(etcd, keys.lock);
  auto holder = co_await std::move(holder_op);
  if (!holder)
    co_return JobResult::failure("cannot read " + keys.lock + ": " + holder.error().to_string());
  if (!holder.value().empty()) {
    co_return JobResult::skipped("NOSPACE recovery waits for the defrag lock holder (" +
                                 holder.value() + ") to finish");
  }
  auto marker_op = read_marker(etcd, keys);
  auto marker = co_await std::move(marker_op);
  if (!marker)
    co_return JobResult::failure("cannot read " + keys.inflight + ": " +
                                 marker.error().to_string());

  auto first_probe = probe_cluster(etcd);
  auto first = co_await std::move(first_probe);
  if (!first) {
    co_return JobResult::failure("NOSPACE recovery cannot see the cluster: " + first.error());
  }
  const ClusterView& start = *first;
  if (marker.value()) {
    const DefragMarker& m = *marker.value();
    const MemberView* member = start.find(m.member_id);
    std::optional<Bytes> size;
    std::optional<bool> inflight;
    if (member != nullptr && member->answered) {
      size = member->db_size;
      auto running = defrag_running(etcd, *config, *context_.blocking, *member, member->id == self);
      inflight = co_await std::move(running);
    }
    if (marker_state(m, size, inflight, now_unix) == MarkerState::running) {
      co_return JobResult::skipped("NOSPACE recovery waits: the defrag of " +
                                   (member != nullptr ? label(*member) : hex_id(m.member_id)) +
                                   " started by " + m.by + " may still be running");
    }
    auto drop = delete_marker(etcd, keys);  // deletes are allowed under NOSPACE
    co_await std::move(drop);
  }

  // 1. Compact to the current revision, physically, so the defrags below
  // find the old revisions' pages free. Done even with compaction disabled:
  // without it there is usually nothing to reclaim.
  Bytes largest;
  for (const auto& m : start.members) largest = std::max(largest, m.db_size);
  const auto long_deadline = defrag_deadline(largest, etcd->request_timeout());
  auto status_op = etcd->status();
  auto st = co_await std::move(status_op);
  if (!st) co_return JobResult::failure("NOSPACE recovery: " + st.error().to_string());
  const std::int64_t revision = st->header().revision();
  auto compact_op = compact_to(etcd, revision, true, long_deadline);
  auto compacted = co_await std::move(compact_op);
  if (!compacted) {
    co_return JobResult::failure("NOSPACE recovery: compaction to " + std::to_string(revision) +
                                 " failed: " + compacted.error());
  }
  if (!compacted->already) {
    metrics::WardenMetrics::set(context_.metrics.compaction_last_revision,
                                static_cast<double>(revision));
  }
  spdlog::info("NOSPACE recovery: {}", compacted->message);

  // 2. Defragment every member, one at a time, with the gates before each.
  const DefragPolicy rules = defrag_policy(
      config->defrag, config->etcd.quota ? config->etcd.quota : context_.board.member.quota);
  std::set<std::uint64_t> done;
  Bytes reclaimed;
  while (true) {
    if (etcd->cancelled()) co_return JobResult::failure("NOSPACE recovery stopped: shutting down");
    auto probe = probe_cluster(etcd);
    auto seen = co_await std::move(probe);
    if (!seen) {
      co_return JobResult::failure("NOSPACE recovery cannot see the cluster: " + seen.error());
    }
    const ClusterView& view = *seen;
    if (choose_nospace_actor(view) != self) {
      co_return JobResult::skipped(
          "NOSPACE recovery handed over: this warden is no longer the "
          "lowest-ID healthy member's");
    }
    const Verdict gates = cluster_gates(view, rules);
    if (!gates.ok) co_return JobResult::failure("NOSPACE recovery waits: " + gates.reason);
    const auto next = next_recovery_member(view, recovery_skips(view, done, done_this_alarm_));
    if (!next) break;
    const MemberView& m = *view.find(*next);
    // Its share of the compaction must be done, or the copy keeps the old revisions.
    auto settle = wait_compaction_settled(etcd, context_.clock, m, long_deadline);
    co_await std::move(settle);

    if (pending_ && pending_->member_id == m.id) {
      auto running = defrag_running(etcd, *config, *context_.blocking, m, m.id == self);
      const std::optional<bool> inflight = co_await std::move(running);
      if (marker_state(*pending_, m.db_size, inflight,
                       sched::unix_seconds(context_.clock.wall_now())) == MarkerState::running) {
        co_return JobResult::failure("NOSPACE recovery waits: the earlier defrag of " + label(m) +
                                     " has not finished yet");
      }
      pending_.reset();
    }

    std::optional<Bytes> free;
    std::string where;
    if (m.id == self) {
      where = config->etcd.data_dir.string();
      auto measure = measure_free_disk(context_, config->etcd.data_dir);
      auto measured = co_await std::move(measure);
      if (measured) free = *measured;
    } else {
      where = label(m) + "'s data dir, as its warden last reported";
      auto read = read_disk_report(etcd, keys, m.id);
      auto report = co_await std::move(read);
      free = usable_report(report, sched::unix_seconds(context_.clock.wall_now()));
      if (!free) where = label(m) + "'s data dir: no recent report from its warden";
    }
    const Verdict disk = disk_gate(m, free, rules, where);
    if (!disk.ok) co_return JobResult::failure("NOSPACE recovery refused: " + disk.reason);

    StepOptions options;
    options.policy = &rules;
    options.local = m.id == self;
    auto step = defrag_member(context_, etcd, view, m.id, std::move(options));
    StepOutcome outcome = co_await std::move(step);
    if (outcome.kind == StepOutcome::Kind::still_running) {
      const auto started = sched::unix_seconds(context_.clock.wall_now());
      pending_ = DefragMarker{m.id, m.db_size, started, started + 3600, label(m)};
    }
    if (outcome.kind != StepOutcome::Kind::done) {
      co_return JobResult::failure("NOSPACE recovery: " + outcome.summary);
    }
    done.insert(m.id);
    done_this_alarm_.insert(m.id);
    reclaimed = reclaimed + (outcome.before - outcome.after);
  }

  // 3. Disarm, but only when the data now fits: otherwise etcd would raise
  // the alarm again after a few writes.
  auto final_probe = probe_cluster(etcd);
  auto last = co_await std::move(final_probe);
  if (!last) {
    co_return JobResult::failure("NOSPACE recovery cannot see the cluster: " + last.error());
  }
  const ClusterView& after = *last;
  const Verdict headroom = disarm_headroom(after, rules.quota);
  if (!headroom.ok) co_return JobResult::failure("NOSPACE not disarmed: " + headroom.reason);
  for (const auto& alarm : after.alarms) {
    if (alarm.kind != AlarmKind::nospace) continue;  // CORRUPT is never touched
    pb::AlarmRequest disarm;
    disarm.set_action(pb::AlarmRequest::DEACTIVATE);
    disarm.set_memberid(alarm.member_id);
    disarm.set_alarm(pb::NOSPACE);
    auto send = etcd->alarm(std::move(disarm));
    auto answer = co_await std::move(send);
    if (!answer) {
      co_return JobResult::failure("NOSPACE recovery: disarming on " + hex_id(alarm.member_id) +
                                   " failed: " + answer.error().to_string());
    }
    spdlog::info("NOSPACE alarm disarmed member={}", hex_id(alarm.member_id));
  }

  // 4. Prove that writes succeed again.
  const std::string probe_key = keys.write_check + "/" + hex_id(self);
  pb::PutRequest put;
  put.set_key(probe_key);
  put.set_value(std::to_string(sched::unix_seconds(context_.clock.wall_now())));
  auto write = etcd->put(std::move(put));
  auto written = co_await std::move(write);
  if (!written) {
    co_return JobResult::failure("NOSPACE disarmed but a test write still fails: " +
                                 written.error().to_string());
  }
  pb::TxnRequest remove;
  remove.add_success()->mutable_request_delete_range()->set_key(probe_key);
  auto cleanup = etcd->txn(std::move(remove));
  co_await std::move(cleanup);
  const MemberView* me = after.find(self);
  auto refresh = reporter_.publish(context_, self, me != nullptr ? me->url : std::string(), true);
  co_await std::move(refresh);

  co_return JobResult::success("NOSPACE recovered: " + compacted->message + ", defragmented " +
                               std::to_string(done.size()) + " member(s), reclaimed " +
                               to_string(reclaimed) + ", alarm disarmed, writes succeed");
}

}  // namespace etcd_warden::jobs
