// Reading etcd's own log (EtcdCluster::member_log): the timestamped defrag
// start/finish lines, leader elections and leadership transfers, so tests
// check ordering from what etcd recorded, not from sleeps. Both formats the
// tests meet: etcd 3.4's text (capnslog, and its raft library's Go log lines)
// and etcd 3.5's JSON lines (zap, its default logger).
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

// One line of etcd's log that carries a time.
struct LogEntry {
  LogTime time;
  // JSON: the "msg" field; text: the whole line.
  std::string message;
  bool json = false;
};

// 3.4: "2026-11-23 13:03:04.802010 N | ..." (local time) or
//      "raft2026/11/23 14:13:01 INFO: ..." (the raft library's lines, whole seconds);
// 3.5: {"level":"info","ts":"2026-12-02T19:11:05.767140Z",...,"msg":"..."} (UTC,
//      or any RFC 3339 offset; a number is seconds since the epoch).
// nullopt for anything else (fixture markers, Go panics, strace output).
std::optional<LogEntry> parse_log_line(std::string_view line);
std::optional<LogTime> parse_log_time(std::string_view line);

// Every defrag the member ran, in order. A defrag that failed ends where
// etcd logged the failure.
std::vector<LogInterval> defrag_intervals(const std::string& log);

// Times this member became leader ("... became leader at term N"). 3.4's
// raft lines have whole seconds, 3.5's microseconds.
std::vector<LogTime> leader_elections(const std::string& log);

// Leadership transfers this member started as leader (MoveLeader, also the
// one etcd does itself when a leader stops), with times.
std::vector<LogTime> leader_transfers(const std::string& log);

// Two intervals share any instant.
bool overlap(const LogInterval& a, const LogInterval& b);

}  // namespace etcd_warden::testing
