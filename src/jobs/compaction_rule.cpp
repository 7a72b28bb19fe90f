#include "etcd_warden/jobs/compaction_rule.hpp"

#include "etcd_warden/config/units.hpp"

namespace etcd_warden::jobs {

namespace {

using Kind = CompactionDecision::Kind;

CompactionDecision compact_to(std::int64_t target, std::int64_t last_compacted,
                              const std::string& why) {
  if (target <= 0) return {Kind::skip, 0, "nothing to compact yet (" + why + ")"};
  if (target <= last_compacted) {
    return {Kind::skip, target,
            "already compacted to " + std::to_string(last_compacted) + " (" + why + ")"};
  }
  return {Kind::compact, target, why};
}

}  // namespace

CompactionDecision decide_revision_compaction(std::int64_t current, std::uint64_t retention,
                                              std::int64_t last_compacted) {
  const auto keep = static_cast<std::int64_t>(std::min<std::uint64_t>(retention, INT64_MAX));
  const std::int64_t target = current - keep;
  return compact_to(
      target, last_compacted,
      "revision " + std::to_string(current) + ", keeping the last " + std::to_string(retention));
}

void RevisionSamples::add(sched::SteadyTime at, std::int64_t revision) {
  // Time only moves forward on a steady clock; a sample out of order is a
  // caller's bug, dropped rather than allowed to break the ordering.
  if (!samples_.empty() && at < samples_.back().at) return;
  samples_.push_back({at, revision});
}

std::optional<std::int64_t> RevisionSamples::at_or_before(sched::SteadyTime cutoff) const {
  std::optional<std::int64_t> out;
  for (const auto& s : samples_) {
    if (s.at > cutoff) break;
    out = s.revision;
  }
  return out;
}

void RevisionSamples::prune(sched::SteadyTime cutoff) {
  // Keep the last sample at or before the cutoff: later cutoffs may still need it.
  while (samples_.size() >= 2 && samples_[1].at <= cutoff) samples_.pop_front();
}

std::optional<sched::SteadyTime> RevisionSamples::oldest() const {
  if (samples_.empty()) return std::nullopt;
  return samples_.front().at;
}

CompactionDecision decide_periodic_compaction(const RevisionSamples& samples, sched::SteadyTime now,
                                              config::Duration retention,
                                              std::int64_t last_compacted) {
  const auto cutoff = now - retention;
  const auto target = samples.at_or_before(cutoff);
  const std::string keep = "keeping the last " + config::format_duration(retention);
  if (!target) {
    std::string why = "not watched for " + config::format_duration(retention) + " yet";
    if (auto first = samples.oldest()) {
      why += " (first sample " +
             config::format_duration(std::chrono::duration_cast<config::Duration>(now - *first)) +
             " ago)";
    }
    return {Kind::skip, 0, why};
  }
  return compact_to(*target, last_compacted,
                    "revision " + std::to_string(*target) + " was current at least " +
                        config::format_duration(retention) + " ago, " + keep);
}

}  // namespace etcd_warden::jobs
