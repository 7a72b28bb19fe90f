// Restore drill time by database size: what `etcd-warden job drill` measures as the recovery time.
//
// For each size: a fresh single-member etcd filled to about that database
// size (random values of 100 KiB, which zstd cannot shrink: the decompressed
// copy costs its full size), one `job snapshot` (zstd,
// the default), then `job drill` --rounds times. Per size the medians of the
// report's steps: verify (the sha256 and bbolt check of the snapshot file),
// restore (decompression and `etcdutl`/`etcdctl snapshot restore`), start
// (the throwaway etcd until it answers a linearizable read), the checks and
// the cleanup, the whole job, and etcd_warden_drill_duration_seconds as
// .drill.json records it (restore + start: the recovery time the drill
// proves for this size). The etcd is the one the tests use ($ETCD_BIN_DIR).
//   bench_drill_rto [--sizes-mb 16,128,512] [--rounds 3]
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/etcd_cluster.hpp"
#include "support/etcd_data.hpp"
#include "support/etcd_tools.hpp"
#include "support/temp_dir.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Options {
  std::vector<std::size_t> sizes_mb{16, 128, 512};
  int rounds = 3;
};

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--sizes-mb") {
      o.sizes_mb.clear();
      std::istringstream in(argv[i + 1]);
      for (std::string s; std::getline(in, s, ',');) o.sizes_mb.push_back(std::stoul(s));
    } else if (a == "--rounds") {
      o.rounds = std::stoi(argv[i + 1]);
    } else {
      throw std::runtime_error("unknown option " + a);
    }
  }
  return o;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// "restore       1.23s  ..." -> 1.23
double step_seconds(const std::string& report, const std::string& step) {
  std::smatch m;
  const std::regex line("(^|\n)" + step + " +([0-9.]+)s");
  if (!std::regex_search(report, m, line)) return -1;
  return std::stod(m[2].str());
}

double recorded_duration(const fs::path& state) {
  std::smatch m;
  const std::string text = read_file(state);
  if (!std::regex_search(text, m, std::regex("\"duration_seconds\": *([0-9.eE+-]+)"))) return -1;
  return std::stod(m[1].str());
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_options(argc, argv);
  std::printf("etcd %s, %d rounds per size, medians\n\n", etcd_version().c_str(), opt.rounds);
  std::printf(
      "| DB MB | snapshot MB | verify s | restore s | start s | checks+cleanup s | job s | "
      "drill_duration s |\n|---|---|---|---|---|---|---|---|\n");
  for (const std::size_t size_mb : opt.sizes_mb) {
    EtcdCluster cluster({.members = 1});
    const std::size_t value = 100 * 1024;
    put_values(cluster.member(0).client_url, "/bench/v", size_mb * (1 << 20) / value, value, 1);
    TempDir work("etcd-warden-bench-drill");
    const fs::path snapshots = work / "snapshots";
    const fs::path config = work / "config.yaml";
    write_file(config, etcd_config_yaml(cluster, 0) + "snapshot:\n  dir: \"" + snapshots.string() +
                           "\"\ndrill:\n  etcd_bin_dir: \"" + etcd_bin_dir().string() +
                           "\"\n  start_timeout: 10m\n");
    const auto snap = run_cli({"job", "snapshot", "-c", config.string()}, 10min);
    if (snap.exit_code != 0) {
      std::cerr << snap.output;
      return 1;
    }
    double db_mb = 0, file_mb = 0;
    for (const auto& e : fs::directory_iterator(snapshots)) {
      const std::string name = e.path().filename().string();
      if (name.ends_with(".db.zst")) file_mb = static_cast<double>(fs::file_size(e.path())) / 1e6;
    }
    std::smatch m;
    if (std::regex_search(snap.output, m, std::regex("db=([0-9.]+)(KiB|MiB|GiB)"))) {
      const double unit = m[2] == "KiB" ? 1024.0 : m[2] == "MiB" ? 1048576.0 : 1073741824.0;
      db_mb = std::stod(m[1].str()) * unit / 1e6;
    }
    std::map<std::string, std::vector<double>> t;
    for (int round = 0; round < opt.rounds; ++round) {
      const auto r = run_cli({"job", "drill", "-c", config.string()}, 30min);
      if (r.exit_code != 0) {
        std::cerr << r.output;
        return 1;
      }
      for (const char* step : {"verify", "restore", "start", "cleanup", "total"}) {
        t[step].push_back(step_seconds(r.output, step));
      }
      t["rest"].push_back(step_seconds(r.output, "total") - step_seconds(r.output, "verify") -
                          step_seconds(r.output, "restore") - step_seconds(r.output, "start"));
      t["recorded"].push_back(recorded_duration(snapshots / ".drill.json"));
    }
    std::printf("| %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", db_mb, file_mb,
                median(t["verify"]), median(t["restore"]), median(t["start"]), median(t["rest"]),
                median(t["total"]), median(t["recorded"]));
    std::fflush(stdout);
  }
  return 0;
}
