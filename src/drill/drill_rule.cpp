#include "etcd_warden/drill/drill_rule.hpp"

#include <charconv>

namespace etcd_warden::drill {

namespace {

// "3.4.23" at the start of `s`: digits '.' digits '.' digits.
std::optional<EtcdVersion> leading_version(std::string_view s) {
  EtcdVersion v;
  int* parts[] = {&v.major, &v.minor, &v.patch};
  const char* p = s.data();
  const char* end = s.data() + s.size();
  for (int i = 0; i < 3; ++i) {
    auto [next, ec] = std::from_chars(p, end, *parts[i]);
    if (ec != std::errc{} || next == p) return std::nullopt;
    p = next;
    if (i < 2) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
  }
  return v;
}

std::string minor_of(const EtcdVersion& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor);
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

}  // namespace

std::string to_string(const EtcdVersion& v) {
  return minor_of(v) + "." + std::to_string(v.patch);
}

std::optional<EtcdVersion> parse_etcd_version(std::string_view text) {
  constexpr std::string_view kLabel = "etcd Version: ";
  if (const auto at = text.find(kLabel); at != std::string_view::npos) {
    return leading_version(text.substr(at + kLabel.size()));
  }
  while (!text.empty() && (text.front() == 'v' || text.front() == ' ')) text.remove_prefix(1);
  return leading_version(text);
}

bool restores_with_etcdutl(const EtcdVersion& v) {
  return v >= EtcdVersion{3, 5, 0};
}

util::Status check_can_restore(const EtcdVersion& tool,
                               const std::optional<EtcdVersion>& taken_by) {
  const std::string t = "etcd " + to_string(tool);
  if (tool < EtcdVersion{3, 4, 0}) {
    return util::fail(t + " is older than 3.4, the oldest etcd the drill can run");
  }
  if (!taken_by) return {};
  const std::string s = to_string(*taken_by);
  const bool older_minor = tool.major < taken_by->major ||
                           (tool.major == taken_by->major && tool.minor < taken_by->minor);
  if (older_minor) {
    return util::fail(t + " cannot restore a snapshot taken by etcd " + s +
                      ": etcd does not open data written by a newer minor version (" +
                      minor_of(*taken_by) + "); set drill.etcd_bin_dir to an etcd " +
                      minor_of(*taken_by) + " build");
  }
  if (tool.major != taken_by->major || tool.minor > taken_by->minor + 1) {
    return util::fail(t + " cannot restore a snapshot taken by etcd " + s +
                      ": etcd upgrades one minor version at a time; set drill.etcd_bin_dir to an "
                      "etcd " +
                      minor_of(*taken_by) + " build");
  }
  return {};
}

SpaceNeed space_needed(Bytes db_bytes, bool compressed, Bytes margin) {
  SpaceNeed need;
  need.total = db_bytes + kWalSegment + margin;
  need.breakdown = to_string(db_bytes) + " database";
  if (compressed) {
    need.total = need.total + db_bytes;
    need.breakdown += " + " + to_string(db_bytes) + " decompressed copy";
  }
  need.breakdown += " + " + to_string(kWalSegment) + " WAL + " + to_string(margin) +
                    " margin (drill.disk_margin)";
  return need;
}

util::Status check_space(const std::string& dir, Bytes free, const SpaceNeed& need) {
  if (free.value >= need.total.value) return {};
  return util::fail(dir + " has " + to_string(free) + " free, the drill needs " +
                    to_string(need.total) + " (" + need.breakdown + ")");
}

Check check_revision(std::int64_t restored, std::int64_t sidecar_revision) {
  const std::string r = std::to_string(restored);
  const std::string s = std::to_string(sidecar_revision);
  if (restored < sidecar_revision) {
    return {false, r + ", below the snapshot's " + s +
                       ": the file is not the snapshot its sidecar "
                       "describes"};
  }
  if (restored == sidecar_revision) return {true, r + ", as the snapshot's sidecar says"};
  return {true, r + " (the sidecar says at least " + s + ": writes went on while it streamed)"};
}

Check check_key_count(std::int64_t restored, std::int64_t revision,
                      std::optional<std::int64_t> live_at_revision,
                      std::optional<std::int64_t> live_now) {
  const std::string n = std::to_string(restored);
  const std::string at = " at revision " + std::to_string(revision);
  if (live_at_revision) {
    const std::string l = std::to_string(*live_at_revision);
    if (restored == *live_at_revision) return {true, n + ", as the live cluster had" + at};
    return {false, n + ", but the live cluster had " + l + at};
  }
  if (!live_now) return {true, n + " (not compared: the live cluster did not answer)"};
  const std::string l = std::to_string(*live_now);
  if (restored == 0 && *live_now > 0) {
    return {false, "none, but the live cluster has " + l + " now"};
  }
  return {true, n + " (the live cluster has " + l + " now; it compacted past revision " +
                    std::to_string(revision) + ", so not compared exactly)"};
}

HashCheck check_hash(std::int64_t revision, std::optional<std::uint32_t> restored_hash,
                     std::int64_t restored_compact, const std::vector<LiveHash>& live) {
  const std::string at = " at revision " + std::to_string(revision);
  if (!restored_hash) {
    return {true, false,
            "not compared: revision " + std::to_string(revision) +
                " is the snapshot's compact revision, which the restored member cannot hash"};
  }
  std::vector<std::string> same, differ, other_compact, compacted, silent;
  std::string first_difference, first_compact, first_error;
  for (const auto& m : live) {
    if (!m.answered) {
      (m.compacted_past ? compacted : silent).push_back(m.member);
      if (!m.compacted_past && first_error.empty()) first_error = m.member + ": " + m.error;
      continue;
    }
    if (m.compact_revision != restored_compact) {
      other_compact.push_back(m.member);
      if (first_compact.empty()) {
        first_compact = m.member + "'s is " + std::to_string(m.compact_revision);
      }
      continue;
    }
    if (m.hash == *restored_hash) {
      same.push_back(m.member);
    } else {
      differ.push_back(m.member);
      if (first_difference.empty()) {
        first_difference = m.member + " has " + std::to_string(m.hash);
      }
    }
  }
  const std::string hash = std::to_string(*restored_hash);
  if (!differ.empty()) {
    return {false, true,
            "the restored member's hash" + at + " is " + hash + ", " + first_difference +
                (differ.size() > 1 ? " (" + join(differ) + " differ)" : std::string()) +
                ": the snapshot does not hold what the cluster held"};
  }
  if (!same.empty()) {
    std::string line = "matches " + join(same) + at + " (hash " + hash + ")";
    if (same.size() < live.size()) line += "; not compared with the others";
    return {true, true, line};
  }
  if (!other_compact.empty()) {
    return {true, false,
            "not compared: the live members compacted since the snapshot (its compact revision "
            "is " +
                std::to_string(restored_compact) + ", " + first_compact + ")"};
  }
  if (!compacted.empty()) {
    return {true, false,
            "not compared: the live members compacted past revision " + std::to_string(revision)};
  }
  if (!silent.empty())
    return {true, false, "not compared: no live member answered (" + first_error + ")"};
  return {true, false, "not compared: no live voting member to ask"};
}

}  // namespace etcd_warden::drill
