#include "etcd_warden/jobs/snapshot_job.hpp"
#include "etcd_warden/util/hex_id.hpp"

#include <spdlog/spdlog.h>

#include "etcd_warden/etcd/snapshot_stream.hpp"
#include "etcd_warden/remote/upload.hpp"
#include "etcd_warden/snapshot/actions.hpp"
#include "etcd_warden/snapshot/catalog.hpp"
#include "etcd_warden/snapshot/naming.hpp"
#include "etcd_warden/snapshot/recheck.hpp"
#include "etcd_warden/snapshot/snapshot_writer.hpp"
#include "etcd_warden/util/offload.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::jobs {

namespace {

// Generous: etcd sends a snapshot at disk speed, but a busy member or a slow
// link must not turn a good snapshot into a timeout. 2 min plus 1 s per 10 MiB.
config::Duration stream_timeout(Bytes db_size) {
  return std::chrono::minutes(2) + std::chrono::seconds(db_size.value / (10u << 20));
}

std::string seconds_text(std::chrono::duration<double> d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", d.count());
  return buf;
}

}  // namespace

namespace {

struct StartScan {
  snapshot::CleanupResult cleaned;
  util::Result<std::vector<snapshot::SnapshotEntry>> listed;
};

}  // namespace

SnapshotJob::SnapshotJob(JobContext& context)
    : context_(context), upload_thread_(std::make_unique<asio::thread_pool>(1)) {}

SnapshotJob::~SnapshotJob() {
  stop_uploads_->store(true);
  upload_thread_->join();
}

void SnapshotJob::start(std::function<void()> done) {
  for (const auto& target : context_.config->snapshot.upload) {
    context_.metrics.declare_upload_target(target.name);
  }
  cleaned_up_ = true;  // the first run need not look again
  asio::co_spawn(context_.executor, scan_at_start(std::move(done)), asio::detached);
}

// A member coroutine with its parameters by value: nothing it uses lives in a
// caller's frame (the job itself lives as long as the daemon).
Task<void> SnapshotJob::scan_at_start(std::function<void()> done) {
  const std::filesystem::path dir = context_.config->snapshot.dir;
  try {
    auto op = offload(*context_.blocking, context_.executor, [dir] {
      return StartScan{snapshot::remove_stale_partials(dir), snapshot::list_snapshots(dir)};
    });
    const StartScan found = co_await std::move(op);
    for (std::size_t i = 0; i < found.cleaned.removed.size(); ++i) {
      spdlog::info("snapshot {} left by an earlier crash", found.cleaned.removed_note(i));
    }
    for (const auto& e : found.cleaned.errors) spdlog::warn("snapshot stale partial: {}", e);
    if (found.listed) publish_newest(*found.listed);
  } catch (const std::exception& e) {
    spdlog::warn("snapshot: start-up scan of {}: {}", dir.string(), e.what());
  }
  if (done) done();
}

void SnapshotJob::publish_newest(const std::vector<snapshot::SnapshotEntry>& entries) {
  for (const auto& e : entries) {  // newest first
    if (!e.verified()) continue;
    metrics::WardenMetrics::set(context_.metrics.snapshot_last_size_bytes,
                                e.file_bytes.as_double());
    metrics::WardenMetrics::set(context_.metrics.snapshot_last_revision,
                                static_cast<double>(e.info->revision));
    context_.metrics.set_last_success("snapshot", sched::unix_seconds_exact(e.info->taken_at));
    break;
  }
}

Task<sched::JobResult> SnapshotJob::run() {
  auto config = context_.config;
  auto etcd = context_.etcd;
  const config::SnapshotJob& cfg = config->snapshot;
  asio::thread_pool& pool = *context_.blocking;
  const auto loop = context_.executor;
  const auto started = context_.clock.now();

  // The revision and size right before streaming: etcd 3.4 sends neither with
  // the stream, so the name carries the revision at the start (the file holds
  // at least that revision).
  auto status_op = etcd->status();
  auto status = co_await std::move(status_op);
  if (!status)
    co_return sched::JobResult::failure("etcd unreachable: " + status.error().to_string());
  const Bytes db_size{static_cast<std::uint64_t>(std::max<std::int64_t>(0, status->dbsize()))};
  std::string member = context_.board.member.name;
  if (member.empty() || context_.board.member.member_id != status->header().member_id()) {
    member = hex_id(status->header().member_id());
  }

  const bool cleanup = !cleaned_up_;
  auto pre_op =
      offload(pool, loop, [dir = cfg.dir, need = snapshot::space_needed(db_size), cleanup] {
        return snapshot::preflight(dir, need, cleanup);
      });
  auto pre = co_await std::move(pre_op);
  cleaned_up_ = true;
  if (!pre) co_return sched::JobResult::failure(pre.error());
  for (const auto& note : pre->notes) spdlog::info("snapshot {}", note);
  if (!pre->insufficient.empty()) co_return sched::JobResult::skipped(pre->insufficient);

  const auto taken = context_.clock.wall_now();
  const std::string name =
      snapshot::snapshot_file_name(member, status->header().revision(), taken, cfg.compression);
  auto writer = std::make_shared<snapshot::SnapshotWriter>(cfg.dir, name, cfg.compression,
                                                           cfg.compression_level);
  auto open_op = offload(pool, loop, [writer] { return writer->open(); });
  if (auto opened = co_await std::move(open_op); !opened) {
    co_return sched::JobResult::failure(opened.error());
  }

  auto stream_op = etcd::stream_snapshot(
      *etcd, etcd->local_url(), stream_timeout(db_size), pool,
      [writer](std::span<const std::byte> chunk) { return writer->write(chunk); });
  auto streamed = co_await std::move(stream_op);
  if (!streamed.ok()) {
    auto abort_op = offload(pool, loop, [writer] {
      writer->abort();  // removes the partial file; nothing else is touched
      return true;
    });
    co_await std::move(abort_op);
    co_return sched::JobResult::failure(streamed.error ? streamed.error->to_string()
                                                       : streamed.sink_error);
  }

  auto finish_op = offload(
      pool, loop, [writer, expected = streamed.db_bytes] { return writer->finish(expected); });
  const snapshot::WriteResult written = co_await std::move(finish_op);
  if (!written) co_return sched::JobResult::failure(written.error());

  snapshot::SnapshotInfo info;
  info.file = name;
  info.member = member;
  info.member_id = status->header().member_id();
  info.cluster_id = status->header().cluster_id();
  info.revision = status->header().revision();
  info.etcd_version = status->version();
  info.taken_at = taken;
  info.db_bytes = written->db_bytes;
  info.file_bytes = written->file_bytes;
  info.sha256 = written->sha256;
  info.compression = cfg.compression;
  info.duration = context_.clock.now() - started;
  info.verified_at = context_.clock.wall_now();  // finish() checked the bytes

  // Everything after the verified rename: sidecar, copies, retention, hook.
  struct After {
    std::string error;
    std::vector<std::string> copy_errors;
    snapshot::RetentionOutcome retention;
    std::vector<snapshot::RecheckResult> rechecks;
  };
  auto after_op = offload(
      pool, loop, [info, path = written->path, cfg, now = taken, checked_at = info.verified_at] {
        After after;
        if (auto wrote = snapshot::write_sidecar(snapshot::sidecar_path(path), info); !wrote) {
          after.error = wrote.error();
          return after;  // without a sidecar the file is not "verified": no retention on its
                         // account
        }
        const snapshot::RetentionPolicy policy = snapshot::retention_policy(cfg);
        after.retention = snapshot::apply_retention(cfg.dir, policy, now);
        for (const auto& dir : cfg.copy_to) {
          if (auto copied = snapshot::copy_snapshot(path, info, dir); !copied) {
            after.copy_errors.push_back(copied.error());
            continue;
          }
          auto r = snapshot::apply_retention(dir, policy, now);
          after.retention.deleted.insert(after.retention.deleted.end(), r.deleted.begin(),
                                         r.deleted.end());
          after.retention.errors.insert(after.retention.errors.end(), r.errors.begin(),
                                        r.errors.end());
        }
        // What retention kept is worth re-reading: bit rot, a cut or an edit
        // since the last check turns "verified" into the reason it is not.
        if (cfg.recheck_every) {
          std::vector<std::filesystem::path> dirs{cfg.dir};
          dirs.insert(dirs.end(), cfg.copy_to.begin(), cfg.copy_to.end());
          after.rechecks = snapshot::recheck_due(dirs, checked_at, *cfg.recheck_every);
        }
        return after;
      });
  const After after = co_await std::move(after_op);
  if (!after.error.empty()) co_return sched::JobResult::failure(after.error);

  metrics::WardenMetrics::set(context_.metrics.snapshot_last_size_bytes,
                              info.file_bytes.as_double());
  metrics::WardenMetrics::set(context_.metrics.snapshot_last_revision,
                              static_cast<double>(info.revision));
  for (const auto& d : after.retention.deleted) spdlog::info("snapshot retention deleted {}", d);
  for (const auto& e : after.retention.errors) spdlog::warn("snapshot retention: {}", e);

  std::string summary = "file=" + written->path.string() + " rev=" + std::to_string(info.revision) +
                        " db=" + to_string(info.db_bytes) + " size=" + to_string(info.file_bytes) +
                        " took=" + seconds_text(info.duration);
  std::string problems;
  for (const auto& e : after.copy_errors) problems += (problems.empty() ? "" : "; ") + e;
  for (const auto& r : after.rechecks) {
    context_.metrics.snapshot_rechecked(r.error.empty());
    if (r.error.empty()) {
      spdlog::info("snapshot re-check ok: {}", r.path.string());
    } else {
      spdlog::error("snapshot re-check FAILED, no longer counted as verified: {}", r.error);
      problems += (problems.empty() ? "" : "; ") + ("re-check failed: " + r.error);
    }
    if (!r.record_error.empty()) {
      spdlog::warn("snapshot re-check of {}: result not recorded: {}", r.path.string(),
                   r.record_error);
      problems += (problems.empty() ? "" : "; ") + ("re-check not recorded: " + r.record_error);
    }
  }

  if (!cfg.hook.empty()) {
    auto hook_op = offload(
        pool, loop,
        [hook = cfg.hook, path = written->path, info, timeout = cfg.hook_timeout,
         &clock = context_.clock] { return snapshot::run_hook(hook, path, info, timeout, clock); });
    const auto hook = co_await std::move(hook_op);
    spdlog::log(hook.exit_code == 0 ? spdlog::level::info : spdlog::level::warn,
                "snapshot hook exit={} timed_out={} took={}ms{}", hook.exit_code, hook.timed_out,
                hook.took.count(), hook.error.empty() ? "" : " error=" + hook.error);
    if (hook.exit_code != 0) {
      problems += std::string(problems.empty() ? "" : "; ") + "hook " +
                  (hook.timed_out ? "timed out" : "exited " + std::to_string(hook.exit_code));
    }
  }
  if (!cfg.upload.empty()) {
    auto upload_op = upload(written->path, info);
    for (const auto& p : co_await std::move(upload_op)) {
      problems += (problems.empty() ? "" : "; ") + p;
    }
  }
  // The local snapshot is good either way; a failed copy, hook or upload
  // still fails the run so that alerts see it. The problem comes first:
  // STATUS= cuts long lines.
  if (!problems.empty())
    co_return sched::JobResult::failure("local snapshot ok, but " + problems + " (" + summary +
                                        ")");
  co_return sched::JobResult::success(summary);
}

namespace {

struct UploadDone {
  util::Result<remote::UploadReport> report = util::fail("not run");
  std::string credentials_warning;
};

// "target 'x': PUT ...": the target is named by the caller's sentence already.
std::string without_target(const std::string& error, const std::string& target) {
  const std::string prefix = "target '" + target + "': ";
  return error.starts_with(prefix) ? error.substr(prefix.size()) : error;
}

}  // namespace

Task<std::vector<std::string>> SnapshotJob::upload(std::filesystem::path file,
                                                   snapshot::SnapshotInfo info) {
  const auto config = context_.config;
  std::vector<std::string> problems;
  for (const auto& target : config->snapshot.upload) {
    context_.metrics.declare_upload_target(target.name);
    context_.board.activity = "snapshot: uploading to " + target.name;
    if (context_.status_changed) context_.status_changed();
    auto op = offload(*upload_thread_, context_.executor,
                      [target, file, info, now = context_.clock.wall_now(), stop = stop_uploads_] {
                        UploadDone done;
                        auto opened = remote::open_target(target);
                        if (!opened) {
                          done.report = util::fail(opened.error());
                          return done;
                        }
                        done.credentials_warning = opened->credentials_warning;
                        done.report = remote::upload_snapshot(*opened, file, info, now, stop.get());
                        return done;
                      });
    const UploadDone done = co_await std::move(op);
    context_.board.activity.clear();
    if (context_.status_changed) context_.status_changed();
    if (stop_uploads_->load()) {
      spdlog::warn("snapshot upload to {} stopped: the daemon is stopping", target.name);
      problems.push_back("upload to " + target.name + " stopped (the daemon is stopping)");
      break;
    }
    if (!done.credentials_warning.empty())
      spdlog::warn("snapshot upload: {}", done.credentials_warning);
    context_.metrics.snapshot_uploaded(target.name, done.report.ok());
    if (!done.report) {
      spdlog::error("snapshot upload to {} failed, the local snapshot is kept: {}", target.name,
                    done.report.error());
      problems.push_back("upload to " + target.name +
                         " failed: " + without_target(done.report.error(), target.name));
      continue;
    }
    const remote::UploadReport& r = *done.report;
    for (const auto& n : r.notes) spdlog::info("snapshot upload: {}", n);
    for (const auto& w : r.warnings) spdlog::warn("snapshot upload: {}", w);
    const std::map<std::string, std::string> labels{{"target", target.name}};
    metrics::WardenMetrics::set(context_.metrics.upload_last_success,
                                sched::unix_seconds_exact(context_.clock.wall_now()), labels);
    metrics::WardenMetrics::set(context_.metrics.upload_bytes, r.bytes.as_double(), labels);
    metrics::WardenMetrics::set(context_.metrics.upload_duration_seconds, r.took.count(), labels);
    spdlog::info("snapshot uploaded to {}: s3://{}/{} size={} {} took={}", target.name,
                 target.s3.bucket, r.key, to_string(r.bytes),
                 r.parts ? "parts=" + std::to_string(r.parts) : std::string("single PUT"),
                 seconds_text(r.took));
  }
  co_return problems;
}

}  // namespace etcd_warden::jobs
