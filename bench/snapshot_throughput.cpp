// Snapshot speed and memory: `etcdctl snapshot save` vs `etcd-warden job snapshot`.
//
// One etcd member with a database of >= 400 MB, snapshotted three ways, each
// as its own child process on the same database, in rotating order so that
// page cache and disk state favour no tool: (A) `etcdctl snapshot save`,
// what operators script by hand; (B) `etcd-warden job snapshot` without
// compression; (C) the same with zstd at the default level. Per run: wall
// time, MB/s (database bytes / wall seconds, MB = 10^6 bytes), peak RSS of the
// child (VmHWM; see MemorySampler for why not wait4's ru_maxrss), peak private
// memory (RssAnon: RSS also counts the pages of the binary and its shared
// libraries, which a static Go binary and a C++ program with ~70 shared
// libraries map very differently), output size. Both tools fsync their
// output; the warden also checks the sha256 trailer and writes its sidecar.
//   bench_snapshot_throughput [--size-mb 400] [--rounds 3] [--seed 1] [--zstd-level N]
//
// Data: Kubernetes-like objects as JSON text (stored Kubernetes objects
// compress about 3-5x): pods (containers, env, status, managedFields) 60%,
// configmaps (config-file text) 30%, secrets (base64 of random bytes, which
// does not compress) 10%; names, uids, hashes, IPs and values are random.
// The bench prints the zstd ratio of a sample of these values.
//
// Targets (issue 5): uncompressed >= 1.0x etcdctl's throughput, zstd >= 0.9x,
// peak RSS <= etcdctl's; medians over the rounds.
#include <grpcpp/grpcpp.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"
#include "support/child_usage.hpp"
#include "support/etcd_cluster.hpp"
#include "support/temp_dir.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Options {
  std::size_t size_mb = 400;
  int rounds = 3;
  std::uint64_t seed = 1;
  int zstd_level = 0;  // 0: the warden's default (snapshot.compression_level)
};

// The zstd level run (C) uses, for the table; set from Options.
int g_zstd_level = 0;

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--size-mb")
      o.size_mb = std::stoul(argv[i + 1]);
    else if (a == "--rounds")
      o.rounds = std::stoi(argv[i + 1]);
    else if (a == "--seed")
      o.seed = std::stoull(argv[i + 1]);
    else if (a == "--zstd-level")
      o.zstd_level = std::stoi(argv[i + 1]);
    else
      throw std::invalid_argument("unknown option " + a);
  }
  return o;
}

// --- data ---------------------------------------------------------------------

// Kubernetes-like objects as JSON: the structure and vocabulary repeat (that
// is what compresses), while identifiers, hashes and secret payloads are random.
class ObjectGenerator {
 public:
  explicit ObjectGenerator(std::uint64_t seed) : rng_(seed) {}

  struct Object {
    std::string key, value;
  };

  Object next() {
    const int kind = pick(100);
    ++count_;
    if (kind < 60) return pod();
    if (kind < 90) return config_map();
    return secret();
  }

 private:
  static constexpr std::array<const char*, 32> kWords = {
      "api",     "web",      "cache",   "worker",  "billing", "search",  "auth",    "gateway",
      "ingest",  "report",   "payment", "catalog", "order",   "user",    "session", "metrics",
      "backend", "frontend", "queue",   "mailer",  "export",  "import",  "sync",    "scheduler",
      "proxy",   "storage",  "index",   "feed",    "notify",  "profile", "ledger",  "audit"};

  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }
  std::string word() {
    return kWords[static_cast<std::size_t>(pick(static_cast<int>(kWords.size())))];
  }
  std::string number(int n) { return std::to_string(pick(n)); }

  std::string hex(std::size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s(n, '0');
    for (auto& c : s) c = kHex[rng_() & 15];
    return s;
  }

  std::string base64_random(std::size_t n) {
    static constexpr char kB64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string s(n, 'A');
    for (auto& c : s) c = kB64[rng_() & 63];
    return s;
  }

  std::string uid() { return hex(8) + "-" + hex(4) + "-" + hex(4) + "-" + hex(4) + "-" + hex(12); }
  std::string timestamp() {
    return "2024-0" + std::to_string(1 + pick(9)) + "-1" + number(10) + "T0" + number(10) + ":" +
           std::to_string(10 + pick(50)) + ":" + std::to_string(10 + pick(50)) + "Z";
  }

  std::string metadata(const std::string& name, const std::string& ns) {
    return R"("metadata":{"name":")" + name + R"(","namespace":")" + ns + R"(","uid":")" + uid() +
           R"(","resourceVersion":")" + std::to_string(1000000 + count_) +
           R"(","creationTimestamp":")" + timestamp() + R"(","labels":{"app":")" + word() + "-" +
           word() + R"(","tier":")" + word() + R"(","pod-template-hash":")" + hex(10) +
           R"("},"annotations":{"checksum/config":")" + hex(64) + R"("}})";
  }

  std::string managed_fields() {
    // The server-side-apply bookkeeping that makes real objects big and repetitive.
    return R"("managedFields":[{"manager":"kube-controller-manager","operation":"Update",)"
           R"("apiVersion":"v1","time":")" +
           timestamp() +
           R"(","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{},)"
           R"("f:pod-template-hash":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\")" +
           uid() +
           R"(\"}":{}}},"f:spec":{"f:containers":{},"f:dnsPolicy":{},"f:enableServiceLinks":{},)"
           R"("f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},)"
           R"("f:terminationGracePeriodSeconds":{}}}},{"manager":"kubelet","operation":"Update",)"
           R"("apiVersion":"v1","time":")" +
           timestamp() +
           R"(","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{},)"
           R"("f:containerStatuses":{},"f:hostIP":{},"f:phase":{},"f:podIP":{},"f:startTime":{}}},)"
           R"("subresource":"status"}])";
  }

  std::string container() {
    const std::string name = word() + "-" + word();
    std::string env;
    const int vars = 5 + pick(25);
    for (int i = 0; i < vars; ++i) {
      if (i) env += ",";
      std::string value = pick(3) ? word() + "." + word() + ".svc:" + number(9000)
                                  : hex(static_cast<std::size_t>(8 + pick(24)));
      env += R"({"name":")" + word() + "_" + word() + "_" + std::to_string(i) + R"(","value":")" +
             value + R"("})";
    }
    return R"({"name":")" + name + R"(","image":"registry.example.com/team-)" + number(40) + "/" +
           name + ":v1." + number(30) + "." + number(10) + R"(","ports":[{"containerPort":)" +
           number(9000) + R"(,"protocol":"TCP"}],"env":[)" + env +
           R"(],"resources":{"limits":{"cpu":")" + number(4000) + R"(m","memory":")" +
           number(8192) + R"(Mi"},"requests":{"cpu":")" + number(1000) + R"(m","memory":")" +
           number(2048) + R"(Mi"}},"volumeMounts":[{"name":"kube-api-access-)" + hex(5) +
           R"(","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],)"
           R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",)"
           R"("imagePullPolicy":"IfNotPresent"})";
  }

  Object pod() {
    const std::string ns = "team-" + number(40);
    const std::string name = word() + "-" + word() + "-" + hex(10) + "-" + hex(5);
    std::string containers, statuses;
    const int n = 1 + pick(4);
    for (int i = 0; i < n; ++i) {
      containers += (i ? "," : "") + container();
      statuses += std::string(i ? "," : "") + R"({"name":")" + word() +
                  R"(","ready":true,"restartCount":)" + number(5) +
                  R"(,"containerID":"containerd://)" + hex(64) + R"(","imageID":"sha256:)" +
                  hex(64) + R"(","started":true})";
    }
    std::string value =
        R"({"kind":"Pod","apiVersion":"v1",)" + metadata(name, ns) + "," + managed_fields() +
        R"(,"spec":{"containers":[)" + containers +
        R"(],"restartPolicy":"Always","dnsPolicy":"ClusterFirst","nodeName":"node-)" + number(200) +
        R"(","serviceAccountName":"default"},"status":{)" + R"("phase":"Running","hostIP":"10.0.)" +
        number(255) + "." + number(255) + R"(","podIP":"10.244.)" + number(255) + "." +
        number(255) + R"(","startTime":")" + timestamp() + R"(","containerStatuses":[)" + statuses +
        "]}}";
    return {"/registry/pods/" + ns + "/" + name, std::move(value)};
  }

  Object config_map() {
    const std::string ns = "team-" + number(40);
    const std::string name = word() + "-" + word() + "-config-" + hex(6);
    std::string text;
    const int lines = 40 + pick(400);
    for (int i = 0; i < lines; ++i) {
      text += word() + "." + word() + "." + word() + " = " +
              (pick(3) ? word() + "-" + number(1000) : hex(16)) + "\\n";
    }
    return {"/registry/configmaps/" + ns + "/" + name,
            R"({"kind":"ConfigMap","apiVersion":"v1",)" + metadata(name, ns) +
                R"(,"data":{"application.properties":")" + text + R"("}})"};
  }

  Object secret() {
    const std::string ns = "team-" + number(40);
    const std::string name = word() + "-tls-" + hex(6);
    return {"/registry/secrets/" + ns + "/" + name,
            R"({"kind":"Secret","apiVersion":"v1",)" + metadata(name, ns) +
                R"(,"type":"kubernetes.io/tls","data":{"tls.crt":")" +
                base64_random(static_cast<std::size_t>(1500 + pick(4000))) + R"(","tls.key":")" +
                base64_random(static_cast<std::size_t>(1200 + pick(2000))) + R"("}})"};
  }

  std::mt19937_64 rng_;
  std::uint64_t count_ = 0;
};

// zstd ratio (level 3, zstd's own default) of ~8 MB of generated values in one frame.
double sample_zstd_ratio(std::uint64_t seed) {
  ObjectGenerator gen(seed + 1000);
  std::string sample;
  while (sample.size() < 8'000'000) sample += gen.next().value;
  std::string out(ZSTD_compressBound(sample.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), sample.data(), sample.size(), 3);
  if (ZSTD_isError(n)) throw std::runtime_error(ZSTD_getErrorName(n));
  return static_cast<double>(sample.size()) / static_cast<double>(n);
}

struct FillResult {
  std::uint64_t keys = 0, value_bytes = 0, db_bytes = 0;
  double seconds = 0;
};

// A plain-text channel to an http:// client URL.
std::shared_ptr<grpc::Channel> channel_to(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(endpoint.substr(endpoint.find("//") + 2),
                                   grpc::InsecureChannelCredentials(), args);
}

std::uint64_t db_size(etcdserverpb::Maintenance::Stub& maintenance) {
  grpc::ClientContext c;
  c.set_deadline(std::chrono::system_clock::now() + 30s);
  etcdserverpb::StatusResponse st;
  const auto s = maintenance.Status(&c, etcdserverpb::StatusRequest{}, &st);
  if (!s.ok()) throw std::runtime_error("status: " + s.error_message());
  return static_cast<std::uint64_t>(st.dbsize());
}

// Txns of up to 1 MiB (etcd's --max-request-bytes is 1.5 MiB) and 128 puts
// (--max-txn-ops), until the database file reaches `target_bytes`.
FillResult fill(const std::string& endpoint, std::uint64_t target_bytes, std::uint64_t seed) {
  const auto channel = channel_to(endpoint);
  auto kv = etcdserverpb::KV::NewStub(channel);
  auto maintenance = etcdserverpb::Maintenance::NewStub(channel);
  ObjectGenerator gen(seed);
  FillResult r;
  const auto start = std::chrono::steady_clock::now();
  for (int batch = 0;; ++batch) {
    if (batch % 16 == 0 && (r.db_bytes = db_size(*maintenance)) >= target_bytes) break;
    etcdserverpb::TxnRequest txn;
    std::size_t bytes = 0;
    while (txn.success_size() < 128 && bytes < (1u << 20) - (64u << 10)) {
      auto o = gen.next();
      bytes += o.key.size() + o.value.size();
      r.value_bytes += o.value.size();
      auto* put = txn.add_success()->mutable_request_put();
      put->set_key(o.key + "-" + std::to_string(r.keys++));  // never overwrite: no free pages
      put->set_value(std::move(o.value));
    }
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() + 60s);
    etcdserverpb::TxnResponse resp;
    const auto s = kv->Txn(&c, txn, &resp);
    if (!s.ok()) throw std::runtime_error("fill txn: " + s.error_message());
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

// --- runs ---------------------------------------------------------------------

enum class Tool { etcdctl, warden_none, warden_zstd };
constexpr std::array<Tool, 3> kTools = {Tool::etcdctl, Tool::warden_none, Tool::warden_zstd};

std::string tool_name(Tool t) {
  switch (t) {
    case Tool::etcdctl:
      return "etcdctl snapshot save";
    case Tool::warden_none:
      return "warden, compression none";
    case Tool::warden_zstd:
      return "warden, zstd (level " +
             (g_zstd_level ? std::to_string(g_zstd_level) : std::string("default")) + ")";
  }
  return "";
}

struct RunResult {
  int round = 0;
  Tool tool{};
  ChildResult child;
  double output_mib = 0;
};

// The snapshot file a run left in `dir` (not the warden's JSON sidecar).
fs::path output_file(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".db") || name.ends_with(".db.zst")) return e.path();
  }
  throw std::runtime_error("no snapshot file in " + dir.string());
}

void empty_dir(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) fs::remove_all(e.path());
}

class Runner {
 public:
  Runner(const EtcdCluster& cluster, const TempDir& work) : cluster_(cluster), work_(work) {
    for (Tool t : kTools) fs::create_directories(out_dir(t));
    write_file(config(Tool::warden_none), warden_yaml(Tool::warden_none));
    write_file(config(Tool::warden_zstd), warden_yaml(Tool::warden_zstd));
  }

  RunResult run(int round, Tool tool) {
    // Write back what earlier runs left in the page cache, so it does not land on this run.
    ::sync();
    RunResult r{round, tool, {}, 0};
    const fs::path log = work_ / "runs.log";
    if (tool == Tool::etcdctl) {
      r.child = run_child(
          {cluster_.etcdctl_binary().string(), "--endpoints", cluster_.member(0).client_url,
           "--command-timeout=10m", "snapshot", "save", (out_dir(tool) / "etcdctl.db").string()},
          {{"ETCDCTL_API", "3"}}, log);
    } else {
      r.child = run_child(
          {warden_binary().string(), "-c", config(tool).string(), "job", "snapshot"}, {}, log);
    }
    if (r.child.exit_code != 0) {
      throw std::runtime_error(std::string(tool_name(tool)) + " exited with " +
                               std::to_string(r.child.exit_code) + ":\n" +
                               tail_lines(read_file(log), 20));
    }
    r.output_mib = static_cast<double>(fs::file_size(output_file(out_dir(tool)))) / (1 << 20);
    empty_dir(out_dir(tool));  // keep the disk from filling up over the rounds
    return r;
  }

 private:
  fs::path out_dir(Tool t) const { return work_ / ("out-" + std::to_string(static_cast<int>(t))); }
  fs::path config(Tool t) const {
    return work_ / ("warden-" + std::to_string(static_cast<int>(t)) + ".yaml");
  }

  std::string warden_yaml(Tool t) const {
    return etcd_config_yaml(cluster_, 0) +
           "metrics:\n  listen: \"\"\n"
           "compaction:\n  enabled: false\n"
           "defrag:\n  enabled: false\n"
           "alarms:\n  enabled: false\n"
           "tuning:\n  enabled: false\n"
           "snapshot:\n  dir: \"" +
           out_dir(t).string() +
           "\"\n  keep_last: 1\n  compression: " + (t == Tool::warden_zstd ? "zstd" : "none") +
           (g_zstd_level ? "\n  compression_level: " + std::to_string(g_zstd_level) : "") + "\n";
  }

  const EtcdCluster& cluster_;
  const TempDir& work_;
};

// --- report -------------------------------------------------------------------

double mb_per_s(std::uint64_t db_bytes, double seconds) {
  return static_cast<double>(db_bytes) / 1e6 / seconds;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Medians {
  double wall = 0, mbps = 0, rss = 0, private_mem = 0, output = 0;
};

Medians medians(const std::vector<RunResult>& runs, Tool tool, std::uint64_t db_bytes) {
  std::vector<double> wall, mbps, rss, private_mem, output;
  for (const auto& r : runs) {
    if (r.tool != tool) continue;
    wall.push_back(r.child.wall_seconds);
    mbps.push_back(mb_per_s(db_bytes, r.child.wall_seconds));
    rss.push_back(r.child.peak_rss_mib);
    private_mem.push_back(r.child.peak_private_mib);
    output.push_back(r.output_mib);
  }
  return {median(wall), median(mbps), median(rss), median(private_mem), median(output)};
}

void print_runs(const std::vector<RunResult>& runs, std::uint64_t db_bytes) {
  std::printf("| run | tool | wall s | MB/s | peak RSS MiB | peak private MiB | output MiB |\n");
  std::printf("|---:|---|---:|---:|---:|---:|---:|\n");
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    std::printf("| %zu (round %d) | %s | %.2f | %.1f | %.1f | %.1f | %.1f |\n", i + 1, r.round + 1,
                tool_name(r.tool).c_str(), r.child.wall_seconds,
                mb_per_s(db_bytes, r.child.wall_seconds), r.child.peak_rss_mib,
                r.child.peak_private_mib, r.output_mib);
  }
}

void print_summary(const std::vector<RunResult>& runs, std::uint64_t db_bytes) {
  std::map<Tool, Medians> m;
  for (Tool t : kTools) m[t] = medians(runs, t, db_bytes);
  std::printf("\nmedians over %zu rounds:\n\n", runs.size() / kTools.size());
  std::printf("| tool | wall s | MB/s | peak RSS MiB | peak private MiB | output MiB |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (Tool t : kTools) {
    std::printf("| %s | %.2f | %.1f | %.1f | %.1f | %.1f |\n", tool_name(t).c_str(), m[t].wall,
                m[t].mbps, m[t].rss, m[t].private_mem, m[t].output);
  }
  const Medians& ctl = m[Tool::etcdctl];
  auto target = [](const char* what, double measured, double goal, bool at_least) {
    const bool ok = at_least ? measured >= goal : measured <= goal;
    std::printf("| %s | %.2f | %s %.2f | %s |\n", what, measured, at_least ? ">=" : "<=", goal,
                ok ? "ok" : "MISS");
  };
  std::printf("\n| target | measured | goal | |\n|---|---:|---|---|\n");
  target("warden uncompressed MB/s / etcdctl's", m[Tool::warden_none].mbps / ctl.mbps, 1.0, true);
  target("warden zstd MB/s / etcdctl's", m[Tool::warden_zstd].mbps / ctl.mbps, 0.9, true);
  target("warden uncompressed peak RSS MiB (goal: etcdctl's)", m[Tool::warden_none].rss, ctl.rss,
         false);
  target("warden zstd peak RSS MiB (goal: etcdctl's)", m[Tool::warden_zstd].rss, ctl.rss, false);
}

}  // namespace

int main(int argc, char** argv) try {
  const Options options = parse_options(argc, argv);
  g_zstd_level = options.zstd_level;
  g_zstd_level = options.zstd_level;
  const std::uint64_t target_bytes = options.size_mb * 1'000'000;
  // Quota well above the data: the default 2 GiB would stop a larger --size-mb.
  const std::uint64_t quota = std::max<std::uint64_t>(2ull << 30, 2 * target_bytes + (1ull << 30));
  EtcdCluster cluster(
      {.members = 1, .extra_flags = {"--quota-backend-bytes=" + std::to_string(quota)}});
  const double value_ratio = sample_zstd_ratio(options.seed);
  const FillResult filled = fill(cluster.member(0).client_url, target_bytes, options.seed);
  // The size every run copies: the fill checks it only every few batches.
  const std::uint64_t db_bytes =
      db_size(*etcdserverpb::Maintenance::NewStub(channel_to(cluster.member(0).client_url)));
  std::printf(
      "\nsnapshot throughput: 1 etcd member, DB %.1f MB (%llu keys, %.1f MB of values, filled in "
      "%.1f s); values compress %.2fx with zstd -3; %d rounds, order rotated each round; "
      "%ld CPUs\n\n",
      static_cast<double>(db_bytes) / 1e6, static_cast<unsigned long long>(filled.keys),
      static_cast<double>(filled.value_bytes) / 1e6, filled.seconds, value_ratio, options.rounds,
      ::sysconf(_SC_NPROCESSORS_ONLN));

  TempDir work("etcd-warden-bench-snapshot");
  Runner runner(cluster, work);
  std::vector<RunResult> runs;
  for (int round = 0; round < options.rounds; ++round) {
    for (std::size_t i = 0; i < kTools.size(); ++i) {
      runs.push_back(
          runner.run(round, kTools[(i + static_cast<std::size_t>(round)) % kTools.size()]));
    }
  }
  print_runs(runs, db_bytes);
  print_summary(runs, db_bytes);
  std::printf("\n");
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_snapshot_throughput: " << e.what() << "\n";
  return 1;
}
