#include "etcd_warden/jobs/member_view.hpp"
#include "etcd_warden/util/hex_id.hpp"

#include <algorithm>
#include <cstdio>

namespace etcd_warden::jobs {

const MemberView* ClusterView::find(std::uint64_t id) const {
  for (const auto& m : members) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

std::uint64_t ClusterView::leader_id() const {
  std::uint64_t leader = 0;
  for (const auto& m : members) {
    // A learner still catching up may not know the leader yet; it has no say.
    if (!m.answered || m.is_learner) continue;
    if (m.leader_id == 0) return 0;
    if (leader != 0 && m.leader_id != leader) return 0;
    leader = m.leader_id;
  }
  const MemberView* l = find(leader);
  return l != nullptr && l->answered ? leader : 0;
}

bool ClusterView::has_alarm(AlarmKind kind) const {
  return std::any_of(alarms.begin(), alarms.end(),
                     [kind](const AlarmView& a) { return a.kind == kind; });
}

std::uint64_t ClusterView::max_raft_index() const {
  std::uint64_t out = 0;
  for (const auto& m : members) {
    if (m.answered) out = std::max(out, m.raft_index);
  }
  return out;
}

std::string label(const MemberView& m) {
  return m.name.empty() ? hex_id(m.id) : m.name;
}

std::string to_string(AlarmKind kind) {
  return kind == AlarmKind::corrupt ? "CORRUPT" : "NOSPACE";
}

}  // namespace etcd_warden::jobs
