// The pure parsers of tuning discovery on realistic inputs: the seeds' etcd
// unit and env file, a kubeadm manifest, etcd's config file, and bad input
// of every kind (never a crash, never a secret in a problem line).
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "etcd_warden/systemd/unit_startup.hpp"
#include "etcd_warden/tuning/discovery.hpp"

using namespace etcd_warden::tuning;
using etcd_warden::systemd::expand_exec_argv;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Strings = std::vector<std::string>;

namespace {

// /etc/systemd/system/etcd.service from seed 002 (Kubernetes the hard way),
// as systemd hands it over: continuation lines joined, split at whitespace.
const Strings kSeedExecStart = {
    "/usr/local/bin/etcd",
    "--name",
    "k8smaster0",
    "--cert-file=/etc/etcd/kubernetes.pem",
    "--key-file=/etc/etcd/kubernetes-key.pem",
    "--peer-cert-file=/etc/etcd/kubernetes.pem",
    "--peer-key-file=/etc/etcd/kubernetes-key.pem",
    "--trusted-ca-file=/etc/etcd/ca.pem",
    "--peer-trusted-ca-file=/etc/etcd/ca.pem",
    "--peer-client-cert-auth",
    "--client-cert-auth",
    "--initial-advertise-peer-urls",
    "https://192.168.199.200:2380",
    "--listen-peer-urls",
    "https://192.168.199.200:2380",
    "--listen-client-urls",
    "https://192.168.199.200:2379,https://127.0.0.1:2379",
    "--advertise-client-urls",
    "https://192.168.199.200:2379",
    "--initial-cluster-token",
    "etcd-cluster-0",
    "--initial-cluster",
    "k8smaster0=https://192.168.199.200:2380,k8smaster1=https://192.168.199.201:2380,"
    "k8smaster2=https://192.168.199.202:2380",
    "--initial-cluster-state",
    "new",
    "--data-dir=/var/lib/etcd",
};

Strings with(Strings argv, const Strings& more) {
  argv.insert(argv.end(), more.begin(), more.end());
  return argv;
}

bool any_contains(const Strings& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

// /etc/kubernetes/manifests/etcd.yaml as kubeadm 1.28 writes it, with the
// tuning flags an operator adds.
const char* kKubeadmManifest = R"(apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/etcd.advertise-client-urls: https://10.0.0.11:2379
  creationTimestamp: null
  labels:
    component: etcd
    tier: control-plane
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://10.0.0.11:2379
    - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    - --client-cert-auth=true
    - --data-dir=/var/lib/etcd
    - --experimental-initial-corrupt-check=true
    - --experimental-watch-progress-notify-interval=5s
    - --initial-advertise-peer-urls=https://10.0.0.11:2380
    - --initial-cluster=cp1=https://10.0.0.11:2380
    - --key-file=/etc/kubernetes/pki/etcd/server.key
    - --listen-client-urls=https://127.0.0.1:2379,https://10.0.0.11:2379
    - --listen-metrics-urls=http://127.0.0.1:2381
    - --listen-peer-urls=https://10.0.0.11:2380
    - --name=cp1
    - --peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt
    - --peer-client-cert-auth=true
    - --peer-key-file=/etc/kubernetes/pki/etcd/peer.key
    - --peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    - --snapshot-count=10000
    - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    - --heartbeat-interval=250
    - --election-timeout=2500
    image: registry.k8s.io/etcd:3.5.9-0
    imagePullPolicy: IfNotPresent
    livenessProbe:
      failureThreshold: 8
      httpGet:
        host: 127.0.0.1
        path: /health?exclude=NOSPACE&serializable=true
        port: 2381
        scheme: HTTP
    name: etcd
    resources:
      requests:
        cpu: 100m
        memory: 100Mi
    volumeMounts:
    - mountPath: /var/lib/etcd
      name: etcd-data
    - mountPath: /etc/kubernetes/pki/etcd
      name: etcd-certs
  hostNetwork: true
  priorityClassName: system-node-critical
  volumes:
  - hostPath:
      path: /etc/kubernetes/pki/etcd
      type: DirectoryOrCreate
    name: etcd-certs
  - hostPath:
      path: /var/lib/etcd
      type: DirectoryOrCreate
    name: etcd-data
status: {}
)";

// etcd's sample etcd.conf.yml, trimmed, with tuned values.
const char* kEtcdConfigFile = R"(# This is the configuration file for the etcd server.
name: 'default'
data-dir: /var/lib/etcd/default.etcd
wal-dir:
snapshot-count: 10000
heartbeat-interval: 250
election-timeout: 2500
quota-backend-bytes: 0
listen-peer-urls: http://localhost:2380
listen-client-urls: http://localhost:2379,https://10.0.0.1:2379
max-snapshots: 5
client-transport-security:
  cert-file:
  key-file:
  client-cert-auth: false
)";

}  // namespace

TEST_CASE("from_arguments reads the seed's etcd unit, which tunes nothing", "[tuning][discovery]") {
  const SourceValues v = from_arguments(kSeedExecStart);
  CHECK_FALSE(v.heartbeat);
  CHECK_FALSE(v.election);
  CHECK_FALSE(v.config_file);
  REQUIRE(v.data_dir);
  CHECK(*v.data_dir == "/var/lib/etcd");
  CHECK(v.client_urls == Strings{"https://192.168.199.200:2379", "https://127.0.0.1:2379"});
  CHECK(v.problems.empty());
}

TEST_CASE("from_arguments takes every spelling Go's flag package takes", "[tuning][discovery]") {
  SECTION("separate value, after boolean flags") {
    const auto v = from_arguments(
        with(kSeedExecStart, {"--heartbeat-interval", "250", "--election-timeout=2500"}));
    CHECK(v.heartbeat == 250ms);
    CHECK(v.election == 2500ms);
  }
  SECTION("single dash") {
    const auto v = from_arguments({"etcd", "-heartbeat-interval=300", "-election-timeout", "3000"});
    CHECK(v.heartbeat == 300ms);
    CHECK(v.election == 3000ms);
  }
  SECTION("the last of a repeated flag wins") {
    const auto v = from_arguments({"etcd", "--heartbeat-interval=100", "--heartbeat-interval=200"});
    CHECK(v.heartbeat == 200ms);
  }
  SECTION("a value that looks like a flag still belongs to a flag we read") {
    const auto v = from_arguments({"etcd", "--data-dir", "-weird", "--election-timeout=900"});
    CHECK(v.data_dir == std::filesystem::path("-weird"));
    CHECK(v.election == 900ms);
  }
  SECTION("argv[0] and everything after -- are not flags") {
    const auto v = from_arguments({"--heartbeat-interval=1", "--", "--election-timeout=5"});
    CHECK_FALSE(v.heartbeat);
    CHECK_FALSE(v.election);
  }
  SECTION("config file") {
    const auto v = from_arguments({"etcd", "--config-file", "/etc/etcd/etcd.conf.yml"});
    CHECK(v.config_file == std::filesystem::path("/etc/etcd/etcd.conf.yml"));
  }
}

TEST_CASE("from_arguments reports unusable values and keeps going", "[tuning][discovery]") {
  const auto v = from_arguments({"etcd", "--heartbeat-interval=fast", "--election-timeout=0",
                                 "--data-dir=/d", "--heartbeat-interval"});
  CHECK_FALSE(v.heartbeat);
  CHECK_FALSE(v.election);
  CHECK(v.data_dir == std::filesystem::path("/d"));
  REQUIRE(v.problems.size() == 3);
  CHECK_THAT(v.problems[0], Contains("--heartbeat-interval='fast': not a number of milliseconds"));
  CHECK_THAT(v.problems[1], Contains("--election-timeout='0': must be at least 1 millisecond"));
  CHECK_THAT(v.problems[2], Contains("--heartbeat-interval has no value"));

  for (const char* bad : {"-5", "2.5", "250ms", "", "+7", "99999999999999999999999", " 250"}) {
    INFO(bad);
    const auto w = from_arguments({"etcd", std::string("--election-timeout=") + bad});
    CHECK_FALSE(w.election);
    CHECK(w.problems.size() == 1);
  }
}

TEST_CASE("from_environment reads ETCD_ variables as etcd does", "[tuning][discovery]") {
  const auto v = from_environment(
      {"PATH=/usr/bin", "ETCD_PEER_KEY_FILE=/etc/etcd/secret.pem", "ETCD_HEARTBEAT_INTERVAL=250",
       "ETCD_ELECTION_TIMEOUT=", "ETCD_HEARTBEAT_INTERVAL=999", "ETCD_DATA_DIR=/var/lib/etcd",
       "ETCD_LISTEN_CLIENT_URLS=http://127.0.0.1:2379", "ETCD_CONFIG_FILE=/etc/etcd/etcd.yml",
       "not-an-entry"});
  CHECK(v.heartbeat == 250ms);  // the first of two, as Go's os.Getenv
  CHECK_FALSE(v.election);      // empty: etcd ignores it
  CHECK(v.data_dir == std::filesystem::path("/var/lib/etcd"));
  CHECK(v.client_urls == Strings{"http://127.0.0.1:2379"});
  CHECK(v.config_file == std::filesystem::path("/etc/etcd/etcd.yml"));
  CHECK(v.problems.empty());

  const auto bad = from_environment({"ETCD_HEARTBEAT_INTERVAL=fast"});
  REQUIRE(bad.problems.size() == 1);
  CHECK(bad.problems[0] == "ETCD_HEARTBEAT_INTERVAL='fast': not a number of milliseconds");
}

// Seed 000 recommends these lines for /etc/default/etcd. systemd, which
// reads that file for Debian's and most packages' units, has no inline
// comments: etcd gets "5000 #default 1000ms" and refuses to start. So the
// value is kept whole and reported, not silently read as 5000.
TEST_CASE("parse_env_file keeps the seed's inline comments as systemd does",
          "[tuning][discovery]") {
  const char* seed =
      "# etcd tuning\nETCD_ELECTION_TIMEOUT=5000 #default 1000ms\n"
      "ETCD_HEARTBEAT_INTERVAL=250 #default 100ms\n";
  std::vector<std::string> problems;
  const auto entries = parse_env_file(seed, &problems);
  CHECK(problems.empty());
  CHECK(entries == Strings{"ETCD_ELECTION_TIMEOUT=5000 #default 1000ms",
                           "ETCD_HEARTBEAT_INTERVAL=250 #default 100ms"});
  const auto v = from_environment(entries);
  CHECK_FALSE(v.heartbeat);
  CHECK_FALSE(v.election);
  REQUIRE(v.problems.size() == 2);
  CHECK(v.problems[0] ==
        "ETCD_ELECTION_TIMEOUT='5000 #default 1000ms': not a number of milliseconds");
  CHECK_THAT(v.problems[1], Contains("ETCD_HEARTBEAT_INTERVAL='250 #default 100ms'"));
}

TEST_CASE("parse_env_file reads quotes, export and systemd's other forms", "[tuning][discovery]") {
  const char* text =
      "; an ini-style comment\n"
      "\n"
      "   # indented comment\n"
      "ETCD_HEARTBEAT_INTERVAL=\"250\"\n"
      "export ETCD_ELECTION_TIMEOUT='2500'\n"
      "ETCD_NAME = \"node one\"   \n"
      "ETCD_DATA_DIR=/var/lib/etcd\r\n"
      "ETCD_INITIAL_CLUSTER=a=http://10.0.0.1:2380,\\\n"
      "b=http://10.0.0.2:2380\n"
      "QUOTED_SPACE=' x '\n"
      "ESCAPES=\"a\\\"b\\$c\\qd\"\n"
      "ETCD_HEARTBEAT_INTERVAL=300\n"
      "LAST=no newline at the end";
  std::vector<std::string> problems;
  const auto entries = parse_env_file(text, &problems);
  CHECK(problems.empty());
  CHECK(entries == Strings{
                       "ETCD_HEARTBEAT_INTERVAL=300",  // a later assignment replaces it
                       "ETCD_ELECTION_TIMEOUT=2500",
                       "ETCD_NAME=node one",
                       "ETCD_DATA_DIR=/var/lib/etcd",
                       "ETCD_INITIAL_CLUSTER=a=http://10.0.0.1:2380,b=http://10.0.0.2:2380",
                       "QUOTED_SPACE= x ",
                       "ESCAPES=a\"b$c\\qd",
                       "LAST=no newline at the end",
                   });
  const auto v = from_environment(entries);
  CHECK(v.heartbeat == 300ms);
  CHECK(v.election == 2500ms);
}

TEST_CASE("parse_env_file skips malformed lines without echoing them", "[tuning][discovery]") {
  const char* text =
      "ETCD_HEARTBEAT_INTERVAL=250\n"
      "this line has no assignment hunter2\n"
      "1BAD=hunter2\n"
      "BAD-NAME=hunter2\n"
      "ETCD_ELECTION_TIMEOUT=2500\n"
      "ETCD_PEER_KEY_PASSWORD='hunter2\n";
  std::vector<std::string> problems;
  const auto entries = parse_env_file(text, &problems);
  CHECK(entries == Strings{"ETCD_HEARTBEAT_INTERVAL=250", "ETCD_ELECTION_TIMEOUT=2500"});
  REQUIRE(problems.size() == 4);
  CHECK(problems[0] == "line 2: not a KEY=VALUE assignment");
  CHECK(problems[1] == "line 3: not a valid variable name before '='");
  CHECK(problems[2] == "line 4: not a valid variable name before '='");
  CHECK(problems[3] == "line 6: a quote is not closed");
  CHECK_FALSE(any_contains(problems, "hunter2"));

  CHECK(parse_env_file("", &problems).empty());
  CHECK(parse_env_file("\n\n# only comments\n").empty());
  CHECK(parse_env_file("ETCD_X=1\n", nullptr) == Strings{"ETCD_X=1"});
}

TEST_CASE("from_etcd_config_file reads etcd's YAML config", "[tuning][discovery]") {
  const auto v = from_etcd_config_file(kEtcdConfigFile);
  CHECK(v.problems.empty());
  CHECK(v.heartbeat == 250ms);
  CHECK(v.election == 2500ms);
  CHECK(v.data_dir == std::filesystem::path("/var/lib/etcd/default.etcd"));
  CHECK(v.client_urls == Strings{"http://localhost:2379", "https://10.0.0.1:2379"});

  SECTION("empty file and null values: etcd's defaults, no problem") {
    for (const char* text : {"", "# nothing\n", "heartbeat-interval:\nelection-timeout: ~\n"}) {
      const auto e = from_etcd_config_file(text);
      CHECK_FALSE(e.heartbeat);
      CHECK_FALSE(e.election);
      CHECK(e.problems.empty());
    }
  }
  SECTION("values etcd refuses") {
    const auto bad = from_etcd_config_file(
        "heartbeat-interval: \"250\"\nelection-timeout: 2500ms\ndata-dir: [a, b]\n");
    CHECK_FALSE(bad.heartbeat);
    CHECK_FALSE(bad.election);
    REQUIRE(bad.problems.size() == 3);
    CHECK_THAT(bad.problems[0], Contains("heartbeat-interval: '250': quoted"));
    CHECK(bad.problems[1] == "election-timeout: '2500ms': not a number of milliseconds");
    CHECK(bad.problems[2] == "data-dir: expected a single value");
  }
  SECTION("malformed YAML and documents that are not a mapping") {
    const auto broken = from_etcd_config_file("heartbeat-interval: [250\nelection-timeout: 1\n");
    REQUIRE(broken.problems.size() == 1);
    CHECK_THAT(broken.problems[0], Contains("not valid YAML (line "));
    const auto list = from_etcd_config_file("- heartbeat-interval: 250\n");
    REQUIRE(list.problems.size() == 1);
    CHECK(list.problems[0] == "not a YAML mapping of etcd settings");
  }
}

TEST_CASE("kubeadm_etcd_command finds etcd's command in a static pod manifest",
          "[tuning][discovery]") {
  const auto command = kubeadm_etcd_command(kKubeadmManifest);
  REQUIRE(command.ok());
  CHECK(command->front() == "etcd");
  const auto v = from_arguments(*command);
  CHECK(v.heartbeat == 250ms);
  CHECK(v.election == 2500ms);
  CHECK(v.data_dir == std::filesystem::path("/var/lib/etcd"));
  CHECK(v.client_urls == Strings{"https://127.0.0.1:2379", "https://10.0.0.11:2379"});
  CHECK(v.problems.empty());

  SECTION("args with the image's entrypoint, beside a sidecar") {
    const auto args = kubeadm_etcd_command(R"(spec:
  containers:
  - name: sidecar
    command: [sh, -c, "sleep 1d"]
  - name: etcd
    args: [--heartbeat-interval=300]
)");
    REQUIRE(args.ok());
    CHECK(*args == Strings{"etcd", "--heartbeat-interval=300"});
  }
  SECTION("bad manifests") {
    const std::vector<std::pair<const char*, const char*>> cases = {
        {"spec: {containers: [{name: etcd, command: [etcd", "not valid YAML (line "},
        {"spec:\n  containers:\n  - name: apiserver\n    command: [kube-apiserver]\n",
         "no container named etcd"},
        {"- a list\n", "no spec.containers list"},
        {"", "no spec.containers list"},
        {"spec:\n  containers:\n  - name: etcd\n    command: [etcd, {a: b}]\n",
         "not a list of strings"},
    };
    for (const auto& [yaml, says] : cases) {
      INFO(yaml);
      const auto command = kubeadm_etcd_command(yaml);
      REQUIRE_FALSE(command.ok());
      CHECK_THAT(command.error(), Contains(says));
    }
  }
}

TEST_CASE("split_nul splits /proc's cmdline and environ", "[tuning][discovery]") {
  using namespace std::string_literals;
  CHECK(split_nul("etcd\0--name\0m1\0"s) == Strings{"etcd", "--name", "m1"});
  CHECK(split_nul("a\0\0b\0"s) == Strings{"a", "", "b"});
  CHECK(split_nul("rewritten title"s) == Strings{"rewritten title"});
  CHECK(split_nul("").empty());
}

TEST_CASE("expand_exec_argv expands ExecStart variables as systemd does", "[tuning][discovery]") {
  const Strings env = {"DAEMON_ARGS=--heartbeat-interval=250   --election-timeout=2500",
                       "DIR=/var/lib/etcd", "DIR=/srv/etcd", "EMPTY="};
  CHECK(expand_exec_argv({"/usr/bin/etcd", "$DAEMON_ARGS"}, env) ==
        Strings{"/usr/bin/etcd", "--heartbeat-interval=250", "--election-timeout=2500"});
  CHECK(expand_exec_argv({"etcd", "--data-dir=${DIR}/m1", "${DAEMON_ARGS}"}, env) ==
        Strings{"etcd", "--data-dir=/srv/etcd/m1",
                "--heartbeat-interval=250   --election-timeout=2500"});
  CHECK(expand_exec_argv({"etcd", "$EMPTY", "$UNSET", "--x=$$HOME", "--y=$DIR"}, env) ==
        Strings{"etcd", "--x=$HOME", "--y=$DIR"});
}
