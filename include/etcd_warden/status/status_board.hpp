// What the warden knows right now: the local member as last polled, each
// job's last result, pause and config state. Owned by the daemon, written on
// the loop by jobs, read by the STATUS= line, `ctl status` and the D-Bus API.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etcd_warden/sched/clock.hpp"
#include "etcd_warden/sched/job_result.hpp"
#include "etcd_warden/util/bytes.hpp"

namespace etcd_warden::status {

enum class QuotaSource { none, config, etcd_status, etcd_metrics };

struct Alarm {
  std::uint64_t member_id = 0;
  std::string type;  // "NOSPACE", "CORRUPT"
};

struct MemberStatus {
  bool polled = false;  // false until the first poll finished
  bool up = false;
  std::string error;  // why the member is not up (one line)
  std::optional<sched::WallTime> down_since;
  std::string endpoint;
  std::uint64_t member_id = 0;
  std::uint64_t leader_id = 0;
  std::uint64_t cluster_id = 0;
  std::string name;
  std::string version;
  Bytes db_size;
  Bytes db_in_use;
  std::optional<Bytes> quota;
  QuotaSource quota_source = QuotaSource::none;
  std::uint64_t raft_index = 0;
  std::uint64_t raft_term = 0;
  std::int64_t revision = 0;
  bool is_learner = false;
  std::size_t member_count = 0;
  std::vector<Alarm> alarms;

  bool is_leader() const { return up && member_id != 0 && member_id == leader_id; }
  bool has_leader() const { return up && leader_id != 0; }
};

struct JobRecord {
  sched::Outcome outcome = sched::Outcome::success;
  std::string summary;
  sched::WallTime finished_at{};
  std::optional<sched::WallTime> last_success;
  double seconds = 0;
  unsigned consecutive_failures = 0;
};

struct StatusBoard {
  MemberStatus member;
  std::map<std::string, JobRecord> jobs;
  bool paused = false;
  std::optional<sched::WallTime> paused_until;
  std::string config_problem;  // set when a reload failed; cleared by a good one
  // "TUNING WARN: …" while the tuning verdict is not ok; empty otherwise.
  std::string tuning_alert;
  // After a tuning run: the values checked and where each came from, e.g.
  // "heartbeat 100ms (/proc/812/cmdline), election 1s (etcd's default)".
  std::string tuning_settings;
  // "CONSISTENCY MISMATCH: m3 differs at revision 1234: …" while the leader's
  // warden's last comparison found one; empty otherwise.
  std::string consistency_alert;
  // "CERT etcd-server expires in 5d: /etc/…/server.crt (+1 more)" while a
  // certificate in use expires within certificates.warn_before (or has, or
  // cannot be read); empty otherwise.
  std::string certificate_alert;
  // What the warden is doing right now that users feel, e.g. a defrag in
  // place that stalls the member's clients; empty otherwise.
  std::string activity;
};

// The one human line for systemd's STATUS= (and the first line of `ctl
// status`): state first, then member, then jobs. Kept under ~250 characters.
std::string format_status_line(const StatusBoard& board, sched::WallTime now);

// "45s", "3m", "2h", "4d": how long ago, coarse.
std::string format_age(std::chrono::seconds age);

}  // namespace etcd_warden::status
