// MemberViews for the maintenance rule tests (defrag, alarms): a member that
// answered Status, at a made-up client URL.
#pragma once

#include <cstdint>
#include <string>

#include "etcd_warden/jobs/member_view.hpp"

namespace etcd_warden::testing {

inline jobs::MemberView answering_member(std::uint64_t id, std::uint64_t leader, Bytes size,
                                         Bytes in_use, std::uint64_t raft_index = 100) {
  jobs::MemberView m;
  m.id = id;
  m.name = "m" + std::to_string(id);
  m.url = "http://127.0.0.1:" + std::to_string(2378 + id);
  m.answered = true;
  m.leader_id = leader;
  m.db_size = size;
  m.db_in_use = in_use;
  m.raft_index = raft_index;
  return m;
}

}  // namespace etcd_warden::testing
