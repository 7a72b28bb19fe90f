// discover() against a fake /proc in a temporary directory: how this
// member's etcd is found, the order of sources, etcd's --config-file rule,
// the cross-check between the running process and the files that would
// start it, and unreadable or malformed sources (skipped with a note).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "etcd_warden/tuning/discovery.hpp"
#include "support/temp_dir.hpp"

using namespace etcd_warden;
using namespace etcd_warden::tuning;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Strings = std::vector<std::string>;
namespace fs = std::filesystem;

namespace {

// A temp dir that writes files at relative paths.
class ScratchDir : public etcd_warden::testing::TempDir {
 public:
  ScratchDir() : TempDir("discovery-test") {}
  fs::path write(const fs::path& rel, const std::string& text) const {
    etcd_warden::testing::write_file(path() / rel, text);
    return path() / rel;
  }
};

std::string nul_joined(const Strings& items) {
  std::string out;
  for (const auto& i : items) out += i + '\0';
  return out;
}

// A fake /proc: one directory per process with comm, cmdline, environ and
// a cwd symlink, as the kernel shows them.
class FakeProc {
 public:
  explicit FakeProc(const ScratchDir& dir) : dir_(dir) {}
  fs::path root() const { return dir_.path() / "proc"; }

  fs::path add(int pid, const std::string& comm, const Strings& argv, const Strings& environ = {},
               const fs::path& cwd = "/") const {
    const fs::path rel = fs::path("proc") / std::to_string(pid);
    dir_.write(rel / "comm", comm + "\n");
    dir_.write(rel / "cmdline", nul_joined(argv));
    dir_.write(rel / "environ", nul_joined(environ));
    fs::create_directory_symlink(cwd, dir_.path() / rel / "cwd");
    return dir_.path() / rel;
  }

 private:
  const ScratchDir& dir_;
};

// A config that looks nowhere real: no system bus, no manifest, no files.
config::Config isolated_config(const ScratchDir& dir) {
  config::Config c;
  c.etcd.endpoints = {"https://127.0.0.1:2379"};
  c.etcd.data_dir = "/var/lib/etcd";
  c.tuning.systemd_bus = "unix:path=" + (dir.path() / "no-bus.socket").string();
  c.tuning.kubeadm_manifest = dir.path() / "no-manifest.yaml";
  c.tuning.env_files = {};
  return c;
}

bool has_note(const Discovered& d, const std::string& text) {
  return std::any_of(d.notes.begin(), d.notes.end(),
                     [&](const std::string& n) { return n.find(text) != std::string::npos; });
}

std::string all_notes(const Discovered& d) {
  std::string out;
  for (const auto& n : d.notes) out += n + "\n";
  return out;
}

}  // namespace

TEST_CASE("discover reads the member's etcd process, flags over environment",
          "[tuning][discovery]") {
  ScratchDir dir;
  FakeProc proc(dir);
  proc.add(1, "systemd", {"/sbin/init"});
  proc.add(77, "bash", {"bash", "-c", "etcd --heartbeat-interval=1"});
  const auto p =
      proc.add(4242, "etcd",
               {"/usr/local/bin/etcd", "--name", "m1", "--data-dir=/var/lib/etcd/",
                "--heartbeat-interval=250"},
               {"HOME=/root", "ETCD_HEARTBEAT_INTERVAL=999", "ETCD_ELECTION_TIMEOUT=2500"});
  const Discovered d = discover(isolated_config(dir), proc.root());
  INFO(all_notes(d));
  CHECK(d.pid == 4242);
  CHECK(d.heartbeat == Found{250ms, (p / "cmdline").string() + " (--heartbeat-interval=250)"});
  CHECK(d.election == Found{2500ms, (p / "environ").string() + " (ETCD_ELECTION_TIMEOUT=2500)"});
  CHECK(has_note(d, "cannot connect to bus unix:path="));
}

TEST_CASE("discover says when the running etcd sets nothing", "[tuning][discovery]") {
  ScratchDir dir;
  FakeProc proc(dir);
  // Found by its client port: the data dir is relative and its cwd elsewhere.
  proc.add(31, "etcd", {"etcd", "--data-dir=m1.etcd", "--listen-client-urls=http://0.0.0.0:2379"},
           {"PATH=/usr/bin"}, "/srv");
  const Discovered d = discover(isolated_config(dir), proc.root());
  INFO(all_notes(d));
  CHECK(d.pid == 31);
  CHECK(d.heartbeat == Found{100ms, "etcd default (the running etcd, pid 31, sets none)"});
  CHECK(d.election == Found{1000ms, "etcd default (the running etcd, pid 31, sets none)"});
}

TEST_CASE("discover finds the member among several etcd processes", "[tuning][discovery]") {
  ScratchDir dir;
  FakeProc proc(dir);
  proc.add(10, "etcd",
           {"etcd", "--data-dir=/var/lib/other", "--listen-client-urls=http://127.0.0.1:3379",
            "--heartbeat-interval=10"});
  // A relative data dir, resolved through the process's cwd link.
  proc.add(20, "etcd", {"etcd", "--data-dir", "etcd", "--heartbeat-interval=20"}, {}, "/var/lib");
  // Renamed binary, still etcd by argv[0].
  proc.add(30, "etcd-3.5",
           {"/opt/etcd/bin/etcd", "--data-dir=/var/lib/third", "--heartbeat-interval=30",
            "--listen-client-urls=http://127.0.0.1:4379"});

  auto config = isolated_config(dir);
  Discovered d = discover(config, proc.root());
  CHECK(d.pid == 20);
  CHECK(d.heartbeat.value == 20ms);

  config.etcd.data_dir = "/var/lib/nowhere";
  config.etcd.endpoints = {"http://127.0.0.1:4379"};
  d = discover(config, proc.root());
  CHECK(d.pid == 30);
  CHECK(d.heartbeat.value == 30ms);

  config.etcd.endpoints = {"http://127.0.0.1:5379"};
  d = discover(config, proc.root());
  INFO(all_notes(d));
  CHECK_FALSE(d.pid);
  CHECK(d.heartbeat == Found{100ms, "etcd default"});
  CHECK(has_note(d, "3 etcd processes, none with data dir /var/lib/nowhere or client port 5379"));
}

TEST_CASE("discover takes the only etcd process only when nothing rules it out",
          "[tuning][discovery]") {
  ScratchDir dir;
  FakeProc proc(dir);
  auto config = isolated_config(dir);
  config.etcd.data_dir = "/data/etcd";

  SECTION("another member's etcd is not ours") {
    proc.add(5, "etcd",
             {"etcd", "--data-dir=/var/lib/etcd-b", "--listen-client-urls=http://127.0.0.1:12379",
              "--heartbeat-interval=77"});
    const Discovered d = discover(config, proc.root());
    CHECK_FALSE(d.pid);
    CHECK(d.heartbeat.value == 100ms);
    CHECK(has_note(d, "the only etcd process, pid 5, is not this member's"));
  }
  SECTION("an etcd whose data dir and port cannot be told is taken, with a note") {
    // Its --config-file is gone, so where it keeps its data is unknown.
    proc.add(6, "etcd", {"etcd", "--config-file=/nonexistent/etcd.yml", "--heartbeat-interval=77"});
    const Discovered d = discover(config, proc.root());
    INFO(all_notes(d));
    CHECK(d.pid == 6);
    CHECK(has_note(d, "using the only one, pid 6"));
    CHECK(has_note(d, "cannot read etcd's config file /nonexistent/etcd.yml (--config-file in "));
    // Flags are ignored with a config file, and the file could not be read.
    CHECK(d.heartbeat == Found{100ms, "etcd default"});
  }
  SECTION("no etcd at all") {
    proc.add(1, "init", {"/sbin/init"});
    const Discovered d = discover(config, proc.root());
    CHECK_FALSE(d.pid);
    CHECK(has_note(d, "no etcd process found in " + proc.root().string()));
  }
}

TEST_CASE("discover follows etcd's --config-file rule", "[tuning][discovery]") {
  ScratchDir dir;
  FakeProc proc(dir);
  const auto file = dir.write("etc/etcd.yml", "data-dir: /var/lib/etcd\nheartbeat-interval: 300\n");

  SECTION("the flag: other flags and ETCD_ variables are ignored") {
    proc.add(50, "etcd", {"etcd", "--config-file", file.string(), "--heartbeat-interval=999"},
             {"ETCD_ELECTION_TIMEOUT=9999"});
    const Discovered d = discover(isolated_config(dir), proc.root());
    INFO(all_notes(d));
    CHECK(d.pid == 50);
    CHECK(d.heartbeat ==
          Found{300ms, file.string() + " (heartbeat-interval: 300, --config-file in " +
                           (proc.root() / "50" / "cmdline").string() + ")"});
    CHECK(d.election == Found{1000ms, "etcd default (the running etcd, pid 50, reads " +
                                          file.string() + ", which sets none)"});
  }
  SECTION("ETCD_CONFIG_FILE, relative to the process's working directory") {
    proc.add(51, "etcd", {"etcd", "--election-timeout=9999"}, {"ETCD_CONFIG_FILE=etc/etcd.yml"},
             dir.path());
    const Discovered d = discover(isolated_config(dir), proc.root());
    INFO(all_notes(d));
    CHECK(d.pid == 51);  // by the data dir in the file
    CHECK(d.heartbeat.value == 300ms);
    CHECK_THAT(d.heartbeat.source, Contains("ETCD_CONFIG_FILE in "));
    CHECK(d.election.value == 1000ms);
  }
}

TEST_CASE("discover cross-checks the running etcd against the files that start it",
          "[tuning][discovery]") {
  ScratchDir dir;
  FakeProc proc(dir);
  const auto env_file = dir.write("default/etcd",
                                  "ETCD_HEARTBEAT_INTERVAL=250\nETCD_ELECTION_TIMEOUT=5000\n"
                                  "ETCD_PEER_KEY_FILE=/etc/etcd/secret-peer.key\n");
  proc.add(4242, "etcd", {"etcd", "--data-dir=/var/lib/etcd"}, {"ETCD_HEARTBEAT_INTERVAL=250"});
  auto config = isolated_config(dir);
  config.tuning.env_files = {env_file};
  const Discovered d = discover(config, proc.root());
  INFO(all_notes(d));
  CHECK(d.heartbeat ==
        Found{250ms, env_file.string() +
                         " (ETCD_HEARTBEAT_INTERVAL=250; the running etcd, pid 4242, uses it)"});
  CHECK(d.election == Found{1000ms, "etcd default (the running etcd, pid 4242, sets none)"});
  CHECK(has_note(d, env_file.string() +
                        " (ETCD_ELECTION_TIMEOUT=5000) sets election-timeout 5000ms but the "
                        "running etcd, pid 4242, uses 1000ms: restart pending?"));
  CHECK_FALSE(has_note(d, "secret-peer"));
}

TEST_CASE("discover without a process: manifest, then env files in order, then defaults",
          "[tuning][discovery]") {
  ScratchDir dir;
  FakeProc proc(dir);
  proc.add(1, "init", {"/sbin/init"});
  auto config = isolated_config(dir);
  const auto first = dir.write("first.env", "ETCD_NAME=x\n");
  const auto second = dir.write("second.env", "export ETCD_HEARTBEAT_INTERVAL=\"400\"\n");
  const auto third =
      dir.write("third.env", "ETCD_HEARTBEAT_INTERVAL=500\nETCD_ELECTION_TIMEOUT=4000\n");
  config.tuning.env_files = {dir.path() / "missing.env", first, second, third};

  Discovered d = discover(config, proc.root());
  INFO(all_notes(d));
  CHECK(d.heartbeat == Found{400ms, second.string() + " (ETCD_HEARTBEAT_INTERVAL=400)"});
  CHECK(d.election == Found{4000ms, third.string() + " (ETCD_ELECTION_TIMEOUT=4000)"});
  CHECK(has_note(d, (dir.path() / "missing.env").string() + " (tuning.env_files) does not exist"));

  config.tuning.kubeadm_manifest = dir.write(
      "etcd.yaml",
      "spec:\n  containers:\n  - name: etcd\n    command: [etcd, --election-timeout=3000]\n");
  d = discover(config, proc.root());
  CHECK(d.election ==
        Found{3000ms, config.tuning.kubeadm_manifest.string() + " (--election-timeout=3000)"});
  CHECK(d.heartbeat.value == 400ms);

  config.tuning.env_files.clear();
  config.tuning.kubeadm_manifest.clear();
  d = discover(config, proc.root());
  CHECK(d.heartbeat == Found{100ms, "etcd default"});
  CHECK(d.election == Found{1000ms, "etcd default"});
}

TEST_CASE("discover lets the warden's own config win", "[tuning][discovery]") {
  ScratchDir dir;
  FakeProc proc(dir);
  proc.add(9, "etcd", {"etcd", "--data-dir=/var/lib/etcd", "--heartbeat-interval=150"});
  auto config = isolated_config(dir);
  config.tuning.heartbeat_interval = 200ms;
  config.tuning.election_timeout = 2000ms;
  const Discovered d = discover(config, proc.root());
  CHECK(d.pid == 9);
  CHECK(d.heartbeat == Found{200ms, "tuning.heartbeat_interval in the warden's config"});
  CHECK(d.election == Found{2000ms, "tuning.election_timeout in the warden's config"});
  CHECK(has_note(d, "tuning.heartbeat_interval is 200ms but the running etcd, pid 9, uses 150ms"));
  CHECK(has_note(d, "tuning.election_timeout is 2000ms but the running etcd, pid 9, uses 1000ms"));
  // Both values given: systemd is not asked.
  CHECK_FALSE(has_note(d, "no-bus.socket"));
}

TEST_CASE("discover skips unreadable and malformed sources with a reason", "[tuning][discovery]") {
  ScratchDir dir;
  FakeProc proc(dir);
  auto config = isolated_config(dir);
  const auto seed = dir.write("seed.env",
                              "ETCD_ELECTION_TIMEOUT=5000 #default 1000ms\n"
                              "ETCD_HEARTBEAT_INTERVAL=250 #default 100ms\n");
  const auto garbage =
      dir.write("garbage.env", "ETCD_HEARTBEAT_INTERVAL=fast\nhunter2 no equals\n");
  const auto good = dir.write("good.env", "ETCD_HEARTBEAT_INTERVAL=300\n");
  fs::create_directory(dir.path() / "a-directory.env");
  config.tuning.env_files = {seed, garbage, dir.path() / "a-directory.env", good};
  config.tuning.kubeadm_manifest = dir.write("etcd.yaml", "spec: {containers: [{name: etcd");
  proc.add(1, "init", {"/sbin/init"});

  const Discovered d = discover(config, proc.root());
  INFO(all_notes(d));
  CHECK(d.heartbeat == Found{300ms, good.string() + " (ETCD_HEARTBEAT_INTERVAL=300)"});
  CHECK(d.election == Found{1000ms, "etcd default"});
  CHECK(has_note(
      d, seed.string() +
             ": ETCD_ELECTION_TIMEOUT='5000 #default 1000ms': not a number of milliseconds"));
  CHECK(has_note(
      d, garbage.string() + ": ETCD_HEARTBEAT_INTERVAL='fast': not a number of milliseconds"));
  CHECK(has_note(d, garbage.string() + ": line 2: not a KEY=VALUE assignment"));
  CHECK(has_note(d, "cannot read " + (dir.path() / "a-directory.env").string() +
                        " (tuning.env_files): a directory, not a regular file"));
  CHECK(has_note(d, config.tuning.kubeadm_manifest.string() + ": not valid YAML"));
  CHECK_FALSE(has_note(d, "hunter2"));
}

TEST_CASE("discover falls back to the files when the process's environment is unreadable",
          "[tuning][discovery]") {
  ScratchDir dir;
  FakeProc proc(dir);
  const auto p =
      proc.add(70, "etcd", {"etcd", "--data-dir=/var/lib/etcd", "--election-timeout=2000"},
               {"ETCD_HEARTBEAT_INTERVAL=100"});
  REQUIRE(::chmod((p / "environ").c_str(), 0) == 0);
  std::string reason = "Permission denied";
  if (::access((p / "environ").c_str(), R_OK) == 0) {
    // Root reads a mode 000 file. A directory in its place fails to read
    // for everyone and takes the same path through discovery.
    WARN("running as root: mode 000 does not stop reads; testing with an unreadable directory");
    fs::remove(p / "environ");
    fs::create_directory(p / "environ");
    reason = "a directory, not a regular file";
  }
  auto config = isolated_config(dir);
  const auto env_file = dir.write("etcd.env", "ETCD_HEARTBEAT_INTERVAL=250\n");
  config.tuning.env_files = {env_file};
  const Discovered d = discover(config, proc.root());
  INFO(all_notes(d));
  CHECK(d.pid == 70);
  CHECK(has_note(d, "cannot read " + (p / "environ").string() + " (" + reason + ")"));
  CHECK(d.heartbeat == Found{250ms, env_file.string() + " (ETCD_HEARTBEAT_INTERVAL=250)"});
  CHECK(d.election == Found{2000ms, (p / "cmdline").string() + " (--election-timeout=2000)"});
}

TEST_CASE("discover_certificates: etcd's TLS files from the process, flags over environment",
          "[tuning][discovery][certs]") {
  ScratchDir dir;
  FakeProc proc(dir);
  const auto pid_dir = proc.add(
      812, "etcd",
      {"/usr/bin/etcd", "--data-dir=/var/lib/etcd", "--cert-file=/pki/server.crt",
       "--peer-cert-file", "peer.crt"},
      {"ETCD_CERT_FILE=/env/ignored.crt", "ETCD_TRUSTED_CA_FILE=/pki/ca.crt"}, "/pki/etcd");
  const auto found = discover_certificates(isolated_config(dir), proc.root());
  const std::string cmdline = (pid_dir / "cmdline").string();
  const std::string environ = (pid_dir / "environ").string();
  REQUIRE(found.certs.size() == 3);
  CHECK(found.certs[0] ==
        FoundCert{EtcdCert::cert, "/pki/server.crt", cmdline + " (--cert-file=/pki/server.crt)"});
  // Relative to the process's working directory, as etcd opens it.
  CHECK(found.certs[1] == FoundCert{EtcdCert::peer_cert, "/pki/etcd/peer.crt",
                                    cmdline + " (--peer-cert-file=peer.crt)"});
  CHECK(found.certs[2].which == EtcdCert::trusted_ca);
  CHECK(found.certs[2].path == "/pki/ca.crt");
  CHECK_THAT(found.certs[2].source, Contains("ETCD_TRUSTED_CA_FILE=/pki/ca.crt"));
}

TEST_CASE("discover_certificates: etcd's config file nests them, a manifest names them",
          "[tuning][discovery][certs]") {
  ScratchDir dir;
  FakeProc proc(dir);
  const auto file = dir.write("etcd.conf.yml",
                              "data-dir: /var/lib/etcd\n"
                              "client-transport-security:\n  cert-file: /pki/server.crt\n"
                              "  trusted-ca-file: /pki/ca.crt\n"
                              "peer-transport-security:\n  cert-file: /pki/peer.crt\n"
                              "  trusted-ca-file: /pki/peer-ca.crt\n");
  proc.add(900, "etcd", {"etcd", "--config-file", file.string()});
  auto found = discover_certificates(isolated_config(dir), proc.root());
  REQUIRE(found.certs.size() == 4);
  CHECK(found.certs[0].path == "/pki/server.crt");
  CHECK(found.certs[0].source == file.string() + " (cert-file: /pki/server.crt, --config-file in " +
                                     (proc.root() / "900" / "cmdline").string() + ")");
  CHECK(found.certs[1] == FoundCert{EtcdCert::peer_cert, "/pki/peer.crt", found.certs[1].source});
  CHECK(found.certs[2].path == "/pki/ca.crt");
  CHECK(found.certs[3].path == "/pki/peer-ca.crt");

  // No process: the kubeadm manifest.
  ScratchDir other;
  auto config = isolated_config(other);
  config.tuning.kubeadm_manifest =
      other.write("etcd.yaml",
                  "spec:\n  containers:\n  - name: etcd\n    command: [etcd, "
                  "--cert-file=/etc/kubernetes/pki/etcd/server.crt]\n");
  found = discover_certificates(config, other.path() / "proc");
  REQUIRE(found.certs.size() == 1);
  CHECK(found.certs[0].source == config.tuning.kubeadm_manifest.string() +
                                     " (--cert-file=/etc/kubernetes/pki/etcd/server.crt)");

  // A config file that gets the shape wrong says so.
  const auto bad = from_etcd_config_file("client-transport-security: /pki/server.crt\n");
  REQUIRE(bad.problems.size() == 1);
  CHECK(bad.problems[0] == "client-transport-security: expected a mapping");
}
