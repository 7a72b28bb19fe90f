// Reading etcd 3.4's own log (EtcdCluster::member_log): the timestamped
// "starting to defragment" / "finished defragmenting" lines and leader
// elections, so tests check ordering from what etcd recorded, not from sleeps.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcd_warden::testing {

using LogTime = std::chrono::system_clock::time_point;

struct LogInterval {
  LogTime start;
  std::optional<LogTime> end;  // nullopt: still running when the log was read
};

// "2026-11-23 13:03:04.802010 N | ..." or "raft2026/11/23 14:13:01 INFO: ..."
// (the raft library's lines, whole seconds) -> the time (etcd logs local time).
std::optional<LogTime> parse_log_time(std::string_view line);

// Every defrag the member ran, in order.
std::vector<LogInterval> defrag_intervals(const std::string& log);

// Lines saying this member became leader ("became leader at term N"), with
// times (whole seconds: the raft library's own log format).
std::vector<LogTime> leader_elections(const std::string& log);

// Leadership transfers this member started as leader (MoveLeader), with times.
std::vector<LogTime> leader_transfers(const std::string& log);

// Two intervals share any instant.
bool overlap(const LogInterval& a, const LogInterval& b);

}  // namespace etcd_warden::testing
