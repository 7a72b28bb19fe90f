#include "etcd_warden/app/snapshot_commands.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>

#include "etcd_warden/app/runtime.hpp"
#include "etcd_warden/config/loader.hpp"
#include "etcd_warden/jobs/maintenance_ops.hpp"
#include "etcd_warden/remote/fetch.hpp"
#include "etcd_warden/remote/upload.hpp"
#include "etcd_warden/snapshot/catalog.hpp"
#include "etcd_warden/snapshot/naming.hpp"
#include "etcd_warden/snapshot/recheck.hpp"
#include "etcd_warden/snapshot/restore_plan.hpp"
#include "etcd_warden/snapshot/sidecar.hpp"
#include "etcd_warden/snapshot/verify.hpp"
#include "etcd_warden/status/status_board.hpp"

namespace etcd_warden::app {

namespace {

std::shared_ptr<const config::Config> load(const std::string& path, std::ostream& err) {
  auto loaded = config::load_file(path);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) err << e.to_string() << "\n";
    return nullptr;
  }
  return std::make_shared<const config::Config>(std::move(*loaded.config));
}

// The bytes against etcd's trailer, bbolt's structure and the sidecar's
// sha256; the answer goes into the sidecar, so that `snapshot list`,
// restore-plan and retention see a file re-checked here.
int verify(const std::string& file, std::ostream& out, std::ostream& err) {
  const auto checked = snapshot::check_snapshot(file);
  const std::filesystem::path side = snapshot::sidecar_path(file);
  if (auto info = snapshot::read_sidecar(side)) {
    const auto now =
        std::chrono::time_point_cast<sched::WallTime::duration>(std::chrono::system_clock::now());
    if (auto recorded = snapshot::record_check(file, *info, checked, now); !recorded) {
      err << "note: " << side.string() << " not updated: " << recorded.error() << "\n";
    }
  }
  if (!checked) {
    err << "FAIL " << checked.error() << "\n";
    return 1;
  }
  const snapshot::VerifiedSnapshot& result = checked->bytes;
  std::string revision = "unknown";
  if (auto name =
          snapshot::parse_snapshot_file_name(std::filesystem::path(file).filename().string())) {
    revision = std::to_string(name->revision);
  }
  if (checked->sidecar) revision = std::to_string(checked->sidecar->revision);
  out << "OK " << file << ": revision " << revision << ", database " << to_string(result.db_bytes)
      << " (" << result.db_bytes.value << " bytes, " << result.pages << " pages of "
      << result.page_size << "), file " << to_string(result.file_bytes)
      << (result.compressed ? " zstd" : " plain") << ", sha256 " << result.sha256
      << (checked->sidecar ? ", matches its sidecar" : " (" + checked->no_sidecar + ")") << "\n";
  return 0;
}

int list(const config::Config& cfg, std::ostream& out, std::ostream& err) {
  std::vector<std::filesystem::path> dirs{cfg.snapshot.dir};
  dirs.insert(dirs.end(), cfg.snapshot.copy_to.begin(), cfg.snapshot.copy_to.end());
  int code = 0;
  for (const auto& dir : dirs) {
    auto listed = snapshot::list_snapshots(dir);
    if (!listed) {
      err << listed.error() << "\n";
      code = 1;
      continue;
    }
    const auto& entries = *listed;
    out << dir.string() << ": " << entries.size() << " snapshot(s)\n";
    if (entries.empty()) continue;
    char line[512];
    std::snprintf(line, sizeof line, "  %-58s %10s  %-20s %9s  %s\n", "FILE", "REVISION",
                  "TAKEN (UTC)", "SIZE", "VERIFIED");
    out << line;
    const auto now = std::chrono::system_clock::now();
    for (const auto& e : entries) {
      // "yes" is a past fact: when the bytes were last read against the
      // sidecar. Bit rot since then shows at the next re-check.
      const std::string verified =
          e.verified()
              ? "yes, bytes checked " +
                    status::format_age(std::chrono::duration_cast<std::chrono::seconds>(
                        std::max(now - e.info->verified_at, sched::WallTime::duration{}))) +
                    " ago"
              : "no: " + e.problem;
      std::snprintf(line, sizeof line, "  %-58s %10lld  %-20s %9s  %s\n", e.path.filename().c_str(),
                    static_cast<long long>(e.name.revision),
                    snapshot::format_rfc3339(e.name.taken).c_str(), to_string(e.file_bytes).c_str(),
                    verified.c_str());
      out << line;
    }
  }
  for (const auto& target : cfg.snapshot.upload) {
    const std::string where = "upload target " + target.name + " (s3://" + target.s3.bucket + "/" +
                              target.s3.prefix + ")";
    auto opened = remote::open_target(target);
    auto listed = opened ? remote::list_remote(*opened) : util::fail(opened.error());
    if (!listed) {
      err << where << ": " << listed.error() << "\n";
      code = 1;
      continue;
    }
    out << where << ": " << listed->size() << " snapshot(s)\n";
    if (listed->empty()) continue;
    char line[512];
    std::snprintf(line, sizeof line, "  %-58s %10s  %-20s %9s  %s\n", "FILE", "REVISION",
                  "TAKEN (UTC)", "SIZE", "VERIFIED");
    out << line;
    for (const auto& e : *listed) {
      const char* verified = e.verified ? "yes, checked after upload (HEAD), sidecar present"
                                        : "no: no sidecar (an upload that did not finish)";
      std::snprintf(line, sizeof line, "  %-58s %10lld  %-20s %9s  %s\n", e.file.c_str(),
                    static_cast<long long>(e.name.revision),
                    snapshot::format_rfc3339(e.name.taken).c_str(),
                    to_string(Bytes{e.size}).c_str(), verified);
      out << line;
    }
  }
  return code;
}

const config::UploadTarget* find_target(const config::Config& cfg, const std::string& name) {
  for (const auto& t : cfg.snapshot.upload) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string target_names(const config::Config& cfg) {
  std::string names;
  for (const auto& t : cfg.snapshot.upload) names += (names.empty() ? "" : ", ") + t.name;
  return names.empty() ? "none configured (snapshot.upload)" : names;
}

// The target a command names, opened (endpoint, credentials); nullopt once
// `err` says why, `code` then 2 for an unknown name, 1 for one that cannot
// be opened.
std::optional<remote::Target> open_named(const config::Config& cfg, const std::string& name,
                                         const char* command, std::ostream& err, int& code) {
  const auto* target = find_target(cfg, name);
  if (!target) {
    err << command << ": no upload target '" << name << "' (targets: " << target_names(cfg)
        << ")\n";
    code = 2;
    return std::nullopt;
  }
  auto opened = remote::open_target(*target);
  if (!opened) {
    err << command << ": " << opened.error() << "\n";
    code = 1;
    return std::nullopt;
  }
  if (!opened->credentials_warning.empty())
    err << "warning: " << opened->credentials_warning << "\n";
  return std::move(*opened);
}

// `snapshot fetch TARGET NAME [DEST]`: downloads, checks, writes atomically.
int fetch(const config::Config& cfg, const std::string& target_name, const std::string& name,
          const std::filesystem::path& dest, std::ostream& out, std::ostream& err) {
  int code = 0;
  const auto opened = open_named(cfg, target_name, "snapshot fetch", err, code);
  if (!opened) return code;
  auto fetched = remote::fetch_snapshot(*opened, name, dest, nullptr);
  if (!fetched) {
    err << "snapshot fetch: " << fetched.error() << "\n";
    return 1;
  }
  out << fetched->file.string() << ": fetched from " << target_name << ", "
      << to_string(fetched->info.file_bytes) << ", revision " << fetched->info.revision
      << ", sha256 " << fetched->info.sha256 << " (matches its sidecar and etcd's trailer)\n";
  return 0;
}

// `snapshot upload TARGET FILE`: what the job does after a snapshot, by hand
// (a verified local snapshot with its sidecar).
int upload(const config::Config& cfg, const std::string& target_name, const std::string& file,
           std::ostream& out, std::ostream& err) {
  int code = 0;
  const auto opened = open_named(cfg, target_name, "snapshot upload", err, code);
  if (!opened) return code;
  auto info = snapshot::read_sidecar(snapshot::sidecar_path(file));
  if (!info) {
    err << "snapshot upload: " << info.error() << " (only verified snapshots are uploaded)\n";
    return 1;
  }
  if (info->file != std::filesystem::path(file).filename().string()) {
    err << "snapshot upload: " << file << ": its sidecar describes " << info->file << "\n";
    return 1;
  }
  auto report =
      remote::upload_snapshot(*opened, file, *info, std::chrono::system_clock::now(), nullptr);
  if (!report) {
    err << "snapshot upload: " << report.error() << "\n";
    return 1;
  }
  for (const auto& n : report->notes) out << n << "\n";
  for (const auto& w : report->warnings) err << "warning: " << w << "\n";
  char took[32];
  std::snprintf(took, sizeof took, "%.2fs", report->took.count());
  out << "uploaded " << file << " to s3://" << opened->config.s3.bucket << "/" << report->key
      << " (" << to_string(report->bytes) << ", "
      << (report->parts ? std::to_string(report->parts) : "1")
      << (report->parts ? " parts" : " PUT") << ", " << took << ")\n";
  return 0;
}

}  // namespace

int snapshot_command(const std::vector<std::string>& words, const std::string& config_path,
                     std::ostream& out, std::ostream& err) {
  if (words.size() == 3 && words[1] == "verify") return verify(words[2], out, err);
  if (words.size() == 2 && words[1] == "list") {
    auto cfg = load(config_path, err);
    return cfg ? list(*cfg, out, err) : 1;
  }
  if ((words.size() == 4 || words.size() == 5) && words[1] == "fetch") {
    auto cfg = load(config_path, err);
    return cfg ? fetch(*cfg, words[2], words[3], words.size() == 5 ? words[4] : ".", out, err) : 1;
  }
  if (words.size() == 4 && words[1] == "upload") {
    auto cfg = load(config_path, err);
    return cfg ? upload(*cfg, words[2], words[3], out, err) : 1;
  }
  err << "usage: etcd-warden snapshot verify FILE | snapshot list | snapshot fetch TARGET NAME "
         "[DEST] | snapshot upload TARGET FILE\n";
  return 2;
}

int restore_plan_command(const std::vector<std::string>& words, const std::string& config_path,
                         std::ostream& out, std::ostream& err) {
  constexpr const char* kUsage =
      "usage: etcd-warden restore-plan [--data-dir NAME=PATH ...] [SNAPSHOT | TARGET:NAME]\n";
  std::string named;
  std::map<std::string, std::filesystem::path> overrides;  // member name -> data dir
  for (std::size_t i = 1; i < words.size(); ++i) {
    if (words[i] == "--data-dir") {
      const std::string value = i + 1 < words.size() ? words[++i] : "";
      const auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size() || value[eq + 1] != '/') {
        err << "restore-plan: --data-dir takes NAME=/absolute/path (a member name from "
               "`etcdctl member list`), got '"
            << value << "'\n";
        return 2;
      }
      overrides[value.substr(0, eq)] = value.substr(eq + 1);
    } else if (named.empty() && !words[i].starts_with("-")) {
      named = words[i];
    } else {
      err << kUsage;
      return 2;
    }
  }
  auto cfg = load(config_path, err);
  if (!cfg) return 1;

  // Checked again now, whatever the sidecar says: the plan is what an
  // operator runs in an outage, on the bytes as they are today. Without a
  // name: the newest verified snapshot whose bytes still check out, saying
  // which newer ones were passed over and why.
  snapshot::PlanInput in;
  std::optional<snapshot::CheckedSnapshot> checked;
  const auto colon = named.find(':');
  const config::UploadTarget* remote_target =
      colon == std::string::npos ? nullptr : find_target(*cfg, named.substr(0, colon));
  if (remote_target) {
    // A snapshot on an upload target: it must be a verified upload (its
    // sidecar is there); the plan's first step fetches and checks it.
    const std::string name = named.substr(colon + 1);
    auto opened = remote::open_target(*remote_target);
    auto listed = opened ? remote::list_remote(*opened) : util::fail(opened.error());
    if (!listed) {
      err << "restore-plan: " << listed.error() << "\n";
      return 1;
    }
    const auto it = std::find_if(listed->begin(), listed->end(),
                                 [&](const remote::RemoteEntry& e) { return e.file == name; });
    if (it == listed->end() || !it->verified) {
      err << "restore-plan: " << named
          << (it == listed->end() ? " is not on that target" : " has no sidecar (not verified)")
          << "; see `etcd-warden snapshot list`\n";
      return 1;
    }
    // Not snapshot.dir itself: it may hold a file of that name, and its
    // retention must not count a snapshot fetched for a restore.
    in.snapshot = cfg->snapshot.dir / "restore" / name;
    in.fetch_target = remote_target->name;
    in.fetch_name = name;
    in.compressed = it->name.compression == config::Compression::zstd;
  } else if (!named.empty()) {
    in.snapshot = std::filesystem::absolute(named);
    auto check = snapshot::check_snapshot(in.snapshot);
    if (!check) {
      err << "restore-plan: " << in.snapshot.string() << " does not verify: " << check.error()
          << "\n";
      return 1;
    }
    checked = *std::move(check);
  } else {
    auto listed = snapshot::list_snapshots(cfg->snapshot.dir);
    std::vector<std::string> passed_over;
    if (listed) {
      for (const auto& e : *listed) {
        if (!e.verified()) continue;
        auto check = snapshot::check_snapshot(e.path);
        if (check) {
          in.snapshot = e.path;
          checked = *std::move(check);
          break;
        }
        passed_over.push_back(check.error());
      }
    }
    for (const auto& why : passed_over) {
      err << "restore-plan: passed over a newer snapshot that does not verify: " << why << "\n";
    }
    if (in.snapshot.empty()) {
      err << "restore-plan: no verified snapshot in " << cfg->snapshot.dir.string()
          << "; name one: etcd-warden restore-plan FILE\n";
      return 1;
    }
  }
  if (checked) in.compressed = checked->bytes.compressed;
  if (auto name = snapshot::parse_snapshot_file_name(in.snapshot.filename().string()))
    in.revision = name->revision;

  try {
    Runtime runtime(cfg);
    std::string failure;
    asio::co_spawn(
        runtime.io,
        [&]() -> Task<void> {
          auto status_op = runtime.context.etcd->status();
          auto status = co_await std::move(status_op);
          std::uint64_t self = 0;
          if (status) {
            in.etcd_version = status->version();
            self = status->header().member_id();
          }
          auto members_op = runtime.context.etcd->member_list();
          auto members = co_await std::move(members_op);
          if (!members) {
            failure = members.error().to_string();
            co_return;
          }
          // Other members' data dirs, as their wardens reported them.
          auto reports_op = jobs::read_disk_reports(
              runtime.context.etcd, jobs::CoordKeys(cfg->coordination.prefix), false);
          auto reports = co_await std::move(reports_op);
          for (const auto& m : members->members()) {
            snapshot::PlanMember pm{m.name(),
                                    {m.peerurls().begin(), m.peerurls().end()},
                                    {m.clienturls().begin(), m.clienturls().end()}};
            const jobs::DiskReport* report = nullptr;
            if (reports) {
              if (auto it = reports.value().find(m.id()); it != reports.value().end())
                report = &it->second;
            }
            if (auto it = overrides.find(m.name()); it != overrides.end()) {
              pm.data_dir = it->second;
              pm.data_dir_source = "--data-dir on the command line";
              overrides.erase(it);
            } else if (m.id() == self) {
              pm.data_dir = cfg->etcd.data_dir;
              pm.data_dir_source = "etcd.data_dir of this warden's config";
            } else if (report != nullptr && !report->data_dir.empty()) {
              pm.data_dir = report->data_dir;
              pm.data_dir_source = "reported by " + m.name() + "'s warden";
            } else {
              pm.data_dir = cfg->etcd.data_dir;
              pm.data_dir_source = "ASSUMED the same as this host's: " + m.name() +
                                   "'s warden has not reported one; check it on that host";
            }
            in.members.push_back(std::move(pm));
          }
        },
        asio::detached);
    runtime.io.run();
    if (!failure.empty()) {
      err << "restore-plan: cannot read the member list: " << failure << "\n";
      return 1;
    }
  } catch (const std::exception& e) {
    err << config_path << ": " << e.what() << "\n";
    return 1;
  }

  if (!overrides.empty()) {
    err << "restore-plan: --data-dir names " << overrides.begin()->first
        << ", which is not a member of this cluster\n";
    return 2;
  }
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  in.stamp = stamp;
  in.cluster_token = std::string("etcd-restored-") + stamp;
  if (cfg->etcd.tls) {
    const auto& t = *cfg->etcd.tls;
    if (!t.ca.empty()) in.etcdctl_flags.insert(in.etcdctl_flags.end(), {"--cacert", t.ca.string()});
    if (!t.cert.empty())
      in.etcdctl_flags.insert(in.etcdctl_flags.end(),
                              {"--cert", t.cert.string(), "--key", t.key.string()});
  }
  const auto plan = snapshot::build_restore_plan(in);
  if (!plan) {
    err << "restore-plan: " << plan.error() << "\n";
    return 1;
  }
  out << *plan;
  return 0;
}

}  // namespace etcd_warden::app
