#include "etcd_warden/jobs/defrag_rule.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

namespace etcd_warden::jobs {

namespace {

std::string percent(double ratio) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100.0 * ratio);
  return buf;
}

double ratio(Bytes part, Bytes whole) {
  return whole.value == 0 ? 0.0 : part.as_double() / whole.as_double();
}

// "key=value key=value" records, as written by encode() below.
std::map<std::string, std::string, std::less<>> fields(std::string_view text) {
  std::map<std::string, std::string, std::less<>> out;
  while (!text.empty()) {
    const auto space = text.find(' ');
    const auto item = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    out.emplace(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
  }
  return out;
}

template <class T>
bool number(const std::map<std::string, std::string, std::less<>>& f, std::string_view key, T& out,
            int base = 10) {
  const auto it = f.find(key);
  if (it == f.end() || it->second.empty()) return false;
  const char* end = it->second.data() + it->second.size();
  auto [ptr, ec] = std::from_chars(it->second.data(), end, out, base);
  return ec == std::errc{} && ptr == end;
}

std::optional<std::chrono::minutes> clock_minutes(std::string_view hhmm) {
  if (hhmm.size() != 5 || hhmm[2] != ':') return std::nullopt;
  int h = 0, m = 0;
  auto r1 = std::from_chars(hhmm.data(), hhmm.data() + 2, h);
  auto r2 = std::from_chars(hhmm.data() + 3, hhmm.data() + 5, m);
  if (r1.ec != std::errc{} || r1.ptr != hhmm.data() + 2 || r2.ec != std::errc{} ||
      r2.ptr != hhmm.data() + 5 || h < 0 || h > 23 || m < 0 || m > 59) {
    return std::nullopt;
  }
  return std::chrono::minutes(h * 60 + m);
}

}  // namespace

DefragPolicy defrag_policy(const config::DefragJob& cfg, std::optional<Bytes> quota) {
  DefragPolicy p;
  p.min_free = cfg.min_free;
  p.min_free_ratio = cfg.min_free_ratio;
  p.max_quota_usage = cfg.max_quota_usage;
  p.quota = quota;
  p.max_raft_lag = cfg.max_raft_lag;
  p.disk_margin = cfg.disk_margin;
  return p;
}

Verdict defrag_needed(const MemberView& m, const DefragPolicy& p) {
  const Bytes free = m.free();
  const double free_ratio = ratio(free, m.db_size);
  const std::string sizes =
      "db=" + to_string(m.db_size) + " free=" + to_string(free) + " (" + percent(free_ratio) + ")";
  // Quota pressure first: it is the reason that matters most when both hold.
  // A defrag that would give back less than 1% of the quota is not worth a
  // full copy of the file, however full the quota is.
  bool quota_pressed = false;
  if (p.quota && p.quota->value > 0) {
    const double usage = ratio(m.db_size, *p.quota);
    quota_pressed = usage >= p.max_quota_usage;
    if (quota_pressed && ratio(free, *p.quota) >= kQuotaMinReclaim) {
      return Verdict::yes(sizes + ", quota usage " + percent(usage) + " >= max_quota_usage " +
                          percent(p.max_quota_usage) + " of " + to_string(*p.quota));
    }
  }
  if (free.value > 0 && free >= p.min_free && free_ratio >= p.min_free_ratio) {
    return Verdict::yes(sizes + " >= min_free " + to_string(p.min_free) + " and " +
                        percent(p.min_free_ratio));
  }
  std::string why = "not needed: " + sizes;
  if (free < p.min_free || free.value == 0) {
    why += " < min_free " + to_string(p.min_free);
  } else {
    why += ", ratio < min_free_ratio " + percent(p.min_free_ratio);
  }
  if (quota_pressed) why += "; quota usage is high but a defrag would reclaim under 1% of it";
  return Verdict::no(why);
}

Verdict cluster_gates(const ClusterView& c, const DefragPolicy& p) {
  if (c.members.empty()) return Verdict::no("no member list");
  for (const auto& m : c.members) {
    if (!m.answered) {
      return Verdict::no("member " + label(m) + " is unhealthy (" +
                         (m.error.empty() ? std::string("no answer to Status") : m.error) + ")");
    }
  }
  if (c.has_alarm(AlarmKind::corrupt)) {
    return Verdict::no("CORRUPT alarm raised: no maintenance until an operator has acted");
  }
  if (c.leader_id() == 0) return Verdict::no("the cluster has no agreed leader");
  const std::uint64_t top = c.max_raft_index();
  for (const auto& m : c.members) {
    const std::uint64_t lag = top - std::min(top, m.raft_index);
    if (lag > p.max_raft_lag) {
      return Verdict::no("member " + label(m) + " is " + std::to_string(lag) +
                         " raft entries behind (max_raft_lag " + std::to_string(p.max_raft_lag) +
                         ")");
    }
  }
  return Verdict::yes("all " + std::to_string(c.members.size()) + " members healthy and caught up");
}

Verdict disk_gate(const MemberView& m, std::optional<Bytes> free_disk, const DefragPolicy& p,
                  std::string_view where) {
  const Bytes needed = m.db_in_use + p.disk_margin;
  if (!free_disk) {
    return Verdict::no("free disk space of " + label(m) + " unknown (" + std::string(where) +
                       "); not defragmenting without room for the copy");
  }
  if (*free_disk < needed) {
    return Verdict::no("not enough free disk on " + std::string(where) + ": " +
                       to_string(*free_disk) + " free, the copy needs " + to_string(m.db_in_use) +
                       " + margin " + to_string(p.disk_margin));
  }
  return Verdict::yes("disk " + to_string(*free_disk) + " free >= " + to_string(needed));
}

std::optional<std::uint64_t> choose_transferee(const ClusterView& c, std::uint64_t leader,
                                               const DefragPolicy* policy) {
  const MemberView* best = nullptr;
  auto done = [policy](const MemberView& m) {
    return policy != nullptr && !defrag_needed(m, *policy).ok;
  };
  for (const auto& m : c.members) {
    if (m.id == leader || m.is_learner || !m.answered || m.leader_id != leader) continue;
    if (best == nullptr) {
      best = &m;
    } else if (done(m) != done(*best)) {
      if (done(m)) best = &m;
    } else if (m.raft_index > best->raft_index ||
               (m.raft_index == best->raft_index && m.id < best->id)) {
      best = &m;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->id;
}

std::optional<std::string> leader_waits_for(const ClusterView& c, std::uint64_t leader,
                                            const DefragPolicy& p) {
  std::string waiting;
  for (const auto& m : c.members) {
    if (m.id == leader || !m.answered || !defrag_needed(m, p).ok) continue;
    waiting += (waiting.empty() ? "" : ",") + label(m);
  }
  if (waiting.empty()) return std::nullopt;
  return "the leader goes last in a round: waiting for " + waiting + " to be defragmented first";
}

DefragVerdict decide_defrag(const ClusterView& c, std::uint64_t self, const DefragPolicy& p,
                            const LocalFacts& local) {
  using Kind = DefragVerdict::Kind;
  const MemberView* me = c.find(self);
  if (me == nullptr) return {Kind::skip, "own member " + hex_id(self) + " not in the member list"};
  if (!me->answered) return {Kind::skip, "own member " + label(*me) + " does not answer Status"};
  const Verdict need = defrag_needed(*me, p);
  if (!need.ok) return {Kind::skip, need.reason};
  if (!local.in_window) return {Kind::skip, "outside the defrag window (" + need.reason + ")"};
  if (c.has_alarm(AlarmKind::nospace)) {
    return {Kind::skip, "NOSPACE alarm raised: the alarms job recovers the cluster"};
  }
  const Verdict gates = cluster_gates(c, p);
  if (!gates.ok) return {Kind::skip, gates.reason};
  const Verdict disk = disk_gate(*me, local.free_disk, p, local.data_dir);
  if (!disk.ok) return {Kind::skip, disk.reason};
  if (c.leader_id() == self) {
    if (!local.leader_done_waiting) {
      if (auto wait = leader_waits_for(c, self, p)) return {Kind::leader_waits, *wait};
    }
    const auto to = choose_transferee(c, self, &p);
    if (!to) {
      return {Kind::skip,
              label(*me) + " is leader and has no healthy voting follower to hand off to"};
    }
    return {Kind::move_leader_first, need.reason, *to};
  }
  return {Kind::defrag, need.reason};
}

config::Duration defrag_deadline(Bytes db_size, config::Duration floor) {
  const double gib = db_size.as_double() / static_cast<double>(Bytes::gib(1).value);
  const auto per_gib = std::chrono::seconds(60);
  const auto d = std::chrono::seconds(60) +
                 std::chrono::seconds(static_cast<std::int64_t>(std::ceil(gib)) * per_gib.count());
  return std::max<config::Duration>(floor, d);
}

bool TimeWindow::contains(std::chrono::minutes t) const {
  if (start <= end) return t >= start && t < end;
  return t >= start || t < end;  // wraps past midnight
}

std::optional<TimeWindow> parse_window(std::string_view text) {
  if (text.size() != 11 || text[5] != '-') return std::nullopt;
  const auto start = clock_minutes(text.substr(0, 5));
  const auto end = clock_minutes(text.substr(6, 5));
  if (!start || !end || *start == *end) return std::nullopt;
  return TimeWindow{*start, *end};
}

std::string encode(const DefragMarker& m) {
  return "member=" + hex_id(m.member_id) + " size_before=" + std::to_string(m.size_before.value) +
         " started=" + std::to_string(m.started_unix) + " until=" + std::to_string(m.until_unix) +
         " by=" + (m.by.empty() ? std::string("?") : m.by);
}

std::optional<DefragMarker> parse_marker(std::string_view text) {
  const auto f = fields(text);
  DefragMarker m;
  std::uint64_t size = 0;
  if (!number(f, "member", m.member_id, 16) || !number(f, "size_before", size) ||
      !number(f, "started", m.started_unix) || !number(f, "until", m.until_unix)) {
    return std::nullopt;
  }
  m.size_before = Bytes{size};
  if (auto it = f.find("by"); it != f.end()) m.by = it->second;
  return m;
}

MarkerState marker_state(const DefragMarker& m, std::optional<Bytes> current_size,
                         std::optional<bool> inflight, std::int64_t now_unix) {
  if (current_size && *current_size != m.size_before) return MarkerState::finished;
  if (inflight && !*inflight) return MarkerState::finished;
  if (now_unix > m.until_unix) return MarkerState::expired;
  return MarkerState::running;
}

std::string encode(const DiskReport& r) {
  return "free=" + std::to_string(r.free.value) + " at=" + std::to_string(r.at_unix);
}

std::optional<DiskReport> parse_disk_report(std::string_view text) {
  const auto f = fields(text);
  DiskReport r;
  std::uint64_t free = 0;
  if (!number(f, "free", free) || !number(f, "at", r.at_unix)) return std::nullopt;
  r.free = Bytes{free};
  return r;
}

std::optional<Bytes> usable_report(const std::optional<DiskReport>& report, std::int64_t now_unix) {
  if (!report) return std::nullopt;
  const auto age = now_unix - report->at_unix;
  if (age > std::chrono::duration_cast<std::chrono::seconds>(kDiskReportMaxAge).count()) {
    return std::nullopt;
  }
  return report->free;
}

}  // namespace etcd_warden::jobs
