#include "etcd_warden/jobs/consistency_rule.hpp"

#include <algorithm>
#include <map>

#include "etcd_warden/util/hex_id.hpp"
#include "record_fields.hpp"

namespace etcd_warden::jobs {

using namespace detail;

namespace {

// "m1", "m1 and m2", "m1, m2 and m3": by name, whatever order etcd listed them in.
std::string names(std::vector<const MemberHash*> members) {
  std::sort(members.begin(), members.end(),
            [](const MemberHash* a, const MemberHash* b) { return a->name < b->name; });
  std::string out;
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (i > 0) out += i + 1 == members.size() ? " and " : ", ";
    out += members[i]->name;
  }
  return out;
}

std::string ids(const std::vector<std::uint64_t>& list) {
  std::string out;
  for (const auto id : list) out += (out.empty() ? "" : ",") + hex_id(id);
  return out;
}

}  // namespace

std::optional<std::int64_t> hash_revision(std::int64_t lowest_applied,
                                          std::optional<std::int64_t> compacted) {
  const std::int64_t floor = std::max<std::int64_t>(compacted.value_or(0), 0) + 1;
  if (lowest_applied < floor) return std::nullopt;
  return lowest_applied;
}

ConsistencyVerdict judge_hashes(std::int64_t revision, const std::vector<MemberHash>& answers) {
  using Kind = ConsistencyVerdict::Kind;
  ConsistencyVerdict v;
  v.revision = revision;
  const std::string at = " at revision " + std::to_string(revision);
  if (answers.size() < 2) {
    v.summary = "fewer than two voting members answered: nothing to compare";
    return v;
  }
  for (const auto& a : answers) {
    if (a.compact_revision != answers.front().compact_revision) {
      std::string list;
      for (const auto& b : answers) {
        list += (list.empty() ? "" : ", ") + b.name + " " + std::to_string(b.compact_revision);
      }
      v.summary = "compact revisions differ (" + list + "): compared nothing";
      return v;
    }
  }
  // Members by hash, largest group first (ties: the lower hash, for a stable line).
  std::map<std::uint32_t, std::vector<const MemberHash*>> by_hash;
  for (const auto& a : answers) by_hash[a.hash].push_back(&a);
  if (by_hash.size() == 1) {
    v.kind = Kind::match;
    v.summary = std::to_string(answers.size()) + " members agree" + at + " (hash " +
                std::to_string(answers.front().hash) + ")";
    return v;
  }
  auto largest = by_hash.begin();
  for (auto it = by_hash.begin(); it != by_hash.end(); ++it) {
    if (it->second.size() > largest->second.size()) largest = it;
  }
  v.kind = Kind::mismatch;
  v.majority = largest->second.size() * 2 > answers.size();
  std::vector<const MemberHash*> odd;
  for (const auto& a : answers) {
    if (a.hash != largest->first) {
      odd.push_back(&a);
      v.odd.push_back(a.member_id);
    }
  }
  if (v.majority) {
    v.summary = names(odd) + (odd.size() == 1 ? " differs" : " differ") + at + ": hash " +
                std::to_string(odd.front()->hash) + ", " + names(largest->second) +
                (largest->second.size() == 1 ? " has " : " have ") + std::to_string(largest->first);
  } else {
    std::string each;
    for (const auto& a : answers) {
      each += (each.empty() ? "" : ", ") + a.name + " " + std::to_string(a.hash);
    }
    v.summary = "no majority" + at + " (" + each + "): cannot tell which member is the odd one out";
  }
  return v;
}

std::string encode(const ConsistencyRecord& r) {
  std::string out = "checked=" + std::to_string(r.checked_unix) +
                    " revision=" + std::to_string(r.revision) +
                    " mismatch=" + (r.mismatch ? "1" : "0");
  if (!r.odd.empty()) out += " odd=" + ids(r.odd);
  out += " summary=" + escape(r.summary);
  out += " by=" + (r.by.empty() ? std::string("?") : escape(r.by));
  return out;
}

std::optional<ConsistencyRecord> parse_consistency(std::string_view text) {
  const auto f = fields(text);
  ConsistencyRecord r;
  int mismatch = 0;
  if (!number(f, "checked", r.checked_unix) || !number(f, "revision", r.revision) ||
      !number(f, "mismatch", mismatch) || (mismatch != 0 && mismatch != 1)) {
    return std::nullopt;
  }
  r.mismatch = mismatch == 1;
  if (const auto it = f.find("odd"); it != f.end()) {
    std::string_view list = it->second;
    while (!list.empty()) {
      const auto comma = list.find(',');
      const auto id = parse_hex_id(list.substr(0, comma));
      if (!id) return std::nullopt;
      r.odd.push_back(*id);
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
  }
  r.summary = text_field(f, "summary");
  r.by = text_field(f, "by");
  return r;
}

std::string consistency_alert(const std::optional<ConsistencyRecord>& record) {
  if (!record || !record->mismatch) return "";
  return "CONSISTENCY MISMATCH: " + record->summary;
}

}  // namespace etcd_warden::jobs
