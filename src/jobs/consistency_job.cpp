#include "etcd_warden/jobs/consistency_job.hpp"

// See compaction_job.cpp: GCC 12's false -Wmismatched-new-delete on Asio frames.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "etcd_warden/jobs/maintenance_ops.hpp"
#include "etcd_warden/util/hex_id.hpp"

namespace etcd_warden::jobs {

using sched::JobResult;
namespace pb = ::etcdserverpb;

namespace {

struct Asked {
  std::vector<MemberHash> answers;
  std::optional<etcd::Error> error;  // the first member that did not answer
  std::string who;                   // its label
};

Task<Asked> ask_all(std::shared_ptr<etcd::Client> etcd, std::vector<MemberView> voters,
                    std::int64_t revision, config::Duration timeout) {
  Asked out;
  for (const auto& m : voters) {
    auto call = etcd->hash_kv(m.url, revision, timeout);
    auto answer = co_await std::move(call);
    if (!answer) {
      out.error = answer.error();
      out.who = label(m);
      co_return out;
    }
    out.answers.push_back({m.id, label(m), answer->hash(), answer->compact_revision()});
  }
  co_return out;
}

}  // namespace

Task<std::optional<ConsistencyRecord>> read_consistency(std::shared_ptr<etcd::Client> etcd,
                                                        std::string key, std::string* why) {
  auto read = read_record(etcd, std::move(key));
  auto value = co_await std::move(read);
  if (!value) {
    if (why) *why = "cannot read the consistency record: " + value.error().to_string();
    co_return std::nullopt;
  }
  if (!value.value()) co_return std::nullopt;
  auto record = parse_consistency(*value.value());
  if (!record && why) *why = "the consistency record is unreadable";
  co_return record;
}

void ConsistencyJob::publish(const std::optional<ConsistencyRecord>& record) {
  if (record) {
    metrics::WardenMetrics::set(context_.metrics.consistency_mismatch, record->mismatch ? 1 : 0);
    metrics::WardenMetrics::set(context_.metrics.consistency_last_check,
                                static_cast<double>(record->checked_unix));
  }
  const std::string alert = consistency_alert(record);
  if (alert == context_.board.consistency_alert) return;
  if (!alert.empty()) {
    spdlog::error("{} (docs/runbook.md#etcdwardenconsistencymismatch)", alert);
  } else {
    spdlog::info("consistency: members agree again");
  }
  context_.board.consistency_alert = alert;
  if (context_.status_changed) context_.status_changed();
}

Task<JobResult> ConsistencyJob::run() {
  auto config = context_.config;
  auto etcd = context_.etcd;
  if (etcd->cancelled()) co_return JobResult::skipped("stopping");

  std::uint64_t self = 0;
  auto probe = probe_cluster(etcd, &self);
  auto seen = co_await std::move(probe);
  if (!seen) co_return JobResult::skipped("cannot see the cluster: " + seen.error());
  const std::uint64_t leader = seen->leader_id();
  if (self != 0 && leader == self) {
    auto check = compare(config, etcd, *seen, self);
    co_return co_await std::move(check);
  }

  // Not the leader's warden: show what the leader's found.
  std::string why;
  auto read = read_consistency(etcd, CoordKeys(config->coordination.prefix).consistency, &why);
  const auto record = co_await std::move(read);
  if (!why.empty()) co_return JobResult::skipped(why);
  publish(record);
  const std::string lead = leader == 0 ? std::string("no leader now") : "leader " + hex_id(leader);
  if (!record) {
    co_return JobResult::skipped("the leader's warden compares (" + lead + "); no result yet");
  }
  if (record->mismatch) co_return JobResult::failure(consistency_alert(record));
  co_return JobResult::skipped("the leader's warden compares (" + lead +
                               "); last: " + record->summary);
}

Task<JobResult> ConsistencyJob::compare(std::shared_ptr<const config::Config> config,
                                        std::shared_ptr<etcd::Client> etcd, ClusterView view,
                                        std::uint64_t self) {
  const auto& cfg = config->consistency;
  std::vector<MemberView> voters;
  for (const auto& m : view.members) {
    if (m.is_learner) continue;  // not a voter, and it refuses HashKV
    if (!m.answered || m.url.empty()) {
      co_return JobResult::skipped(label(m) + " does not answer (" +
                                   (m.error.empty() ? "no client URL" : m.error) +
                                   "): cannot compare every voting member");
    }
    voters.push_back(m);
  }
  if (voters.empty()) co_return JobResult::skipped("no voting member in the member list");
  if (voters.size() < 2) {
    // One member has nothing to be compared with: say so, and clear any
    // record left from when there were more.
    ConsistencyRecord alone{sched::unix_seconds(context_.clock.wall_now()),
                            0,
                            false,
                            {},
                            "a single voting member: nothing to compare",
                            label(voters.front())};
    publish(alone);
    co_return JobResult::skipped(alone.summary);
  }

  std::optional<std::int64_t> compact_floor;
  std::optional<ConsistencyVerdict> verdict;
  std::string last_problem;
  for (int attempt = 0; attempt < 2 && !verdict; ++attempt) {
    if (attempt > 0) {
      // The cluster moved on (a compaction, a member catching up): look again.
      auto again = probe_cluster(etcd);
      auto seen = co_await std::move(again);
      if (!seen) co_return JobResult::skipped("cannot see the cluster: " + seen.error());
      for (auto& v : voters) {
        const MemberView* now = seen->find(v.id);
        if (now == nullptr || !now->answered) {
          co_return JobResult::skipped(label(v) + " stopped answering: " + last_problem);
        }
        v.revision = now->revision;
      }
    }
    const auto lowest =
        std::min_element(voters.begin(), voters.end(), [](const auto& a, const auto& b) {
          return a.revision < b.revision;
        })->revision;
    const auto target = hash_revision(lowest, compact_floor);
    if (!target) {
      co_return JobResult::skipped("nothing to hash above the compact revision yet (revision " +
                                   std::to_string(lowest) + ")");
    }
    auto ask = ask_all(etcd, voters, *target, cfg.hash_timeout);
    Asked asked = co_await std::move(ask);
    if (asked.error) {
      const etcd::Error& e = *asked.error;
      last_problem = asked.who + ": " + e.to_string();
      if (!e.compacted() && !e.future_revision())
        co_return JobResult::failure("HashKV on " + last_problem);
      if (e.compacted()) compact_floor = *target;  // compacted past it meanwhile: above it
      continue;
    }
    auto judged = judge_hashes(*target, asked.answers);
    if (judged.kind != ConsistencyVerdict::Kind::inconclusive) {
      verdict = std::move(judged);
      break;
    }
    last_problem = judged.summary;
    for (const auto& a : asked.answers) {
      compact_floor = std::max(compact_floor.value_or(0), a.compact_revision);
    }
  }
  if (!verdict) co_return JobResult::skipped("inconclusive twice: " + last_problem);

  const MemberView* me = view.find(self);
  ConsistencyRecord record{sched::unix_seconds(context_.clock.wall_now()),
                           verdict->revision,
                           verdict->kind == ConsistencyVerdict::Kind::mismatch,
                           verdict->odd,
                           verdict->summary,
                           me ? label(*me) : hex_id(self)};
  pb::PutRequest put;
  put.set_key(CoordKeys(config->coordination.prefix).consistency);
  put.set_value(encode(record));
  auto write = etcd->put(std::move(put));
  auto written = co_await std::move(write);
  publish(record);
  if (!written) {
    spdlog::warn("consistency record not written (other wardens will not show it): {}",
                 written.error().to_string());
  }
  if (record.mismatch) co_return JobResult::failure(consistency_alert(record));
  co_return JobResult::success(record.summary);
}

}  // namespace etcd_warden::jobs
