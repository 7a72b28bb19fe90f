// The certificates job against real files and a real etcd: certificates made
// with the openssl CLI for 5, 20 and 400 days, named by the warden's etcd.tls
// and by a kubeadm static pod manifest (etcd down), or by a running TLS
// etcd's own command line; the metric per file and role, the STATUS= line,
// `job status` and `job certificates`.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/etcd_cluster.hpp"
#include "support/ports.hpp"
#include "support/temp_dir.hpp"
#include "support/tls.hpp"
#include "support/wait.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

fs::path make_cert(const TempDir& dir, const std::string& name, int days) {
  const fs::path cert = dir / (name + ".crt");
  make_self_signed_ca(cert, dir / (name + ".key"), name, days);
  return cert;
}

std::string quoted(const fs::path& p) {
  return "\"" + p.string() + "\"";
}

// The value of a whole metric line `name{labels} value`, or -1.
double metric_value(const std::string& metrics, const std::string& series) {
  const auto at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(metrics.c_str() + at + 1 + series.size() + 1, nullptr);
}

double days_from_now(double unix_seconds) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return (unix_seconds - now) / 86400;
}

// A warden whose etcd is down (a closed https port, a data dir no etcd
// uses), so discovery reads the kubeadm manifest.
std::string offline_config(const TempDir& dir, const fs::path& manifest, const fs::path& ca,
                           const fs::path& client) {
  return "etcd:\n  endpoints: [\"https://127.0.0.1:" + std::to_string(free_port()) +
         "\"]\n  data_dir: " + quoted(dir / "no-etcd-here") +
         "\n  dial_timeout: 1s\n  request_timeout: 1s\n  tls:\n    ca: " + quoted(ca) +
         "\n    cert: " + quoted(client) +
         "\n    key: " + quoted(client.parent_path() / "client.key") +
         "\nstatus: {every: 1s}\nsnapshot: {enabled: false}\ncompaction: {enabled: false}\n"
         "defrag: {enabled: false}\nalarms: {enabled: false}\n"
         "tuning: {enabled: false, systemd_bus: \"unix:path=" +
         (dir / "no-bus").string() + "\", env_files: [], kubeadm_manifest: " + quoted(manifest) +
         "}\ncertificates: {every: 1h, jitter: 0s}\n";
}

}  // namespace

TEST_CASE("certificates: 5, 20 and 400 days from etcd.tls and a kubeadm manifest, etcd down",
          "[certificates]") {
  TempDir dir("etcd-warden-certs");
  const fs::path server = make_cert(dir, "server", 5);
  const fs::path peer = make_cert(dir, "peer", 20);
  const fs::path ca = make_cert(dir, "ca", 400);
  const fs::path client = make_cert(dir, "client", 400);
  const fs::path manifest = dir / "etcd.yaml";
  write_file(manifest,
             "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: etcd\n    command:\n"
             "    - etcd\n    - --cert-file=" +
                 server.string() + "\n    - --peer-cert-file=" + peer.string() +
                 "\n    - --trusted-ca-file=" + ca.string() +
                 "\n    - --peer-trusted-ca-file=" + ca.string() + "\n");

  const std::string yaml = offline_config(dir, manifest, ca, client);
  MetricsWarden warden(yaml);
  const std::string name = "etcd_warden_certificate_expiry_timestamp_seconds";
  const auto series = [&](const fs::path& path, const std::string& role) {
    return name + "{path=\"" + path.string() + "\",role=\"" + role + "\"}";
  };
  // The gauges are set during the run, its counter once the run is over.
  const std::string counted =
      "etcd_warden_job_runs_total{job=\"certificates\",result=\"success\"} 1";
  std::string metrics;
  const bool published = wait_until(
      [&] {
        metrics = warden.metrics();
        return metric_value(metrics, series(server, "etcd-server")) > 0 &&
               metrics.find(counted) != std::string::npos;
      },
      20s);
  INFO(metrics << "\n" << warden.process->log());
  REQUIRE(published);
  CHECK(days_from_now(metric_value(metrics, series(server, "etcd-server"))) ==
        Approx(5).margin(0.05));
  CHECK(days_from_now(metric_value(metrics, series(peer, "etcd-peer"))) == Approx(20).margin(0.05));
  for (const char* role : {"etcd-client-ca", "etcd-peer-ca", "warden-ca"}) {
    INFO(role);
    CHECK(days_from_now(metric_value(metrics, series(ca, role))) == Approx(400).margin(0.05));
  }
  CHECK(days_from_now(metric_value(metrics, series(client, "warden-client"))) ==
        Approx(400).margin(0.05));

  // The most urgent one in STATUS=, with how many more need a look.
  CHECK_EVENTUALLY(
      warden.status_contains("CERT etcd-server expires in 4d: " + server.string() + " (+1 more)"),
      10s);

  // `job status` lists them, each with where it was found.
  const auto config = dir / "config.yaml";
  write_file(config, yaml);
  const auto status = run_cli({"job", "status", "-c", config.string()}, 30s);
  INFO(status.output);
  CHECK(status.exit_code != 0);  // etcd is down
  CHECK_THAT(status.output, Catch::Contains("etcd-server     " + server.string()));
  CHECK_THAT(status.output, Catch::Contains("expires in 4d  CN=server, from " + manifest.string() +
                                            " (--cert-file=" + server.string() + ")"));
  CHECK_THAT(status.output, Catch::Contains("expires in 19d  CN=peer"));
  CHECK_THAT(
      status.output,
      Catch::Contains("expires in 399d  CN=client, from etcd.tls.cert in the warden's config"));
}

TEST_CASE("certificates: a missing file fails the job naming it, the others still count",
          "[certificates]") {
  TempDir dir("etcd-warden-certs");
  const fs::path ca = make_cert(dir, "ca", 400);
  const fs::path client = make_cert(dir, "client", 400);
  const fs::path manifest = dir / "etcd.yaml";
  const fs::path missing = dir / "gone" / "server.crt";
  write_file(manifest, "spec:\n  containers:\n  - name: etcd\n    command: [etcd, --cert-file=" +
                           missing.string() + "]\n");
  const auto config = dir / "config.yaml";
  write_file(config, offline_config(dir, manifest, ca, client));
  const auto r = run_cli({"job", "certificates", "-c", config.string()}, 30s);
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("certificates: failure (cannot read " + missing.string() +
                                       ": No such file or directory)"));
  CHECK_THAT(r.output, Catch::Contains("UNREADABLE: " + missing.string()));
  CHECK_THAT(r.output, Catch::Contains("warden-ca       " + ca.string()));
}

TEST_CASE("certificates: a running TLS etcd's --cert-file and --trusted-ca-file, from /proc",
          "[certificates][tls]") {
  EtcdCluster cluster({.members = 1, .tls = true});
  TempDir dir("etcd-warden-certs");
  const auto config = dir / "config.yaml";
  write_file(config, etcd_config_yaml(cluster, 0) +
                         "tuning: {systemd_bus: \"unix:path=" + (dir / "no-bus").string() +
                         "\", env_files: [], kubeadm_manifest: " + quoted(dir / "none.yaml") +
                         "}\n");
  const auto r = run_cli({"job", "certificates", "-c", config.string()}, 30s);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  const auto& tls = cluster.tls_material();
  // The fixture's certificates are valid for two days.
  CHECK_THAT(r.output, Catch::Contains("certificates: success (4 certificate file(s), the first "
                                       "expires in 1d"));
  CHECK_THAT(r.output, Catch::Contains("etcd-server     " + tls.server_cert.string()));
  CHECK_THAT(r.output, Catch::Contains("/cmdline (--cert-file=" + tls.server_cert.string() + ")"));
  CHECK_THAT(r.output,
             Catch::Contains("/cmdline (--trusted-ca-file=" + tls.ca_cert.string() + ")"));
  CHECK_THAT(r.output, Catch::Contains("warden-client   " + tls.client_cert.string()));
}
