// The cluster as the maintenance jobs see it at one moment: every member from
// MemberList with its answer to Status (or why it gave none), and the alarms.
// Plain data, so the defrag, compaction and alarm rules are pure functions of
// it and unit tests build it by hand.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "etcd_warden/util/bytes.hpp"
#include "etcd_warden/util/hex_id.hpp"

namespace etcd_warden::jobs {

enum class AlarmKind { nospace, corrupt };

struct AlarmView {
  std::uint64_t member_id = 0;
  AlarmKind kind = AlarmKind::nospace;
};

struct MemberView {
  std::uint64_t id = 0;
  std::string name;  // may be empty (a member added but not started yet)
  std::string url;   // first client URL; empty if it has none
  bool is_learner = false;
  bool answered = false;        // Status answered
  std::string error;            // why not, one line
  std::uint64_t leader_id = 0;  // the leader as this member sees it
  Bytes db_size;
  Bytes db_in_use;
  std::uint64_t raft_index = 0;
  std::int64_t revision = 0;  // the store revision it has applied

  Bytes free() const { return db_size - db_in_use; }
};

struct ClusterView {
  std::vector<MemberView> members;
  std::vector<AlarmView> alarms;

  const MemberView* find(std::uint64_t id) const;
  // The leader every answering voting member agrees on, if it answered too; 0
  // when there is none, they disagree (an election is going on) or none answered.
  std::uint64_t leader_id() const;
  bool has_alarm(AlarmKind kind) const;
  // Highest raft index any member reported.
  std::uint64_t max_raft_index() const;
};

// "m1" or, for a member without a name, its ID in hex as etcdctl prints it.
std::string label(const MemberView& m);
using etcd_warden::hex_id;              // util/hex_id.hpp
std::string to_string(AlarmKind kind);  // "NOSPACE", "CORRUPT"

}  // namespace etcd_warden::jobs
