// The restore plan: exact per-member commands to rebuild the cluster from one
// snapshot (etcd's disaster-recovery procedure, op-guide/recovery.md): stop
// every member, move data dirs aside, restore the same snapshot on every
// member with its own name and peer URL into a fresh data dir, start all,
// check health. Pure: built from plain data, printed by `restore-plan`.
// An operator pastes it into a root shell: every value in a command is one
// shell word (util::shell_quote), and a value that cannot be pasted safely
// (a newline, a control character, ill-formed UTF-8) refuses the whole plan.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "etcd_warden/util/result.hpp"

namespace etcd_warden::snapshot {

struct PlanMember {
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  std::filesystem::path data_dir;  // its --data-dir on its own host
  std::string data_dir_source;     // where that came from, for the reader
};

struct PlanInput {
  std::vector<PlanMember> members;
  std::filesystem::path snapshot;  // as stored (plain or .zst)
  bool compressed = false;
  std::int64_t revision = 0;
  std::string etcd_version;   // "3.4.23": etcdctl restores up to 3.4, etcdutl from 3.5
  std::string cluster_token;  // a new --initial-cluster-token
  std::string stamp;          // suffix for the moved-aside data dir, e.g. 20261123T1200Z
  std::vector<std::string> etcdctl_flags;  // words, e.g. TLS: {"--cacert", PATH, ...}
  // A snapshot on an upload target: the plan fetches it to `snapshot` first.
  std::string fetch_target;
  std::string fetch_name;
};

// Lines that are shell commands stand alone; explanations are '#' comments,
// so the plan can be read, or piped through grep -v '^#'. Fails as
// check_plan_input does.
util::Result<std::string> build_restore_plan(const PlanInput& in);

// Refuses a value that cannot go into a pasted command, in one line naming
// its role, its member and what to do, e.g. `member 2's name "a\nb" contains
// a newline; ...` (the value escaped).
util::Status check_plan_input(const PlanInput& in);

// The restore command for `member` (one of in.members), as in the plan.
util::Result<std::string> restore_command(const PlanInput& in, const PlanMember& member);
// Where the plan moves a member's old data dir ("<data dir>.before-restore-<stamp>"):
// the path itself, not quoted.
std::string moved_aside(const PlanInput& in, const PlanMember& member);
// The restored data dir gets the owner of the moved-aside one, on its own host.
util::Result<std::string> ownership_command(const PlanInput& in, const PlanMember& member);

}  // namespace etcd_warden::snapshot
