// The warden's fsync probe against the fio check etcd's docs recommend, on
// the same directory, alternating so that neither always runs on a warm or
// cold disk:
//   fio --rw=write --ioengine=sync --fdatasync=1 --size=22m --bs=2300
// and tuning::probe_fsync with the daemon's defaults (1000 syncs or 2 s).
//   bench_fsync_probe [--dir /var/tmp] [--runs 5]
// Targets: the probe's p99 within +-50% of fio's; the probe costs <= 2 s.
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "etcd_warden/tuning/fsync_probe.hpp"
#include "support/process.hpp"

using namespace etcd_warden;
using namespace etcd_warden::testing;
using namespace std::chrono_literals;

namespace {

struct Measure {
  double p50_ms = 0, p99_ms = 0, max_ms = 0, seconds = 0;
  double mib_written = 0;
  std::size_t syncs = 0;
};

std::optional<Measure> run_fio(const std::filesystem::path& dir) {
  const auto r = run_command(
      {"fio", "--name=etcd-fsync-check", "--directory=" + dir.string(), "--rw=write",
       "--ioengine=sync", "--fdatasync=1", "--size=22m", "--bs=2300", "--output-format=json"},
      {.timeout = 600s, .separate_stderr = true});
  if (r.exit_code != 0) {
    std::fprintf(stderr, "fio failed (%d): %s\n", r.exit_code, r.error.c_str());
    return std::nullopt;
  }
  // fio prints the job file's warnings before the JSON on some versions.
  const auto json = nlohmann::json::parse(r.output.substr(r.output.find('{')), nullptr, false);
  if (json.is_discarded()) return std::nullopt;
  const auto& job = json["jobs"][0];
  const auto& sync = job["sync"]["lat_ns"];
  const auto& pct = sync["percentile"];
  Measure m;
  m.p50_ms = pct["50.000000"].get<double>() / 1e6;
  m.p99_ms = pct["99.000000"].get<double>() / 1e6;
  m.max_ms = sync["max"].get<double>() / 1e6;
  m.syncs = sync["N"].get<std::size_t>();
  m.seconds = job["write"]["runtime"].get<double>() / 1000.0;
  m.mib_written = job["write"]["io_bytes"].get<double>() / 1048576.0;
  std::filesystem::remove(dir / "etcd-fsync-check.0.0");
  return m;
}

Measure run_probe(const std::filesystem::path& dir) {
  tuning::ProbeOptions o;
  o.dir = dir;  // the daemon's defaults otherwise: 1000 syncs or 2 s
  const auto r = tuning::probe_fsync(o);
  if (!r.ok()) std::fprintf(stderr, "probe failed: %s\n", r.error.c_str());
  return {r.p50 * 1e3,
          r.p99 * 1e3,
          r.max * 1e3,
          r.seconds,
          static_cast<double>(r.bytes_written) / 1048576.0,
          r.syncs};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path base = "/var/tmp";
  int runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--dir") base = argv[i + 1];
    if (a == "--runs") runs = std::stoi(argv[i + 1]);
  }
  // A directory of our own on the filesystem to measure (TempDir would pick
  // $TMPDIR, which may be a tmpfs).
  struct OwnDir {
    std::filesystem::path p;
    ~OwnDir() { std::filesystem::remove_all(p); }
    const std::filesystem::path& path() const { return p; }
  } dir{base / ("etcd-warden-fsync-bench." + std::to_string(::getpid()))};
  std::filesystem::create_directories(dir.path());
  std::printf("fsync probe vs fio on %s, %d runs each, alternating\n\n", dir.path().c_str(), runs);
  std::printf(
      "| run | tool | syncs | p50 ms | p99 ms | max ms | wall s | MiB written |\n"
      "|---|---|---|---|---|---|---|---|\n");
  std::vector<double> fio_p99, probe_p99, fio_p50, probe_p50, probe_wall, probe_mib;
  for (int i = 0; i < runs; ++i) {
    // Alternate which goes first.
    for (int k = 0; k < 2; ++k) {
      const bool fio_now = (i + k) % 2 == 0;
      if (fio_now) {
        const auto m = run_fio(dir.path());
        if (!m) return 1;
        fio_p99.push_back(m->p99_ms);
        fio_p50.push_back(m->p50_ms);
        std::printf("| %d | fio | %zu | %.3f | %.3f | %.3f | %.2f | %.1f |\n", i + 1, m->syncs,
                    m->p50_ms, m->p99_ms, m->max_ms, m->seconds, m->mib_written);
      } else {
        const auto m = run_probe(dir.path());
        probe_p99.push_back(m.p99_ms);
        probe_p50.push_back(m.p50_ms);
        probe_wall.push_back(m.seconds);
        probe_mib.push_back(m.mib_written);
        std::printf("| %d | probe | %zu | %.3f | %.3f | %.3f | %.2f | %.1f |\n", i + 1, m.syncs,
                    m.p50_ms, m.p99_ms, m.max_ms, m.seconds, m.mib_written);
      }
      std::fflush(stdout);
    }
  }
  const double ratio = median(probe_p99) / median(fio_p99);
  const double wall = *std::max_element(probe_wall.begin(), probe_wall.end());
  std::printf("\n| median | fio | probe | probe / fio | target |\n|---|---|---|---|---|\n");
  std::printf("| p50 ms | %.3f | %.3f | %.2f | |\n", median(fio_p50), median(probe_p50),
              median(probe_p50) / median(fio_p50));
  std::printf("| p99 ms | %.3f | %.3f | %.2f | 0.50..1.50 — %s |\n", median(fio_p99),
              median(probe_p99), ratio, std::abs(ratio - 1) <= 0.5 ? "ok" : "MISS");
  std::printf("| probe wall s (max) | | %.2f | | <= 2 — %s |\n", wall, wall <= 2.0 ? "ok" : "MISS");
  std::printf("| probe MiB written (median) | | %.1f | | |\n", median(probe_mib));
  return 0;
}
