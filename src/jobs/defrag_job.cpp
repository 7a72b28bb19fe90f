#include "etcd_warden/jobs/defrag_job.hpp"

// GCC 12 at -O2 inlines Asio's awaitable frame operator new/delete (its
// recycling allocator) into large coroutines and then reports a
// -Wmismatched-new-delete that does not exist: both sides are Asio's own pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <ctime>

#include "etcd_warden/config/units.hpp"
#include "etcd_warden/coord/lease_lock.hpp"
#include "etcd_warden/jobs/consistency_job.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::jobs {

namespace {

using sched::JobResult;

std::optional<Bytes> measured(const util::Result<Bytes>& free) {
  if (free) return *free;
  return std::nullopt;
}

// How long a warden waits for another one's lock within one run: one
// interval, so the next scheduled run is never delayed by more than that.
config::Duration lock_wait(const config::DefragJob& cfg) {
  return std::max<config::Duration>(cfg.schedule.every, std::chrono::seconds(1));
}

// The in-flight record, written just before Defragment while the lock is
// still ours. A coroutine with its own parameters (not a capturing lambda),
// so nothing it uses can go away while it runs.
Task<util::Status> record_defrag(std::shared_ptr<etcd::Client> etcd, CoordKeys keys,
                                 std::int64_t lease, JobContext* ctx, coord::LeaseLock* lock,
                                 MemberView m, config::Duration deadline) {
  if (lock->lost()) co_return util::fail("the defrag lock was lost before starting");
  const auto started = sched::unix_seconds(ctx->clock.wall_now());
  // The holder itself waits up to twice the deadline for a slow defrag.
  const auto span = std::chrono::duration_cast<std::chrono::seconds>(2 * deadline).count();
  const DefragMarker marker{m.id, m.db_size, started, started + span, label(m)};
  auto write = write_marker(etcd, keys, marker, lease);
  auto written = co_await std::move(write);
  if (!written) {
    co_return util::fail("cannot record the defrag in " + keys.inflight + ": " +
                         written.error().to_string());
  }
  if (!written.value()) co_return util::fail("the defrag lock is no longer ours");
  co_return util::ok();
}

}  // namespace

Task<etcd::Result<std::optional<DefragRound>>> DefragJob::current_round(
    std::shared_ptr<etcd::Client> etcd, const config::Config& cfg, const ClusterView& view) const {
  auto read = read_round(etcd, CoordKeys(cfg.coordination.prefix));
  auto recorded = co_await std::move(read);
  if (!recorded) co_return recorded.error();
  co_return round_in_force(recorded.value(), view, sched::unix_seconds(context_.clock.wall_now()),
                           round_max_age(cfg.defrag.schedule.every));
}

bool DefragJob::in_window(const config::DefragJob& cfg) const {
  if (!cfg.window) return true;
  const std::time_t now = std::chrono::system_clock::to_time_t(context_.clock.wall_now());
  std::tm local{};
  ::localtime_r(&now, &local);
  return cfg.window->contains(std::chrono::minutes(local.tm_hour * 60 + local.tm_min));
}

LocalFacts DefragJob::facts(const config::Config& cfg, const util::Result<Bytes>& free) const {
  LocalFacts f;
  f.free_disk = measured(free);
  f.in_window = in_window(cfg.defrag);
  f.data_dir = cfg.etcd.data_dir.native();
  // A leader waits for its followers' defrags while they make progress, not
  // forever: their wardens may be stopped or configured not to defragment.
  const auto patience = 3 * cfg.defrag.schedule.every;
  f.leader_done_waiting =
      leader_waiting_since_ && context_.clock.now() - *leader_waiting_since_ >= patience;
  return f;
}

DefragPolicy DefragJob::policy(const config::Config& cfg) const {
  std::optional<Bytes> quota = cfg.etcd.quota;
  if (!quota) quota = context_.board.member.quota;  // from Status (3.6) or etcd's /metrics
  return defrag_policy(cfg.defrag, quota);
}

Task<JobResult> DefragJob::run() {
  auto config = context_.config;
  auto etcd = context_.etcd;
  if (etcd->cancelled()) co_return JobResult::skipped("stopping");

  // A defrag rewrites the member's whole database: not while the members'
  // data disagree, which someone has to look into first.
  auto evidence =
      read_consistency(etcd, CoordKeys(config->coordination.prefix).consistency, nullptr);
  const auto consistency = co_await std::move(evidence);
  if (consistency && consistency->mismatch) {
    co_return JobResult::skipped("held while " + consistency_alert(consistency) +
                                 " stands (a defrag would rewrite the evidence)");
  }

  std::uint64_t self = 0;
  auto probe = probe_cluster(etcd, &self);
  auto seen = co_await std::move(probe);
  if (!seen) {
    co_return JobResult::skipped("cannot see the cluster: " + seen.error());
  }
  const ClusterView& view = *seen;
  if (self == 0) co_return JobResult::skipped("the local member does not answer Status");
  const MemberView* me = view.find(self);
  if (me != nullptr && !me->is_learner) {  // a learner refuses every write
    auto report = reporter_.publish(context_, self, me->url);
    co_await std::move(report);
  }

  const DefragPolicy rules = policy(*config);
  std::optional<DefragRound> round;
  if (me != nullptr && !me->is_learner) {
    auto current = current_round(etcd, *config, view);
    auto read = co_await std::move(current);
    if (!read)
      co_return JobResult::skipped("cannot read the defrag round: " + read.error().to_string());
    round = std::move(read.value());
  }
  auto measure = measure_free_disk(context_, config->etcd.data_dir);
  const auto free = co_await std::move(measure);
  const auto verdict =
      decide_defrag(view, self, rules, facts(*config, free), round ? &*round : nullptr);
  if (verdict.kind == DefragVerdict::Kind::leader_waits) {
    // Patience counts time without progress: a follower finished (the list
    // changed) or one is at it now (the lock is held) starts it again.
    bool progress = verdict.reason != leader_wait_reason_;
    if (!progress) {
      auto read = coord::LeaseLock::holder_of(etcd, CoordKeys(config->coordination.prefix).lock);
      auto holder = co_await std::move(read);
      progress = holder && !holder.value().empty();
    }
    if (progress || !leader_waiting_since_) leader_waiting_since_ = context_.clock.now();
    leader_wait_reason_ = verdict.reason;
    co_return JobResult::skipped(verdict.reason);
  }
  if (verdict.kind == DefragVerdict::Kind::skip) {
    if (verdict.why == DefragVerdict::Why::not_needed) leader_waiting_since_.reset();
    std::string reason = verdict.reason;
    if (!free && verdict.why == DefragVerdict::Why::free_disk_unknown) {
      reason += ": " + free.error();
    }
    co_return JobResult::skipped(reason);
  }

  const CoordKeys keys(config->coordination.prefix);
  const std::string holder =
      "holder=" + label(*me) + " member=" + hex_id(self) + " pid=" + std::to_string(::getpid()) +
      " since=" + std::to_string(sched::unix_seconds(context_.clock.wall_now()));
  const auto ttl = std::chrono::duration_cast<std::chrono::seconds>(config->coordination.lock_ttl);
  auto acquire = coord::LeaseLock::acquire(etcd, context_.clock, keys.lock, holder, ttl,
                                           lock_wait(config->defrag), std::chrono::seconds(1));
  auto attempt = co_await std::move(acquire);
  switch (attempt.outcome) {
    case coord::LeaseLock::Outcome::busy:
      co_return JobResult::skipped("waiting for another member's defrag: " + attempt.reason);
    case coord::LeaseLock::Outcome::failed:
      co_return JobResult::failure(attempt.reason);
    case coord::LeaseLock::Outcome::held:
      break;
  }
  spdlog::info("defrag lock taken key={} lease={:x}", keys.lock, attempt.lock->lease_id());
  auto body = locked(config, etcd, *attempt.lock, self);
  JobResult result = co_await std::move(body);
  if (attempt.lock->lost()) {
    result = JobResult::failure("lost the defrag lock (lease expired) during the run: " +
                                result.summary);
  }
  auto release = attempt.lock->release();
  co_await std::move(release);
  spdlog::info("defrag lock released key={}", keys.lock);
  co_return result;
}

Task<JobResult> DefragJob::locked(std::shared_ptr<const config::Config> config,
                                  std::shared_ptr<etcd::Client> etcd, coord::LeaseLock& lock,
                                  std::uint64_t self) {
  const CoordKeys keys(config->coordination.prefix);
  const auto now_unix = sched::unix_seconds(context_.clock.wall_now());

  // A defrag some warden started and could not see to its end (it died, was
  // stopped or timed out) may still be running in etcd: never start another
  // member before it is over.
  auto read = read_marker(etcd, keys);
  auto marker = co_await std::move(read);
  if (!marker)
    co_return JobResult::failure("cannot read " + keys.inflight + ": " +
                                 marker.error().to_string());

  auto probe = probe_cluster(etcd);
  auto seen = co_await std::move(probe);
  if (!seen) {
    co_return JobResult::skipped("cannot see the cluster: " + seen.error());
  }
  ClusterView view = *seen;

  if (marker.value()) {
    const DefragMarker& m = *marker.value();
    const MemberView* member = view.find(m.member_id);
    std::optional<Bytes> size;
    if (member != nullptr && member->answered) size = member->db_size;
    std::optional<bool> inflight;
    if (member != nullptr) {
      auto running =
          defrag_running(etcd, *config, *context_.blocking, *member, m.member_id == self);
      inflight = co_await std::move(running);
    }
    const auto state = marker_state(m, size, inflight, now_unix);
    const std::string who = member != nullptr ? label(*member) : hex_id(m.member_id);
    if (state == MarkerState::running) {
      co_return JobResult::skipped("the defrag of " + who + " started by " + m.by +
                                   " may still be running; waiting until etcd reports it finished");
    }
    if (state == MarkerState::expired) {
      spdlog::warn(
          "defrag of {} recorded by {} never reported an end; assuming it is over after "
          "its deadline",
          who, m.by);
    }
    auto drop = delete_marker(etcd, keys);
    co_await std::move(drop);
  }

  // The round and the gates once more, just before acting: the cluster may
  // have changed while this warden waited for the lock.
  const DefragPolicy rules = policy(*config);
  auto current = current_round(etcd, *config, view);
  auto read_round = co_await std::move(current);
  if (!read_round) {
    co_return JobResult::failure("cannot read " + keys.round + ": " +
                                 read_round.error().to_string());
  }
  const std::optional<DefragRound> round = read_round.value();
  auto measure = measure_free_disk(context_, config->etcd.data_dir);
  const auto free = co_await std::move(measure);
  const auto verdict =
      decide_defrag(view, self, rules, facts(*config, free), round ? &*round : nullptr);
  if (verdict.kind == DefragVerdict::Kind::skip ||
      verdict.kind == DefragVerdict::Kind::leader_waits) {
    co_return JobResult::skipped(verdict.reason);
  }
  spdlog::info("defrag decided member={} {}", label(*view.find(self)), verdict.reason);

  StepOptions options;
  options.policy = &rules;
  options.round = round;
  options.local = true;
  const std::int64_t lease = lock.lease_id();
  options.before = [etcd, keys, lease, ctx = &context_, lock = &lock](const MemberView& m,
                                                                      config::Duration deadline) {
    return record_defrag(etcd, keys, lease, ctx, lock, m, deadline);
  };
  auto step = defrag_member(context_, etcd, view, self, std::move(options));
  StepOutcome outcome = co_await std::move(step);
  if (outcome.finished_in_etcd) {
    // This member had its turn in the round, whatever came after the copy.
    const DefragRound next = with_turn(round, self, sched::unix_seconds(context_.clock.wall_now()));
    auto record = put_while_locked(etcd, keys.lock, lease, keys.round, encode(next));
    auto recorded = co_await std::move(record);
    if (!recorded || !recorded.value()) {
      spdlog::warn(
          "could not record the defrag round in {} ({}); this member may be chosen again "
          "before the round ends",
          keys.round, recorded ? "the lock is no longer ours" : recorded.error().to_string());
    } else {
      spdlog::info("defrag round {} member={} turns={}", round ? "goes on" : "started",
                   label(*view.find(self)), encode(next));
    }
    auto drop = delete_marker(etcd, keys);
    auto dropped = co_await std::move(drop);
    if (!dropped) {
      spdlog::warn("could not delete {} ({}); the next holder checks and removes it", keys.inflight,
                   dropped.error().to_string());
    }
  }
  switch (outcome.kind) {
    case StepOutcome::Kind::done:
      leader_waiting_since_.reset();
      co_return JobResult::success(outcome.summary);
    case StepOutcome::Kind::stopped:
    case StepOutcome::Kind::still_running:
    case StepOutcome::Kind::failed:
      break;
  }
  co_return JobResult::failure(outcome.summary);
}

}  // namespace etcd_warden::jobs
