// The etcd actions the defrag and alarms jobs share: look at the whole
// cluster and measure free disk (cluster_probe.cpp), the records kept under
// the coordination prefix (coord_records.cpp), hand leadership off, defragment
// one member and wait until it is healthy again (maintenance_ops.cpp).
// Thin I/O: every decision is in defrag_rule.hpp / alarm_rule.hpp.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "etcd_warden/jobs/defrag_rule.hpp"
#include "etcd_warden/jobs/job_context.hpp"
#include "etcd_warden/jobs/member_view.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::jobs {

// MemberList, Status of every member (each at its first client URL) and the
// alarm list. The error string when even the member list is unavailable.
// `self` receives the local member's ID (0 if the local member did not answer).
Task<util::Result<ClusterView>> probe_cluster(std::shared_ptr<etcd::Client> etcd,
                                              std::uint64_t* self = nullptr);

// io::free_space on the blocking pool: statvfs can hang for seconds on a slow NFS
// mount, and the loop must keep answering meanwhile.
Task<util::Result<Bytes>> measure_free_disk(JobContext& context, std::filesystem::path dir);

// etcd_disk_defrag_inflight from the local member's /metrics (etcd 3.4.23+,
// 3.5; config::Etcd::local_metrics_url), read on `pool`; nullopt when etcd
// does not export it.
Task<std::optional<bool>> local_defrag_inflight(const config::Config& cfg, asio::thread_pool& pool);

// Whether `member` is defragmenting right now. The local member: its
// etcd_disk_defrag_inflight metric. Any member: a serializable read on it,
// which etcd serves from its own backend, whose read lock a defrag holds from
// start to end; an answer within ~2 s means no defrag is running (a timeout
// counts as running). nullopt when the member cannot be reached.
Task<std::optional<bool>> defrag_running(std::shared_ptr<etcd::Client> etcd,
                                         const config::Config& cfg, asio::thread_pool& pool,
                                         const MemberView& member, bool local);

// Keys under coordination.prefix. The coroutines below take it by value: a
// reference parameter would dangle when the caller passes a temporary.
struct CoordKeys {
  std::string lock;      // the defrag lock (leased)
  std::string inflight;  // DefragMarker of a defrag that may still run
  std::string round;     // DefragRound: who had a turn in the current round
  std::string disk_prefix;
  std::string write_check;  // written and deleted to prove writes work after NOSPACE
  std::string consistency;  // ConsistencyRecord of the last cross-member comparison
  std::string disk(std::uint64_t member_id) const;
  explicit CoordKeys(const std::string& prefix);
};

// Publishes this member's report (DiskReport: free disk, its client URL
// `client_url` as in MemberList, the data dir) if the last publication is
// older than a few minutes or says something else; failures are logged at
// debug level only (etcd may be under NOSPACE, which refuses the write: the
// old report stays; a learner refuses every write).
class DiskReporter {
 public:
  Task<void> publish(JobContext& context, std::uint64_t self, std::string client_url,
                     bool force = false);

 private:
  std::optional<sched::SteadyTime> last_;
  std::string last_url_;
};
Task<std::optional<DiskReport>> read_disk_report(std::shared_ptr<etcd::Client> etcd, CoordKeys keys,
                                                 std::uint64_t member);
// Every member's report, by member ID. `serializable`: read from the local
// member's own copy, which a learner serves too. (`keys` by value: the
// coroutine may outlive a temporary.)
Task<etcd::Result<std::map<std::uint64_t, DiskReport>>> read_disk_reports(
    std::shared_ptr<etcd::Client> etcd, CoordKeys keys, bool serializable);

// One record under the prefix: its value, nullopt when the key is absent.
Task<etcd::Result<std::optional<std::string>>> read_record(std::shared_ptr<etcd::Client> etcd,
                                                           std::string key);
// Puts `key` only while `lock_key` still carries `lock_lease` (false if not).
Task<etcd::Result<bool>> put_while_locked(std::shared_ptr<etcd::Client> etcd, std::string lock_key,
                                          std::int64_t lock_lease, std::string key,
                                          std::string value);

Task<etcd::Result<std::optional<DefragMarker>>> read_marker(std::shared_ptr<etcd::Client> etcd,
                                                            const CoordKeys& keys);
Task<etcd::Result<bool>> write_marker(std::shared_ptr<etcd::Client> etcd, const CoordKeys& keys,
                                      const DefragMarker& marker, std::int64_t lock_lease);
Task<etcd::Result<bool>> delete_marker(std::shared_ptr<etcd::Client> etcd, CoordKeys keys);
// The recorded round (not yet judged by round_in_force); an unreadable record
// counts as none, with a warning.
Task<etcd::Result<std::optional<DefragRound>>> read_round(std::shared_ptr<etcd::Client> etcd,
                                                          const CoordKeys& keys);

// --- One member, safely. The caller holds the lock (or is the NOSPACE actor).
struct StepOutcome {
  enum class Kind {
    done,           // defragmented, healthy and caught up again
    failed,         // etcd said no or the member did not come back; nothing left running
    still_running,  // Defragment timed out or was cancelled and etcd has not finished
    stopped,        // the warden is shutting down
  };
  Kind kind = Kind::failed;
  std::string summary;
  Bytes before;
  Bytes after;
  std::chrono::duration<double> took{0};
  bool moved_leader = false;
  bool in_place = false;          // the only voting member, defragmented while leading
  bool finished_in_etcd = false;  // etcd's defrag is over (the in-flight record may go)
};

struct StepOptions {
  const DefragPolicy* policy = nullptr;
  // The defrag round in force: members that had their turn are preferred as
  // the new leader.
  std::optional<DefragRound> round;
  // Called just before Defragment (write the in-flight marker); an error
  // aborts the step before anything happened.
  std::function<Task<util::Status>(const MemberView&, config::Duration deadline)> before;
  // Whether the caller can read this member's own metrics (the local one).
  bool local = false;
};

// MoveLeader to `to` when `member` leads (in place when it is the only
// voting member: see plan_leader_defrag), then Defragment with a deadline
// scaled by its size; on a timeout, waits (up to one more deadline) for etcd
// to finish; then waits until the member is healthy and caught up.
Task<StepOutcome> defrag_member(JobContext& context, std::shared_ptr<etcd::Client> etcd,
                                ClusterView view, std::uint64_t member, StepOptions options);

// Sends MoveLeader to the current leader and waits until the cluster agrees
// on `to` as leader (or `timeout` passes).
Task<Verdict> hand_off_leadership(std::shared_ptr<etcd::Client> etcd, const sched::Clock& clock,
                                  const ClusterView& view, std::uint64_t to,
                                  config::Duration timeout);

// Polls until `member` answers, the cluster agrees on a leader and the member
// is within max_raft_lag of the others.
Task<Verdict> wait_caught_up(std::shared_ptr<etcd::Client> etcd, const sched::Clock& clock,
                             std::uint64_t member, const DefragPolicy& policy,
                             config::Duration timeout);

// After a compaction: waits until `member`'s in-use size has stopped
// changing (its own physical compaction runs in batches after it applied the
// request), so that its defrag reclaims what the compaction freed. Gives up
// quietly after `timeout`.
Task<void> wait_compaction_settled(std::shared_ptr<etcd::Client> etcd, const sched::Clock& clock,
                                   const MemberView& member, config::Duration timeout);

// Sleeps on the loop (never blocks it).
Task<void> pause_for(asio::any_io_executor executor, config::Duration d);

}  // namespace etcd_warden::jobs
