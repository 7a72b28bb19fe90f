#include "support/warden.hpp"

#include <signal.h>

#include "support/etcd_cluster.hpp"
#include "support/http_get.hpp"
#include "support/ports.hpp"

#ifndef ETCD_WARDEN_BINARY
#error "ETCD_WARDEN_BINARY must name the built etcd-warden binary"
#endif

namespace etcd_warden::testing {

namespace {

// The supervisor's variables of the test run itself must not leak into the daemon.
const std::vector<std::string> kSystemdVars = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                                               "LISTEN_*",      "INVOCATION_ID", "JOURNAL_STREAM"};

// YAML double-quoted scalar.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

std::filesystem::path warden_binary() {
  return ETCD_WARDEN_BINARY;
}

WardenProcess::WardenProcess(std::string config_yaml)
    : WardenProcess(WardenOptions{.config_yaml = std::move(config_yaml)}) {}

WardenProcess::WardenProcess(WardenOptions options) : config_path_(dir_ / "config.yaml") {
  write_config(options.config_yaml);
  ProcessOptions po;
  po.argv = {options.binary.string(), "run", "-c", config_path_.string()};
  po.argv.insert(po.argv.end(), options.extra_args.begin(), options.extra_args.end());
  po.unset_env = kSystemdVars;
  po.env = {{"NOTIFY_SOCKET", listener_.path().string()}};
  if (options.watchdog)
    po.env.emplace_back("WATCHDOG_USEC", std::to_string(options.watchdog->count()));
  po.env.insert(po.env.end(), options.env.begin(), options.env.end());
  po.cwd = dir_.path();
  po.log_path = dir_ / "warden.log";
  process_.emplace(std::move(po));
}

bool WardenProcess::wait_ready(std::chrono::milliseconds deadline) const {
  return listener_.wait_for("READY=1", deadline);
}

void WardenProcess::write_config(const std::string& yaml) const {
  write_file(config_path_, yaml);
}

std::optional<int> WardenProcess::stop(std::chrono::milliseconds deadline) {
  process_->signal(SIGTERM);
  return process_->wait_exit(deadline);
}

MetricsWarden::MetricsWarden(const std::string& config_yaml,
                             std::optional<std::chrono::microseconds> watchdog)
    : metrics_port(free_port()) {
  WardenOptions options;
  options.config_yaml =
      config_yaml + "metrics:\n  listen: \"127.0.0.1:" + std::to_string(metrics_port) + "\"\n";
  options.watchdog = watchdog;
  process = std::make_unique<WardenProcess>(std::move(options));
}

std::string MetricsWarden::metrics() const {
  return http_get("127.0.0.1", metrics_port, "/metrics", std::chrono::seconds(2)).value_or("");
}

bool MetricsWarden::has(const std::string& text) const {
  return metrics().find(text) != std::string::npos;
}

bool MetricsWarden::metric_is(const std::string& line) const {
  const std::string body = metrics();
  return body.find("\n" + line + "\n") != std::string::npos || body.starts_with(line + "\n");
}

bool MetricsWarden::status_contains(const std::string& text) const {
  const auto status = process->listener().last_status();
  return status && status->find(text) != std::string::npos;
}

CommandResult run_cli(std::vector<std::string> args, std::chrono::milliseconds timeout,
                      EnvVars env) {
  args.insert(args.begin(), warden_binary().string());
  CommandOptions o;
  o.env = std::move(env);
  o.unset_env = kSystemdVars;
  o.timeout = timeout;
  return run_command(std::move(args), std::move(o));
}

std::string etcd_config_yaml(const EtcdCluster& cluster, std::size_t member_index) {
  const EtcdMember& self = cluster.member(member_index);
  std::string endpoints = quote(self.client_url);
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    if (i != member_index) endpoints += ", " + quote(cluster.member(i).client_url);
  }
  std::string out = "etcd:\n  endpoints: [" + endpoints + "]\n";
  if (cluster.tls()) {
    const TlsMaterial& t = cluster.tls_material();
    out += "  tls: {ca: " + quote(t.ca_cert.string()) + ", cert: " + quote(t.client_cert.string()) +
           ", key: " + quote(t.client_key.string()) + "}\n";
  }
  out += "  metrics_url: " + quote(self.metrics_url + "/metrics") + "\n";
  out += "  data_dir: " + quote(self.data_dir.string()) + "\n";
  return out;
}

}  // namespace etcd_warden::testing
