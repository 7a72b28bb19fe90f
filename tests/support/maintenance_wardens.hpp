// One warden per etcd member with the short schedules the maintenance tests
// use (defrag, alarms, compaction), and the checks they share: defrags
// counted from etcd's own logs, no two at a time, elections.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/etcd_cluster.hpp"
#include "support/warden.hpp"

namespace etcd_warden::testing {

// The member's config with its own metrics port, status every 300 ms, alarms
// every second; compaction, snapshots and tuning off unless `extra` has them.
std::string maintenance_yaml(const EtcdCluster& cluster, std::size_t member, std::uint16_t port,
                             const std::string& extra = "");

// A defrag every second with thresholds a small test data set reaches.
extern const std::string kDefragFast;

struct MaintenanceWarden {
  std::uint16_t metrics_port;
  std::unique_ptr<WardenProcess> process;

  MaintenanceWarden(const EtcdCluster& cluster, std::size_t member, const std::string& extra);
  std::string log() const { return process->log(); }
  bool logged(const std::string& needle) const { return log().find(needle) != std::string::npos; }
  std::size_t count(const std::string& needle) const;  // occurrences in the log
  std::string metrics() const;
};

using Wardens = std::vector<std::unique_ptr<MaintenanceWarden>>;

// Wardens for `members` (default: all), each READY before this returns.
Wardens start_wardens(const EtcdCluster& cluster, const std::string& extra,
                      std::vector<std::size_t> members = {});

// Defrags member i finished, from its etcd log.
std::size_t finished_defrags(const EtcdCluster& cluster, std::size_t i);
// CHECKs that no two defrags of different members share an instant.
void require_no_overlap(const EtcdCluster& cluster);
// The highest raft term any member reports.
std::uint64_t max_term(const EtcdCluster& cluster);
// The last lines of every warden's log, for INFO().
std::string all_logs(const Wardens& wardens);

}  // namespace etcd_warden::testing
