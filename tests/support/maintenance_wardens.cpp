#include "support/maintenance_wardens.hpp"

#include <catch2/catch.hpp>

#include "support/etcd_log.hpp"
#include "support/http_get.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"

namespace etcd_warden::testing {

using namespace std::chrono_literals;

std::string maintenance_yaml(const EtcdCluster& cluster, std::size_t member, std::uint16_t port,
                             const std::string& extra) {
  // Compaction stays off unless the test turns it on: the rounds compact the
  // data set themselves.
  const bool compaction = extra.find("compaction:") != std::string::npos;
  const bool coordination = extra.find("coordination:") != std::string::npos;
  const bool status = extra.find("status:") != std::string::npos;
  return etcd_config_yaml(cluster, member) + "  request_timeout: 3s\n" +
         "metrics:\n  listen: \"127.0.0.1:" + std::to_string(port) + "\"\n" +
         (coordination ? "" : "coordination: {lock_ttl: 3s}\n") +
         (status ? "" : "status: {every: 300ms}\n") +
         (compaction ? "" : "compaction: {enabled: false}\n") +
         "snapshot: {enabled: false}\n"
         "tuning: {enabled: false}\n"
         "alarms: {every: 1s}\n" +
         extra;
}

const std::string kDefragFast =
    "defrag: {every: 1s, jitter: 300ms, min_free: 1MiB, min_free_ratio: 0.3, disk_margin: 1MiB}\n";

MaintenanceWarden::MaintenanceWarden(const EtcdCluster& cluster, std::size_t member,
                                     const std::string& extra)
    : metrics_port(free_port()),
      process(
          std::make_unique<WardenProcess>(maintenance_yaml(cluster, member, metrics_port, extra))) {
}

std::size_t MaintenanceWarden::count(const std::string& needle) const {
  const std::string text = log();
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::string MaintenanceWarden::metrics() const {
  return http_get("127.0.0.1", metrics_port, "/metrics", 2s).value_or("");
}

Wardens start_wardens(const EtcdCluster& cluster, const std::string& extra,
                      std::vector<std::size_t> members) {
  if (members.empty()) {
    for (std::size_t i = 0; i < cluster.size(); ++i) members.push_back(i);
  }
  Wardens out;
  for (auto i : members) out.push_back(std::make_unique<MaintenanceWarden>(cluster, i, extra));
  for (auto& w : out) {
    INFO(w->log());
    REQUIRE(w->process->wait_ready());
  }
  return out;
}

std::size_t finished_defrags(const EtcdCluster& cluster, std::size_t i) {
  std::size_t n = 0;
  for (const auto& d : defrag_intervals(cluster.member_log(i))) n += d.end ? 1 : 0;
  return n;
}

void require_no_overlap(const EtcdCluster& cluster) {
  std::vector<std::pair<std::size_t, LogInterval>> all;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    for (const auto& d : defrag_intervals(cluster.member_log(i))) all.emplace_back(i, d);
  }
  for (std::size_t a = 0; a < all.size(); ++a) {
    for (std::size_t b = a + 1; b < all.size(); ++b) {
      if (all[a].first == all[b].first) continue;
      INFO("defrags of m" << all[a].first + 1 << " and m" << all[b].first + 1 << " overlap");
      CHECK_FALSE(overlap(all[a].second, all[b].second));
    }
  }
}

std::uint64_t max_term(const EtcdCluster& cluster) {
  std::uint64_t term = 0;
  for (const auto& s : cluster.status()) {
    if (s) term = std::max(term, s->raft_term);
  }
  return term;
}

std::string all_logs(const Wardens& wardens) {
  std::string out;
  for (std::size_t i = 0; i < wardens.size(); ++i) {
    out += "--- warden " + std::to_string(i + 1) + " ---\n" + tail_lines(wardens[i]->log(), 40);
  }
  return out;
}

}  // namespace etcd_warden::testing
