// Upload speed and memory: `etcd-warden snapshot upload` vs `aws s3 cp`, to the same S3 server.
//
// One snapshot file of >= 400 MB (a valid bbolt database with etcd's sha256
// trailer and the warden's sidecar, made without etcd by support/fake_bbolt:
// its pages are alternately random and repetitive 4 KiB runs, written plain;
// neither tool compresses) uploaded to one s3rver on loopback, each upload
// its own child process, alternating the tools and rotating which goes first
// each round: (A) `etcd-warden -c CONFIG snapshot upload offsite FILE`, a
// multipart upload of part_size parts with parts_in_flight parts on the
// wire, each with its sha256 and MD5, then a HEAD check and the sidecar PUT;
// (B) `aws s3 cp FILE s3://backups/awscli/NAME` with Debian's aws-cli 2 at
// its default multipart settings (8 MB chunks, 10 concurrent requests), what
// an operator would script by hand, in the isolated environment of
// support/awscli (s3rver's credentials, path-style addressing, no retries).
// Per run: wall time, MB/s (file bytes / wall seconds, MB = 10^6 bytes), peak
// RSS (VmHWM) and peak private memory (RssAnon) of the child, sampled from
// /proc (support/child_usage.hpp says why not wait4's ru_maxrss). Objects are
// deleted before and after each run, so each run uploads afresh and the
// server's disk use stays flat; after each warden run the object and its
// sidecar "<key>.json" must be there.
//   bench_upload_throughput [--size-mb 420] [--rounds 3] [--part-mib 16] [--in-flight 4]
//
// The warden's memory has a bound by design (remote/upload.hpp): peak private
// memory <= part_size x parts_in_flight + 16 MiB. The bench checks it on every
// warden run and exits 1 if it is exceeded or if any run failed.
//
// Target (issue 15): >= 1.0x awscli's throughput with lower peak RSS; medians
// over the rounds.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "etcd_warden/snapshot/naming.hpp"
#include "etcd_warden/snapshot/sidecar.hpp"
#include "etcd_warden/snapshot/verify.hpp"
#include "support/awscli.hpp"
#include "support/child_usage.hpp"
#include "support/fake_bbolt.hpp"
#include "support/process.hpp"
#include "support/s3_server.hpp"
#include "support/temp_dir.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
namespace fs = std::filesystem;
namespace snapshot = etcd_warden::snapshot;

namespace {

const std::string kBucket = "backups";
const std::string kTarget = "offsite";
const std::string kFileName = "etcd-bench-r000000000001-20261201T000000Z.db";
constexpr std::uint32_t kPageSize = 4096;
constexpr std::size_t kTrailer = 32;  // etcd's sha256 after the database

// The warden reads no AWS_* variable; these would change how it logs or
// where it finds its credentials.
const std::vector<std::string> kWardenUnset = {
    "NOTIFY_SOCKET", "WATCHDOG_USEC",  "WATCHDOG_PID",         "LISTEN_*",
    "INVOCATION_ID", "JOURNAL_STREAM", "CREDENTIALS_DIRECTORY"};

struct Options {
  std::size_t size_mb = 420;
  int rounds = 3;
  std::uint64_t part_mib = 16;
  unsigned in_flight = 4;
};

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    const std::string a = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument("option " + a + " needs a value");
    if (a == "--size-mb")
      o.size_mb = std::stoul(argv[i + 1]);
    else if (a == "--rounds")
      o.rounds = std::stoi(argv[i + 1]);
    else if (a == "--part-mib")
      o.part_mib = std::stoull(argv[i + 1]);
    else if (a == "--in-flight")
      o.in_flight = static_cast<unsigned>(std::stoul(argv[i + 1]));
    else
      throw std::invalid_argument("unknown option " + a);
  }
  if (o.rounds < 1) throw std::invalid_argument("--rounds must be at least 1");
  if (o.size_mb < 1) throw std::invalid_argument("--size-mb must be at least 1");
  return o;
}

// --- the snapshot ---------------------------------------------------------------

void write_all(const fs::path& path, std::span<const std::byte> data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error(path.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      throw std::runtime_error(path.string() + ": write: " + std::strerror(e));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    throw std::runtime_error(path.string() + ": fsync/close: " + std::strerror(errno));
  }
}

// A plain snapshot of at least `size_mb` MB (database + trailer) in `dir`,
// with the sidecar the warden itself writes. Returns its path.
fs::path make_snapshot(const fs::path& dir, std::size_t size_mb) {
  const fs::path file = dir / kFileName;
  const std::uint64_t want = size_mb * 1'000'000;
  const std::uint64_t pages =
      std::max<std::uint64_t>(4, (want - kTrailer + kPageSize - 1) / kPageSize);
  {
    // ~2x the file in memory for a moment (fake_bbolt copies the database to
    // append the trailer); gone before the runs.
    const Blob blob =
        fake_bbolt_snapshot({.page_size = kPageSize, .pages = pages, .txid = 2, .seed = 1});
    write_all(file, blob);
  }
  const auto verified = snapshot::verify_file(file);
  if (!verified)
    throw std::runtime_error("the bench's snapshot does not verify: " + verified.error());

  snapshot::SnapshotInfo info;
  info.file = kFileName;
  info.member = "bench";
  info.revision = 1;
  info.etcd_version = "3.4.23";
  info.taken_at = std::chrono::sys_days{std::chrono::year{2026} / 12 / 1};
  info.db_bytes = verified->db_bytes;
  info.file_bytes = etcd_warden::Bytes{fs::file_size(file)};
  info.sha256 = verified->sha256;
  info.compression = etcd_warden::config::Compression::none;
  info.verified_at = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  if (auto written = snapshot::write_sidecar(snapshot::sidecar_path(file), info); !written) {
    throw std::runtime_error("write_sidecar: " + written.error());
  }
  return file;
}

// --- runs ---------------------------------------------------------------------

enum class Tool { warden, awscli };

struct RunResult {
  int round = 0;
  Tool tool{};
  ChildResult child;
  std::string failure;  // empty: the upload worked and checked out
};

class Runner {
 public:
  Runner(const S3Server& server, const AwsCli& aws, const TempDir& work, fs::path file,
         std::string sha256, const Options& options)
      : server_(server),
        aws_(aws),
        work_(work),
        file_(std::move(file)),
        sha256_(std::move(sha256)),
        options_(options) {
    fs::create_directories(work_ / "snapdir");
    fs::create_directories(work_ / "logs");
    const fs::path credentials = work_ / "s3.credentials";
    write_file(credentials, std::string("[default]\naws_access_key_id = ") +
                                S3Server::kAccessKeyId +
                                "\naws_secret_access_key = " + S3Server::kSecretAccessKey + "\n");
    fs::permissions(credentials, fs::perms::owner_read | fs::perms::owner_write);
    write_file(config(),
               "etcd:\n  endpoints: [\"http://127.0.0.1:2379\"]\n"
               "snapshot:\n  dir: \"" +
                   (work_ / "snapdir").string() + "\"\n  upload:\n    - name: " + kTarget +
                   "\n      s3:\n        endpoint: \"" + server_.endpoint() +
                   "\"\n        bucket: " + kBucket +
                   "\n        prefix: etcd\n        credentials_file: \"" + credentials.string() +
                   "\"\n      part_size: " + std::to_string(options_.part_mib) +
                   "MiB\n      parts_in_flight: " + std::to_string(options_.in_flight) + "\n");
  }

  fs::path config() const { return work_ / "warden.yaml"; }

  // `etcd-warden -c CONFIG check-config`: the config must be valid before any run.
  void check_config() const {
    const CommandResult r = run_cli({"-c", config().string(), "check-config"});
    if (r.exit_code != 0) {
      throw std::runtime_error("check-config exited " + std::to_string(r.exit_code) + ":\n" +
                               r.output + "\nconfig:\n" + read_file(config()));
    }
  }

  std::string warden_key() const { return "etcd/" + kFileName; }
  std::string awscli_key() const { return "awscli/" + kFileName; }

  RunResult run(int round, Tool tool) {
    ++runs_;
    RunResult r{round, tool, {}, {}};
    const fs::path log =
        work_ / "logs" /
        (std::to_string(runs_) + (tool == Tool::warden ? "-warden.log" : "-awscli.log"));
    std::vector<std::string> argv;
    try {
      remove_objects(tool);  // each run uploads afresh
      // Write back what earlier runs left in the page cache (s3rver's store), so it does not land
      // on this run.
      ::sync();
      if (tool == Tool::warden) {
        argv = {warden_binary().string(),
                "-c",
                config().string(),
                "snapshot",
                "upload",
                kTarget,
                file_.string()};
        r.child = run_child(argv, {}, log, kWardenUnset);
      } else {
        argv = aws_.argv(
            {"s3", "cp", "--no-progress", file_.string(), "s3://" + kBucket + "/" + awscli_key()});
        const CommandOptions o = aws_.command_options();
        r.child = run_child(argv, o.env, log, o.unset_env);
      }
      if (r.child.exit_code != 0) {
        r.failure = "exited " + std::to_string(r.child.exit_code);
      } else {
        r.failure = check_objects(tool);
      }
    } catch (const std::exception& e) {
      r.failure = e.what();
    }
    if (!r.failure.empty()) {
      std::string command;
      for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
      std::cerr << "run " << runs_ << " (" << (tool == Tool::warden ? "warden" : "awscli")
                << ") FAILED: " << r.failure << "\n  command: " << command << "\n  output ("
                << log.string() << "):\n"
                << tail_lines(read_file(log), 40) << "\n";
    }
    try {
      remove_objects(tool);  // keep s3rver's disk use flat
    } catch (const std::exception& e) {
      std::cerr << "run " << runs_ << ": deleting its objects failed: " << e.what() << "\n";
    }
    return r;
  }

 private:
  void remove_objects(Tool tool) const {
    if (tool == Tool::warden) {
      aws_.delete_object(kBucket, warden_key());
      aws_.delete_object(kBucket, warden_key() + ".json");
    } else {
      aws_.delete_object(kBucket, awscli_key());
    }
  }

  // "" when what the run uploaded is there and whole, else what is wrong.
  std::string check_objects(Tool tool) const {
    const std::uint64_t size = fs::file_size(file_);
    const std::string key = tool == Tool::warden ? warden_key() : awscli_key();
    const auto head = aws_.head_object(kBucket, key);
    const auto length = head.value("ContentLength", std::uint64_t{0});
    if (length != size) {
      return "s3://" + kBucket + "/" + key + " has " + std::to_string(length) + " bytes, not " +
             std::to_string(size);
    }
    if (tool == Tool::warden) {
      const std::string meta =
          head.contains("Metadata") ? head["Metadata"].value("etcd-sha256", std::string()) : "";
      if (meta != sha256_) {
        return "s3://" + kBucket + "/" + key + ": x-amz-meta-etcd-sha256 is '" + meta + "', not " +
               sha256_;
      }
      aws_.head_object(kBucket, key + ".json");  // throws when the sidecar is missing
    }
    return "";
  }

  const S3Server& server_;
  const AwsCli& aws_;
  const TempDir& work_;
  const fs::path file_;
  const std::string sha256_;
  const Options options_;
  int runs_ = 0;
};

// --- report -------------------------------------------------------------------

std::string tool_name(Tool t, const Options& o) {
  if (t == Tool::warden) {
    return "etcd-warden snapshot upload (" + std::to_string(o.part_mib) + " MiB x " +
           std::to_string(o.in_flight) + ")";
  }
  return "aws s3 cp (8 MB x 10)";
}

double mb_per_s(std::uint64_t bytes, double seconds) {
  return static_cast<double>(bytes) / 1e6 / seconds;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Medians {
  std::size_t runs = 0;  // that worked
  double wall = 0, mbps = 0, rss = 0, private_mem = 0;
};

Medians medians(const std::vector<RunResult>& runs, Tool tool, std::uint64_t bytes) {
  std::vector<double> wall, mbps, rss, private_mem;
  for (const auto& r : runs) {
    if (r.tool != tool || !r.failure.empty()) continue;
    wall.push_back(r.child.wall_seconds);
    mbps.push_back(mb_per_s(bytes, r.child.wall_seconds));
    rss.push_back(r.child.peak_rss_mib);
    private_mem.push_back(r.child.peak_private_mib);
  }
  return {wall.size(), median(wall), median(mbps), median(rss), median(private_mem)};
}

void print_runs(const std::vector<RunResult>& runs, std::uint64_t bytes, const Options& o) {
  std::printf(
      "| run | round | tool | wall s | MB/s | peak RSS MiB | peak private MiB | result |\n");
  std::printf("|---:|---:|---|---:|---:|---:|---:|---|\n");
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    std::printf("| %zu | %d | %s | %.2f | %.1f | %.1f | %.1f | %s |\n", i + 1, r.round + 1,
                tool_name(r.tool, o).c_str(), r.child.wall_seconds,
                mb_per_s(bytes, r.child.wall_seconds), r.child.peak_rss_mib,
                r.child.peak_private_mib,
                r.failure.empty() ? "ok" : ("FAILED: " + r.failure).c_str());
  }
}

// Prints the medians, the targets and the memory bound; false if the bound was exceeded.
bool print_summary(const std::vector<RunResult>& runs, std::uint64_t bytes, const Options& o) {
  const Medians w = medians(runs, Tool::warden, bytes);
  const Medians a = medians(runs, Tool::awscli, bytes);
  std::printf("\nmedians over the runs that worked (of %d rounds):\n\n", o.rounds);
  std::printf("| tool | runs ok | wall s | MB/s | peak RSS MiB | peak private MiB |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (const auto& [t, m] : {std::pair{Tool::warden, w}, std::pair{Tool::awscli, a}}) {
    std::printf("| %s | %zu | %.2f | %.1f | %.1f | %.1f |\n", tool_name(t, o).c_str(), m.runs,
                m.wall, m.mbps, m.rss, m.private_mem);
  }
  std::printf("\n| target | measured | goal | |\n|---|---:|---|---|\n");
  if (w.runs && a.runs) {
    const double ratio = w.mbps / a.mbps;
    std::printf("| warden MB/s / awscli's | %.2f | >= 1.00 | %s |\n", ratio,
                ratio >= 1.0 ? "ok" : "MISS");
    std::printf("| warden peak RSS MiB (goal: below awscli's) | %.1f | < %.1f | %s |\n", w.rss,
                a.rss, w.rss < a.rss ? "ok" : "MISS");
    std::printf("| warden peak private MiB (awscli's, for reference) | %.1f | %.1f | |\n",
                w.private_mem, a.private_mem);
  } else {
    std::printf("| warden vs awscli | n/a | | no successful run of %s |\n",
                w.runs ? "awscli" : "the warden");
  }

  // The bound holds for every warden run that got under way, not only for the median.
  const double bound = static_cast<double>(o.part_mib * o.in_flight + 16);
  double worst = 0;
  bool any = false;
  for (const auto& r : runs) {
    if (r.tool != Tool::warden || r.child.exit_code == -1) continue;
    worst = std::max(worst, r.child.peak_private_mib);
    any = true;
  }
  const bool ok = any && worst <= bound;
  std::printf(
      "\nmemory bound: %s (%.1f MiB %s %.1f MiB: the warden's largest peak private memory, "
      "part_size x parts_in_flight + 16 MiB)\n",
      !any ? "NOT MEASURED"
      : ok ? "OK"
           : "EXCEEDED",
      worst, ok ? "<=" : ">", bound);
  return ok;
}

std::string s3rver_version() {
  const fs::path package = S3Server::script().parent_path().parent_path() / "package.json";
  try {
    return nlohmann::json::parse(read_file(package)).value("version", std::string("?"));
  } catch (const std::exception&) {
    return "?";
  }
}

std::string first_line(std::string s) {
  s = s.substr(0, s.find('\n'));
  return s;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options options = parse_options(argc, argv);
  if (const std::string missing = S3Server::missing(); !missing.empty()) {
    throw std::runtime_error(missing);
  }
  TempDir work("etcd-warden-bench-upload");
  const auto generate_start = std::chrono::steady_clock::now();
  const fs::path file = make_snapshot(work.path(), options.size_mb);
  const double generate_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - generate_start).count();
  const std::uint64_t bytes = fs::file_size(file);
  const auto info = snapshot::read_sidecar(snapshot::sidecar_path(file));
  if (!info) throw std::runtime_error(info.error());

  S3Server server({.buckets = {kBucket}, .log = false});
  AwsCli aws(server);
  Runner runner(server, aws, work, file, info->sha256, options);
  runner.check_config();
  const AwsCliOptions aws_defaults;  // what `aws` above runs with
  // aws-cli's start-up (python3 and its imports) is part of each of its runs' wall time.
  const auto version_start = std::chrono::steady_clock::now();
  const CommandResult aws_version =
      run_command({aws_defaults.binary.string(), "--version"}, aws.command_options());
  const double aws_startup =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - version_start).count();

  std::printf(
      "\nupload throughput: %s, %.1f MB (%llu bytes: a plain bbolt database with etcd's sha256 "
      "trailer, generated in %.1f s), to s3rver %s on loopback (its store on the local disk); "
      "%d rounds, the tools alternating and the first one rotating each round; objects deleted "
      "before and after each run, sync() before each; %ld CPUs\n\n",
      kFileName.c_str(), static_cast<double>(bytes) / 1e6, static_cast<unsigned long long>(bytes),
      generate_seconds, s3rver_version().c_str(), options.rounds, ::sysconf(_SC_NPROCESSORS_ONLN));
  std::printf(
      "notes:\n"
      "- warden: `etcd-warden -c CONFIG snapshot upload %s FILE`, part_size %llu MiB, "
      "parts_in_flight %u (one connection each); sha256 and MD5 of each part; its wall time also "
      "covers the clean-up listing, the HEAD check, the sidecar PUT and retention's listing\n"
      "- awscli: `%s s3 cp --no-progress FILE s3://%s/%s` (%s) at its default multipart "
      "settings: multipart_threshold 8 MB, multipart_chunksize 8 MB, max_concurrent_requests 10; "
      "support/awscli's environment and config (s3rver's credentials, region %s, path-style "
      "addressing, retry_mode standard with max_attempts %d, --cli-read-timeout %lld); its "
      "start-up is in its wall time (`aws --version` took %.2f s)\n"
      "- memory is the child's only (python3 for aws-cli); s3rver's (node) is not counted\n\n",
      kTarget.c_str(), static_cast<unsigned long long>(options.part_mib), options.in_flight,
      aws_defaults.binary.c_str(), kBucket.c_str(), runner.awscli_key().c_str(),
      first_line(aws_version.output + aws_version.error).c_str(), S3Server::kRegion,
      aws_defaults.max_attempts, static_cast<long long>(aws_defaults.read_timeout.count()),
      aws_startup);
  std::fflush(stdout);

  std::vector<RunResult> runs;
  for (int round = 0; round < options.rounds; ++round) {
    const Tool first = round % 2 == 0 ? Tool::warden : Tool::awscli;
    const Tool second = first == Tool::warden ? Tool::awscli : Tool::warden;
    runs.push_back(runner.run(round, first));
    runs.push_back(runner.run(round, second));
  }
  print_runs(runs, bytes, options);
  const bool bound_ok = print_summary(runs, bytes, options);
  std::printf("\n");
  const bool all_ok =
      std::all_of(runs.begin(), runs.end(), [](const RunResult& r) { return r.failure.empty(); });
  if (!all_ok) std::printf("some runs FAILED (their commands and output are on stderr)\n");
  return bound_ok && all_ok ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "bench_upload_throughput: " << e.what() << "\n";
  return 1;
}
