#include "etcd_warden/snapshot/retention.hpp"

#include <algorithm>
#include <map>

namespace etcd_warden::snapshot {

namespace {

bool newer(const RetentionCandidate& a, const RetentionCandidate& b) {
  if (a.taken != b.taken) return a.taken > b.taken;
  return a.name > b.name;
}

std::string ordinal(std::size_t n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

std::string age_text(std::chrono::milliseconds d) {
  using namespace std::chrono;
  if (d >= hours{48}) return std::to_string(duration_cast<hours>(d).count() / 24) + "d";
  if (d >= hours{2}) return std::to_string(duration_cast<hours>(d).count()) + "h";
  if (d >= minutes{2}) return std::to_string(duration_cast<minutes>(d).count()) + "m";
  return std::to_string(duration_cast<seconds>(d).count()) + "s";
}

}  // namespace

RetentionPolicy retention_policy(const config::SnapshotJob& cfg) {
  return {cfg.keep_last, cfg.max_age};
}

std::vector<Deletion> decide_retention(std::span<const RetentionCandidate> snapshots,
                                       const RetentionPolicy& policy, sched::WallTime now) {
  std::vector<const RetentionCandidate*> verified;
  for (const auto& s : snapshots) {
    if (s.verified) verified.push_back(&s);
  }
  std::sort(verified.begin(), verified.end(),
            [](const auto* a, const auto* b) { return newer(*a, *b); });

  std::map<const RetentionCandidate*, Deletion> doomed;
  const std::size_t keep = std::max(policy.keep_last, 1u);
  // Index 0, the newest verified snapshot, is never considered (rule 3).
  for (std::size_t i = 1; i < verified.size(); ++i) {
    const RetentionCandidate& s = *verified[i];
    const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - s.taken);
    if (i >= keep) {
      doomed.emplace(&s, Deletion{s.name, DeleteReason::beyond_keep_last,
                                  "beyond keep_last=" + std::to_string(policy.keep_last) + " (" +
                                      ordinal(i + 1) + " newest verified)"});
    } else if (policy.max_age && age > *policy.max_age) {
      doomed.emplace(&s, Deletion{s.name, DeleteReason::older_than_max_age,
                                  "older than max_age=" + age_text(*policy.max_age) + " (age " +
                                      age_text(age) + ")"});
    }
  }
  if (!verified.empty()) {
    const RetentionCandidate& best = *verified.front();
    for (const auto& s : snapshots) {
      if (!s.verified && s.taken < best.taken) {
        doomed.emplace(
            &s, Deletion{s.name, DeleteReason::unverified_superseded,
                         "unverified and older than the newest verified snapshot " + best.name});
      }
    }
  }

  std::vector<Deletion> out;
  for (const auto& s : snapshots) {
    const auto it = doomed.find(&s);
    if (it == doomed.end()) continue;
    // A duplicate entry must not take the newest verified file with it.
    if (!verified.empty() && s.name == verified.front()->name) continue;
    out.push_back(it->second);
  }
  return out;
}

}  // namespace etcd_warden::snapshot
