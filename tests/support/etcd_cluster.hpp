// Real etcd members on free loopback ports for integration tests and
// benchmarks; the binaries come from $ETCD_BIN_DIR (support/etcd_tools.hpp),
// /usr/bin when it is unset. Each member has its own data dir and log inside
// one TempDir; everything is killed and removed when the fixture goes away.
// A running cluster can take a learner (add_learner), promote it and remove
// any member.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/etcd_tools.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/tls.hpp"
#include "support/wait.hpp"

namespace etcd_warden::testing {

struct EtcdClusterOptions {
  std::size_t members = 1;                 // 1..5
  std::vector<std::string> extra_flags{};  // e.g. "--quota-backend-bytes=16777216"
  EnvVars env{};  // added to every member's environment, e.g. {"ETCD_HEARTBEAT_INTERVAL", "250"}
  // Runs every member under this command, e.g. {"strace", "-f", ...}; etcd's
  // own argv follows it.
  std::vector<std::string> wrapper{};
  // Runs every member as this uid:gid (setpriv), as Debian's etcd runs as
  // user etcd: each member's directory is theirs, the cluster's is
  // traversable. Unset: as the test (root in CI).
  std::optional<std::pair<unsigned, unsigned>> run_as{};
  // false: start the members and return at once (a cluster that may never
  // get a leader, e.g. on slowed disks); the caller waits for what it needs.
  bool wait_healthy = true;
  bool tls = false;  // https client URLs, server cert for 127.0.0.1, --client-cert-auth
  // Where member i keeps its data dir (data_parents[i]/data), e.g. a
  // filesystem of its own (support/loop_filesystem.hpp); empty: inside the
  // cluster's TempDir. The data dir is removed before the member first starts.
  std::vector<std::filesystem::path> data_parents{};
  std::chrono::milliseconds start_deadline = std::chrono::seconds(20);
  std::filesystem::path etcd_binary = etcd_tool("etcd");
  std::filesystem::path etcdctl_binary = etcd_tool("etcdctl");
  // Offline snapshot commands: etcdutl from 3.5 on, etcdctl before.
  std::filesystem::path etcdutl_binary = etcd_snapshot_tool();
};

struct EtcdMember {
  std::string name;         // m1..mN, learners numbered on
  std::string client_url;   // http(s)://127.0.0.1:PORT
  std::string peer_url;     // http://127.0.0.1:PORT
  std::string metrics_url;  // http://127.0.0.1:PORT (serves /metrics and /health)
  std::uint16_t client_port = 0, peer_port = 0, metrics_port = 0;
  std::filesystem::path dir;       // the member's directory
  std::filesystem::path data_dir;  // --data-dir
  std::filesystem::path log_path;  // etcd's stdout+stderr, appended across restarts
  bool learner = false;            // added by add_learner and not promoted since
  bool removed = false;            // `member remove`d: no longer in endpoints() or status()
  std::uint64_t id = 0;            // known once the fixture asked (member_id)
};

// One member's answer to `endpoint status`.
struct EtcdMemberStatus {
  std::uint64_t member_id = 0;
  std::uint64_t leader_id = 0;
  std::int64_t revision = 0;
  std::uint64_t db_size = 0;
  std::uint64_t db_size_in_use = 0;
  std::uint64_t raft_index = 0;
  std::uint64_t raft_term = 0;
  bool is_learner = false;
  bool is_leader() const { return member_id != 0 && member_id == leader_id; }
};

// One entry of `member list`.
struct EtcdListedMember {
  std::uint64_t id = 0;
  std::string name;  // "" for a member added but not started yet
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

class EtcdCluster {
 public:
  enum class WaitFor {
    healthy,     // GET /health says true (needs a leader and no active alarm)
    responding,  // `etcdctl endpoint status` answers (also under NOSPACE)
    nothing,
  };

  // Starts all members and waits until each is healthy. Throws
  // std::runtime_error (with the failing member's log tail) on failure.
  explicit EtcdCluster(EtcdClusterOptions options = {});
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // Every member ever started, removed ones included (their logs stay
  // readable), so an index names the same member for the fixture's lifetime.
  // References from member() stay valid across add_learner.
  std::size_t size() const { return members_.size(); }
  const EtcdMember& member(std::size_t i) const { return members_.at(i); }
  // Client URLs of the voting members (not learners, which refuse most
  // requests, nor removed members): what a client should be given.
  std::string endpoints() const;  // comma-joined
  std::vector<std::string> endpoint_list() const;
  bool tls() const { return tls_.has_value(); }
  const TlsMaterial& tls_material() const;  // throws if not a TLS cluster
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::string token() const { return token_; }

  // SIGTERM and wait; SIGKILL if still running after `deadline`. Returns the exit status.
  std::optional<int> stop_member(std::size_t i,
                                 std::chrono::milliseconds deadline = std::chrono::seconds(10));
  void kill_member(std::size_t i);  // SIGKILL and reap
  // Restarts a stopped member with its data dir (--initial-cluster-state existing).
  void start_member(std::size_t i, WaitFor wait = WaitFor::healthy,
                    std::chrono::milliseconds deadline = std::chrono::seconds(20));
  bool member_running(std::size_t i);
  Process* member_process(std::size_t i);  // nullptr if never started
  std::string member_log(std::size_t i) const;

  bool member_healthy(std::size_t i) const;  // GET /health on the metrics URL
  // Waits for member i; throws with its log tail on timeout or early exit.
  void wait_member(std::size_t i, WaitFor wait, std::chrono::milliseconds deadline);

  // etcdctl_binary() with ETCDCTL_API=3, the cluster's endpoints (or only
  // member i's with etcdctl_on) and the client cert when TLS.
  CommandResult etcdctl(std::vector<std::string> args,
                        std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;
  CommandResult etcdctl_on(std::size_t i, std::vector<std::string> args,
                           std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;
  // The flags etcdctl needs for TLS ("" entries omitted), e.g. for a test's own command line.
  std::vector<std::string> etcdctl_tls_flags() const;

  void put(const std::string& key, const std::string& value) const;  // throws on failure
  std::optional<std::string> get(const std::string& key) const;      // nullopt if absent

  // Adds a learner to the running cluster: `member add --learner` with fresh
  // loopback ports, then starts it (--initial-cluster-state=existing, the
  // current members in --initial-cluster) and waits until it answers
  // `endpoint status` (WaitFor::responding). Retries while etcd refuses the
  // change because its members have not been connected long enough. Returns
  // the learner's index. Throws (with its log tail) on failure.
  std::size_t add_learner(std::chrono::milliseconds deadline = std::chrono::seconds(30));
  // `member promote` of learner i, retried while etcd says it has not caught
  // up with the leader yet.
  void promote_member(std::size_t i, std::chrono::milliseconds deadline = std::chrono::seconds(20));
  // `member remove` of member i (asked of the others), then waits for it to
  // exit, as etcd does once it learns it was removed, and reaps it.
  void remove_member(std::size_t i, std::chrono::milliseconds deadline = std::chrono::seconds(20));
  // Member i's ID (from `member list`, by peer URL); 0 if the cluster does not know it.
  std::uint64_t member_id(std::size_t i);
  // `member list` as etcd answers it (removed members absent); throws on failure.
  std::vector<EtcdListedMember> member_list() const;

  // The binaries this cluster runs (options or $ETCD_BIN_DIR).
  const std::filesystem::path& etcd_binary() const { return options_.etcd_binary; }
  const std::filesystem::path& etcdctl_binary() const { return options_.etcdctl_binary; }
  // etcdutl from 3.5 on, etcdctl before: for snapshot status/restore.
  const std::filesystem::path& etcdutl_binary() const { return options_.etcdutl_binary; }

  // `endpoint status` of each member, learners included (nullopt where it
  // does not answer, and for removed members).
  std::vector<std::optional<EtcdMemberStatus>> status() const;
  // Every member answers status() at one revision (all caught up).
  bool same_revision() const;
  // Index of the member that says it is the leader, or -1.
  int leader_index() const;
  // Waits until some member is leader; returns its index or -1 at the deadline.
  int wait_for_leader(std::chrono::milliseconds deadline = std::chrono::seconds(20)) const;

 private:
  std::vector<std::string> member_args(std::size_t i, bool existing) const;
  void assign_ports(EtcdMember& m);
  void assign_ports();
  EtcdMember& new_member(const std::string& name);
  // Client URLs of every member still in the cluster, learners included.
  std::string all_endpoints() const;
  // One `member add --learner` attempt; false while etcd says it is not ready.
  bool try_member_add(std::size_t i, std::string& error);
  void spawn(std::size_t i, bool existing);
  // Signals etcd itself: the member process, or under a wrapper its child.
  void signal_etcd(std::size_t i, int sig);
  bool condition(std::size_t i, WaitFor wait) const;
  std::string failure(std::size_t i, const std::string& what) const;

  EtcdClusterOptions options_;
  TempDir dir_{"etcd-warden-etcd"};  // destroyed last
  std::optional<TlsMaterial> tls_;
  std::string token_;
  std::vector<EtcdMember> members_;
  std::vector<std::optional<Process>> processes_;
};

}  // namespace etcd_warden::testing
