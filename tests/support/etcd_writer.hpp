// A client load for maintenance tests and benchmarks: one thread per
// endpoint sends Put requests (a small value, a deadline each) at a steady
// pace and records every request's wall-clock start, latency and outcome, so
// tests can check "0 failures" and benchmarks can split latency by whether
// that endpoint's member was being defragmented at the time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace etcd_warden::testing {

struct WriteSample {
  std::chrono::system_clock::time_point start;
  std::chrono::microseconds latency{0};  // including a retry
  bool ok = false;                       // in the end (after the retry, if any)
  bool retried = false;                  // the first attempt got a retryable error
  std::string error;                     // the first attempt's error, if any
};

struct EndpointLoad {
  std::string endpoint;
  std::vector<WriteSample> samples;
  std::vector<std::string> errors;  // the first few, for failure messages
  std::size_t failures() const;
  std::size_t retried() const;
  // Latency percentile (0..1) over the samples selected by `keep` (all by default).
  std::chrono::microseconds percentile(double p, bool (*keep)(const WriteSample&) = nullptr) const;
};

struct WriterOptions {
  std::chrono::milliseconds interval{20};  // pause between one endpoint's requests
  std::chrono::milliseconds deadline{5000};
  // etcd drops proposals that reach the leader during a leadership transfer
  // (raft ErrProposalDropped): the client sees "request timed out" or "raft
  // proposal dropped" and nothing was written. Retry such a request once, as
  // applications on etcd's clients do; it counts as failed only if the retry
  // fails too. Every retry is counted (retried()).
  bool retry_once = true;
  std::chrono::milliseconds retry_after{200};
  std::size_t value_bytes = 128;
  std::string key_prefix = "/load/";
  std::size_t keys = 64;  // overwrite these keys round robin (creates fragmentation too)
};

class EtcdWriter {
 public:
  EtcdWriter(std::vector<std::string> endpoints, WriterOptions options = {});
  ~EtcdWriter();  // stops and joins
  EtcdWriter(const EtcdWriter&) = delete;
  EtcdWriter& operator=(const EtcdWriter&) = delete;

  void stop();
  // A copy of what has been recorded so far (call after stop() for the final figures).
  std::vector<EndpointLoad> results() const;
  std::size_t total_requests() const;
  std::size_t total_failures() const;
  std::size_t total_retried() const;
  std::string failure_summary() const;  // "" when there were none

 private:
  void run(std::size_t index);

  WriterOptions options_;
  std::vector<EndpointLoad> loads_;
  mutable std::mutex mu_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace etcd_warden::testing
