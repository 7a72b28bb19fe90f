#include "etcd_warden/jobs/maintenance_ops.hpp"

// GCC 12 at -O2 inlines Asio's awaitable frame operator new/delete (its
// recycling allocator) into large coroutines and then reports a
// -Wmismatched-new-delete that does not exist: both sides are Asio's own pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "etcd_warden/config/units.hpp"
#include "etcd_warden/coord/lease_lock.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::jobs {

using namespace std::chrono_literals;

namespace {

// How often the waits below ask etcd again.
constexpr config::Duration kPoll = 250ms;
std::string seconds_text(std::chrono::duration<double> d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", d.count());
  return buf;
}

}  // namespace

Task<void> pause_for(asio::any_io_executor executor, config::Duration d) {
  asio::steady_timer timer(executor);
  timer.expires_after(d);
  boost::system::error_code ec;
  auto wait = timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_await std::move(wait);
}

Task<Verdict> hand_off_leadership(std::shared_ptr<etcd::Client> etcd, const sched::Clock& clock,
                                  const ClusterView& view, std::uint64_t to,
                                  config::Duration timeout) {
  const std::uint64_t leader = view.leader_id();
  const MemberView* from = view.find(leader);
  const MemberView* target = view.find(to);
  if (from == nullptr || target == nullptr) co_return Verdict::no("leader or target unknown");
  spdlog::info("handing leadership from={} to={} before defrag", label(*from), label(*target));
  auto move = etcd->move_leader(from->url, to);
  auto moved = co_await std::move(move);
  if (!moved) {
    co_return Verdict::no("MoveLeader from " + label(*from) + " to " + label(*target) + ": " +
                          moved.error().to_string());
  }
  // MoveLeader returns once the leader saw the transfer; wait until both
  // members agree so the next step sees a settled cluster.
  const auto give_up = clock.now() + timeout;
  while (clock.now() < give_up && !etcd->cancelled()) {
    auto a_op = etcd->status(from->url);
    auto a = co_await std::move(a_op);
    auto b_op = etcd->status(target->url);
    auto b = co_await std::move(b_op);
    if (a && b && a->leader() == to && b->leader() == to) {
      spdlog::info("leadership moved from={} to={}", label(*from), label(*target));
      co_return Verdict::yes("leadership moved to " + label(*target));
    }
    auto nap = pause_for(etcd->executor(), kPoll);
    co_await std::move(nap);
  }
  co_return Verdict::no("leadership did not settle on " + label(*target) + " within " +
                        config::format_duration(timeout));
}

Task<Verdict> wait_caught_up(std::shared_ptr<etcd::Client> etcd, const sched::Clock& clock,
                             std::uint64_t member, const DefragPolicy& policy,
                             config::Duration timeout) {
  const auto give_up = clock.now() + timeout;
  std::string last = "no answer yet";
  while (!etcd->cancelled()) {
    auto probe = probe_cluster(etcd);
    auto seen = co_await std::move(probe);
    if (seen) {
      const ClusterView* view = &*seen;
      const MemberView* m = view->find(member);
      if (m == nullptr) {
        last = "member " + hex_id(member) + " left the member list";
      } else if (!m->answered) {
        last = label(*m) + ": " + m->error;
      } else if (view->leader_id() == 0) {
        last = "no agreed leader";
      } else {
        const std::uint64_t lag =
            view->max_raft_index() - std::min(view->max_raft_index(), m->raft_index);
        if (lag <= policy.max_raft_lag) co_return Verdict::yes("caught up");
        last = label(*m) + " is " + std::to_string(lag) + " raft entries behind";
      }
    } else {
      last = seen.error();
    }
    if (clock.now() >= give_up) break;
    auto nap = pause_for(etcd->executor(), kPoll);
    co_await std::move(nap);
  }
  co_return Verdict::no(last);
}

Task<void> wait_compaction_settled(std::shared_ptr<etcd::Client> etcd, const sched::Clock& clock,
                                   const MemberView& member, config::Duration timeout) {
  const auto give_up = clock.now() + timeout;
  std::optional<std::int64_t> last;
  int same = 0;
  while (clock.now() < give_up && !etcd->cancelled()) {
    auto status_op = etcd->status(member.url);
    auto st = co_await std::move(status_op);
    if (st) {
      same = last && *last == st->dbsizeinuse() ? same + 1 : 0;
      last = st->dbsizeinuse();
      if (same >= 3) co_return;  // unchanged for ~1 s
    }
    auto nap = pause_for(etcd->executor(), 300ms);
    co_await std::move(nap);
  }
}

Task<StepOutcome> defrag_member(JobContext& context, std::shared_ptr<etcd::Client> etcd,
                                ClusterView view, std::uint64_t member, StepOptions options) {
  StepOutcome out;
  const DefragPolicy& policy = *options.policy;
  const MemberView* found = view.find(member);
  if (found == nullptr) {
    out.summary = "member " + hex_id(member) + " is not in the member list";
    co_return out;
  }
  const MemberView m = *found;
  out.before = m.db_size;
  const auto deadline = defrag_deadline(m.db_size, etcd->request_timeout());
  // Long enough for an election on a slow cluster (election timeouts up to ~5 s).
  const config::Duration settle = std::max<config::Duration>(15s, 3 * etcd->request_timeout());

  if (view.leader_id() == member) {
    const DefragRound* round = options.round ? &*options.round : nullptr;
    const LeaderPlan plan = plan_leader_defrag(view, member, &policy, round);
    if (plan.kind == LeaderPlan::Kind::refuse) {
      out.summary = plan.reason;
      co_return out;
    }
    if (plan.kind == LeaderPlan::Kind::hand_off) {
      auto hand_off = hand_off_leadership(etcd, context.clock, view, plan.to, settle);
      auto handed = co_await std::move(hand_off);
      if (!handed.ok) {
        out.summary = handed.reason;
        co_return out;
      }
      out.moved_leader = true;
    } else {
      out.in_place = true;
    }
  }
  if (etcd->cancelled()) {
    out.kind = StepOutcome::Kind::stopped;
    out.summary = "stopping before the defrag of " + label(m);
    co_return out;
  }
  if (options.before) {
    auto before = options.before(m, deadline);
    const util::Status ready = co_await std::move(before);
    if (!ready) {
      out.summary = ready.error();
      co_return out;
    }
  }

  spdlog::info("defrag start member={} db={} in_use={} deadline={}", label(m), to_string(m.db_size),
               to_string(m.db_in_use), config::format_duration(deadline));
  if (out.in_place) {
    spdlog::warn(
        "defrag in place member={}: the only voting member, so its clients stall until the "
        "defrag ends (up to {})",
        label(m), config::format_duration(deadline));
    context.board.activity =
        "DEFRAG " + label(m) + " in place (only voting member): its clients stall until it ends";
    if (context.status_changed) context.status_changed();
  }
  const auto started = context.clock.now();
  auto call = etcd->defragment(m.url, deadline);
  auto answer = co_await std::move(call);
  if (out.in_place) {
    context.board.activity.clear();
    if (context.status_changed) context.status_changed();
  }
  bool finished = answer.ok();
  if (!answer) {
    const auto code = answer.error().code;
    if (code == grpc::StatusCode::CANCELLED && etcd->cancelled()) {
      out.kind = StepOutcome::Kind::stopped;
      out.summary = "stopped during the defrag of " + label(m) +
                    "; etcd finishes it on its own, the in-flight record keeps others waiting";
      co_return out;
    }
    if (code != grpc::StatusCode::DEADLINE_EXCEEDED && code != grpc::StatusCode::UNAVAILABLE &&
        code != grpc::StatusCode::CANCELLED) {
      // etcd answered with an error: its defrag is over.
      out.summary = "defrag of " + label(m) + " failed: " + answer.error().to_string();
      co_return out;
    }
    // No answer: etcd may still be copying. Never start it again before it
    // says it finished (the file size changed, or defrag_inflight is 0).
    spdlog::warn("defrag member={} no answer ({}); waiting for etcd to finish", label(m),
                 answer.error().to_string());
    const auto give_up = context.clock.now() + deadline;
    while (!finished && context.clock.now() < give_up && !etcd->cancelled()) {
      auto nap = pause_for(etcd->executor(), 1s);
      co_await std::move(nap);
      std::optional<Bytes> size;
      auto st_op = etcd->status(m.url);
      auto st = co_await std::move(st_op);
      if (st) size = Bytes::non_negative(st->dbsize());
      auto running = defrag_running(etcd, *context.config, *context.blocking, m, options.local);
      const std::optional<bool> inflight = co_await std::move(running);
      DefragMarker probe{m.id, m.db_size, 0, INT64_MAX, ""};
      finished = marker_state(probe, size, inflight, 0) == MarkerState::finished;
    }
    if (!finished) {
      out.kind = etcd->cancelled() ? StepOutcome::Kind::stopped : StepOutcome::Kind::still_running;
      out.summary = "defrag of " + label(m) + " did not finish within " +
                    config::format_duration(2 * deadline) +
                    "; not retried until etcd reports it finished";
      co_return out;
    }
  }
  out.took = context.clock.now() - started;
  out.finished_in_etcd = true;

  auto settled = wait_caught_up(etcd, context.clock, member, policy, settle);
  auto healthy = co_await std::move(settled);
  auto st_op = etcd->status(m.url);
  auto st = co_await std::move(st_op);
  out.after = st ? Bytes::non_negative(st->dbsize()) : m.db_size;
  const Bytes reclaimed = out.before - out.after;
  context.metrics.defrag_reclaimed_bytes_total.Increment(reclaimed.as_double());
  metrics::WardenMetrics::set(context.metrics.defrag_last_duration_seconds, out.took.count());
  spdlog::info("defrag done member={} before={} after={} reclaimed={} took={}", label(m),
               to_string(out.before), to_string(out.after), to_string(reclaimed),
               seconds_text(out.took));
  std::string summary = "member=" + label(m) + " reclaimed=" + to_string(reclaimed) +
                        " before=" + to_string(out.before) + " after=" + to_string(out.after) +
                        " took=" + seconds_text(out.took);
  if (out.moved_leader) summary += " (leadership handed off first)";
  if (out.in_place) {
    summary += " (in place: the only voting member; its clients stalled for " +
               seconds_text(out.took) + ")";
  }
  if (!healthy.ok) {
    out.kind = StepOutcome::Kind::failed;
    out.summary = summary + "; but not healthy and caught up within " +
                  config::format_duration(settle) + ": " + healthy.reason;
    co_return out;
  }
  out.kind = StepOutcome::Kind::done;
  out.summary = summary;
  co_return out;
}

}  // namespace etcd_warden::jobs
