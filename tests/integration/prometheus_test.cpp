// The shipped alert rules (packaging/prometheus/etcd-warden-rules.yml) in a
// real Prometheus (Debian's /usr/bin/prometheus) that scrapes a 3-member etcd
// cluster and a warden per member, with the scrape job names the rules expect:
// every group and rule loads and evaluates cleanly against live data, quiet
// alerts stay quiet, and the alerts for a broken snapshot dir, a stopped
// member and a stopped warden react, each for its own target only.
#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/etcd_cluster.hpp"
#include "support/http_get.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;
using SysTime = std::chrono::system_clock::time_point;

namespace {

const fs::path kPrometheus = "/usr/bin/prometheus";
const fs::path kRulesFile =
    fs::path(ETCD_WARDEN_SOURCE_DIR) / "packaging/prometheus/etcd-warden-rules.yml";

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

std::string host_port(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

// One group of the rules file: its name and its rules' names (alert or record), in file order.
struct RuleGroup {
  std::string name;
  std::vector<std::string> rules;
  bool operator==(const RuleGroup&) const = default;
};

std::vector<RuleGroup> groups_in_file(const fs::path& file) {
  const YAML::Node root = YAML::LoadFile(file.string());
  std::vector<RuleGroup> groups;
  for (const YAML::Node& group : root["groups"]) {
    RuleGroup g{group["name"].as<std::string>(), {}};
    for (const YAML::Node& rule : group["rules"]) {
      g.rules.push_back(rule["alert"] ? rule["alert"].as<std::string>()
                                      : rule["record"].as<std::string>());
    }
    groups.push_back(std::move(g));
  }
  return groups;
}

// Go's RFC 3339 time as Prometheus' API writes it ("2024-06-04T10:11:12.5Z",
// or with a "+02:00" offset when Prometheus runs in a local time zone).
std::optional<SysTime> parse_rfc3339(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::size_t pos = static_cast<std::size_t>(consumed);
  double fraction = 0;
  if (pos < text.size() && text[pos] == '.') {
    const std::size_t end = text.find_first_not_of("0123456789", pos + 1);
    fraction = std::stod("0" + text.substr(pos, end - pos));
    pos = end;
  }
  long offset_seconds = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int hours = 0, minutes = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &hours, &minutes) != 2) return std::nullopt;
    offset_seconds = (text[pos] == '-' ? -1 : 1) * (hours * 3600L + minutes * 60L);
  } else if (pos >= text.size() || text[pos] != 'Z') {
    return std::nullopt;
  }
  const std::time_t utc = ::timegm(&tm) - offset_seconds;
  return std::chrono::system_clock::from_time_t(utc) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             std::chrono::duration<double>(fraction));
}

// "" when Prometheus has loaded exactly the file's groups and rules and has
// evaluated every rule without error after `since`; otherwise what is still wrong.
std::string rules_problem(const json& data, const std::vector<RuleGroup>& expected, SysTime since) {
  std::vector<RuleGroup> loaded;
  for (const json& group : data.at("groups")) {
    RuleGroup g{group.value("name", ""), {}};
    for (const json& rule : group.at("rules")) {
      const std::string name = rule.value("name", "");
      g.rules.push_back(name);
      const std::string where = "group " + g.name + " rule " + name + ": ";
      if (rule.value("health", "") != "ok") {
        return where + "health " + rule.value("health", "") + " " + rule.value("lastError", "");
      }
      const auto evaluated = parse_rfc3339(rule.value("lastEvaluation", ""));
      if (!evaluated || *evaluated <= since) {
        return where + "lastEvaluation " + rule.value("lastEvaluation", "") +
               " is not after the start of this step";
      }
    }
    loaded.push_back(std::move(g));
  }
  if (loaded != expected) return "the loaded groups and rules differ from the file: " + data.dump();
  return "";
}

// "" when Prometheus scrapes exactly `expected` targets and all of them are up.
std::string targets_problem(const json& data, std::size_t expected) {
  const json& targets = data.at("activeTargets");
  if (targets.size() != expected) {
    return std::to_string(targets.size()) + " active targets, want " + std::to_string(expected);
  }
  for (const json& t : targets) {
    if (t.value("health", "") != "up") {
      return "target " + t.value("scrapeUrl", "") + " is " + t.value("health", "") + ": " +
             t.value("lastError", "");
    }
  }
  return "";
}

// The state ("pending", "firing") of alert `name` for `instance` in
// /api/v1/alerts' data, or "" when it is not active there.
std::string alert_state(const json& data, const std::string& name, const std::string& instance) {
  for (const json& alert : data.at("alerts")) {
    const json& labels = alert.at("labels");
    if (labels.value("alertname", "") == name && labels.value("instance", "") == instance) {
      return alert.value("state", "");
    }
  }
  return "";
}

// The state of alerting rule `name` in /api/v1/rules' data ("inactive",
// "pending", "firing"); for a name used by several rules, the first that is not inactive.
std::string rule_state(const json& data, const std::string& name) {
  std::string state;
  for (const json& group : data.at("groups")) {
    for (const json& rule : group.at("rules")) {
      if (rule.value("name", "") != name) continue;
      if (state.empty() || state == "inactive") state = rule.value("state", "");
    }
  }
  return state;
}

// Debian's Prometheus on a free loopback port, with its config, TSDB and log
// in its own directory; SIGKILLed when the object goes away.
class PrometheusServer {
 public:
  explicit PrometheusServer(const std::string& config_yaml) {
    write_file(dir_ / "prometheus.yml", config_yaml);
    process_.emplace(ProcessOptions{
        .argv = {kPrometheus.string(), "--config.file=" + (dir_ / "prometheus.yml").string(),
                 "--storage.tsdb.path=" + (dir_ / "data").string(),
                 "--web.listen-address=" + host_port(port_)},
        .log_path = dir_ / "prometheus.log"});
  }

  // The "data" of a successful answer from the HTTP API; nullopt while
  // Prometheus is not (yet) answering or answers with an error.
  std::optional<json> api(const std::string& path) const {
    auto body = http_get("127.0.0.1", port_, path, 2s);
    if (!body) return std::nullopt;
    json answer = json::parse(*body, nullptr, /*allow_exceptions=*/false);
    if (!answer.is_object() || answer.value("status", "") != "success") return std::nullopt;
    return answer.at("data");
  }

  std::string log_tail() const { return process_->log_tail(40); }

 private:
  TempDir dir_{"etcd-warden-prometheus"};  // destroyed after the process
  std::uint16_t port_ = free_port();
  std::optional<Process> process_;
};

// Scrape and evaluate every second so that a test sees rules react within seconds.
std::string prometheus_yaml(const std::vector<std::string>& warden_targets,
                            const std::vector<std::string>& etcd_targets) {
  auto list = [](const std::vector<std::string>& targets) {
    std::string out;
    for (const auto& t : targets) out += (out.empty() ? "" : ", ") + quoted(t);
    return "[" + out + "]";
  };
  // Job names as docs/metrics.md tells users to scrape: "etcd-warden" exactly
  // (default honor_labels, so the warden's `job` label becomes `exported_job`)
  // and a name containing "etcd" but not "warden" for etcd itself.
  return "global:\n"
         "  scrape_interval: 1s\n"
         "  scrape_timeout: 1s\n"
         "  evaluation_interval: 1s\n"
         "rule_files:\n"
         "  - " +
         quoted(kRulesFile.string()) +
         "\n"
         "scrape_configs:\n"
         "  - job_name: etcd-warden\n"
         "    static_configs:\n"
         "      - targets: " +
         list(warden_targets) +
         "\n"
         "  - job_name: etcd\n"
         "    static_configs:\n"
         "      - targets: " +
         list(etcd_targets) + "\n";
}

// The whole case must end within 90 s even if every wait runs to its deadline.
class TimeBudget {
 public:
  explicit TimeBudget(std::chrono::milliseconds total)
      : end_(std::chrono::steady_clock::now() + total) {}
  // `step`, or less when the budget has less left.
  std::chrono::milliseconds at_most(std::chrono::milliseconds step) const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end_ - std::chrono::steady_clock::now());
    return std::max(0ms, std::min(step, left));
  }

 private:
  std::chrono::steady_clock::time_point end_;
};

}  // namespace

TEST_CASE("Prometheus evaluates the shipped alert rules against a live cluster and its wardens",
          "[prometheus]") {
  INFO("Debian's prometheus package is needed: scripts/install-deps installs it");
  REQUIRE(fs::exists(kPrometheus));
  const std::vector<RuleGroup> expected_groups = groups_in_file(kRulesFile);
  REQUIRE(expected_groups.size() >= 2);

  // Cluster start (20 s at most) comes first; the waits below share the rest.
  const TimeBudget budget(65s);
  EtcdCluster cluster({.members = 3});

  // Warden 0's snapshot directory cannot be created (its parent is a file),
  // so its first snapshot, due at start-up, fails: EtcdWardenSnapshotFailing
  // must fire for it, through the exported_job label. The others take none.
  TempDir scratch("etcd-warden-prometheus-test");
  write_file(scratch / "not-a-directory", "");
  std::vector<std::uint16_t> warden_ports;
  std::vector<std::unique_ptr<WardenProcess>> wardens;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    warden_ports.push_back(free_port());
    const std::string snapshot =
        i == 0 ? "snapshot:\n  dir: " + quoted((scratch / "not-a-directory/snapshots").string()) +
                     "\n  every: 1h\n  jitter: 0s\n"
               : "snapshot:\n  enabled: false\n";
    wardens.push_back(std::make_unique<WardenProcess>(
        etcd_config_yaml(cluster, i) + "metrics:\n  listen: " +
        quoted(host_port(warden_ports.back())) + "\nstatus:\n  every: 1s\n" + snapshot));
  }
  for (auto& warden : wardens) {
    INFO(warden->log());
    REQUIRE(warden->wait_ready(budget.at_most(10s)));
  }

  std::vector<std::string> warden_targets, etcd_targets;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    warden_targets.push_back(host_port(warden_ports[i]));
    etcd_targets.push_back(host_port(cluster.member(i).metrics_port));
  }
  const SysTime started = std::chrono::system_clock::now();
  PrometheusServer prometheus(prometheus_yaml(warden_targets, etcd_targets));

  std::string problem = "Prometheus does not answer";
  auto targets_up = [&] {
    auto data = prometheus.api("/api/v1/targets?state=active");
    problem = data ? targets_problem(*data, warden_targets.size() + etcd_targets.size())
                   : "Prometheus does not answer /api/v1/targets";
    return problem.empty();
  };
  {
    const bool up = wait_until(targets_up, budget.at_most(30s), 200ms);
    INFO(problem << "\nPrometheus log:\n" << prometheus.log_tail());
    REQUIRE(up);
  }

  // Every rule evaluated again after all targets were up, i.e. with live data.
  const SysTime all_up = std::chrono::system_clock::now();
  REQUIRE(all_up > started);
  json rules;
  auto rules_evaluated = [&] {
    auto data = prometheus.api("/api/v1/rules");
    if (!data) {
      problem = "Prometheus does not answer /api/v1/rules";
      return false;
    }
    rules = *data;
    problem = rules_problem(rules, expected_groups, all_up);
    return problem.empty();
  };
  {
    const bool evaluated = wait_until(rules_evaluated, budget.at_most(15s), 200ms);
    INFO(problem << "\nPrometheus log:\n" << prometheus.log_tail());
    REQUIRE(evaluated);
  }
  // A healthy cluster with every warden reachable: these stay quiet.
  for (const char* quiet :
       {"EtcdNoLeader", "EtcdMemberDown", "EtcdDatabaseNearQuota", "EtcdWardenDown",
        "EtcdWardenEtcdUnreachable", "EtcdWardenAlarmNoSpace", "EtcdWardenAlarmCorrupt"}) {
    INFO(quiet);
    CHECK(rule_state(rules, quiet) == "inactive");
  }

  json alerts;
  auto alerts_now = [&] {
    auto data = prometheus.api("/api/v1/alerts");
    if (data) alerts = *data;
    return data.has_value();
  };
  // The rule has no `for:`, so it fires as soon as the failure counter is scraped.
  const std::string broken_warden = host_port(warden_ports[0]);
  CHECK_EVENTUALLY(
      alerts_now() && alert_state(alerts, "EtcdWardenSnapshotFailing", broken_warden) == "firing",
      budget.at_most(15s));
  for (std::size_t i = 1; i < wardens.size(); ++i) {
    CHECK(alert_state(alerts, "EtcdWardenSnapshotFailing", host_port(warden_ports[i])).empty());
  }

  // A member and another member's warden go away. EtcdMemberDown (for: 3m),
  // EtcdWardenEtcdUnreachable (for: 5m) and EtcdWardenDown (for: 5m) become
  // pending, well before the test's time is up, each only for its own target:
  // a stopped warden is not an etcd member down, and a warden whose member is
  // down is still up itself.
  const std::size_t stopped = 2, stopped_warden_of = 1;
  cluster.stop_member(stopped);
  wardens[stopped_warden_of]->stop();
  const std::string stopped_etcd = host_port(cluster.member(stopped).metrics_port);
  const std::string warden_without_etcd = host_port(warden_ports[stopped]);
  const std::string stopped_warden = host_port(warden_ports[stopped_warden_of]);
  auto outages_pending = [&] {
    return alerts_now() && alert_state(alerts, "EtcdMemberDown", stopped_etcd) == "pending" &&
           alert_state(alerts, "EtcdWardenEtcdUnreachable", warden_without_etcd) == "pending" &&
           alert_state(alerts, "EtcdWardenDown", stopped_warden) == "pending";
  };
  {
    const bool pending = wait_until(outages_pending, budget.at_most(20s), 200ms);
    INFO("alerts: " << alerts.dump());
    REQUIRE(pending);
  }
  CHECK(alert_state(alerts, "EtcdWardenDown", warden_without_etcd).empty());
  CHECK(alert_state(alerts, "EtcdMemberDown", stopped_warden).empty());
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    if (i == stopped) continue;
    INFO("member " << cluster.member(i).name);
    CHECK(alert_state(alerts, "EtcdMemberDown", host_port(cluster.member(i).metrics_port)).empty());
    CHECK(alert_state(alerts, "EtcdNoLeader", host_port(cluster.member(i).metrics_port)).empty());
  }
}
