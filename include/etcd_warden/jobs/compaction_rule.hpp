// Which revision to compact to, as pure functions. `revision` mode keeps the
// last N revisions; `periodic` mode keeps the history of the last T by
// remembering which revision was current when (a sample per run, like etcd's
// own --auto-compaction-mode=periodic) and compacting to the newest revision
// that is at least T old.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/sched/clock.hpp"

namespace etcd_warden::jobs {

struct CompactionDecision {
  enum class Kind { skip, compact };
  Kind kind = Kind::skip;
  std::int64_t revision = 0;  // compact: everything before this revision goes
  std::string reason;
};

// Keep the last `retention` revisions of `current`. `last_compacted` is the
// revision this warden last compacted to (0 = unknown); nothing is asked twice.
CompactionDecision decide_revision_compaction(std::int64_t current, std::uint64_t retention,
                                              std::int64_t last_compacted);

// Revisions seen over time, oldest first. Only what periodic mode still needs
// is kept: the newest sample older than the retention, and everything after it.
class RevisionSamples {
 public:
  void add(sched::SteadyTime at, std::int64_t revision);
  // The revision of the newest sample taken at or before `cutoff`.
  std::optional<std::int64_t> at_or_before(sched::SteadyTime cutoff) const;
  // Drops samples that can no longer be the answer for any cutoff >= `cutoff`.
  void prune(sched::SteadyTime cutoff);
  std::size_t size() const { return samples_.size(); }
  std::optional<sched::SteadyTime> oldest() const;

 private:
  struct Sample {
    sched::SteadyTime at;
    std::int64_t revision;
  };
  std::deque<Sample> samples_;
};

// Keep the history of the last `retention`: compact to the revision that was
// current `retention` ago. Until the warden has watched that long, skip.
CompactionDecision decide_periodic_compaction(const RevisionSamples& samples, sched::SteadyTime now,
                                              config::Duration retention,
                                              std::int64_t last_compacted);

}  // namespace etcd_warden::jobs
