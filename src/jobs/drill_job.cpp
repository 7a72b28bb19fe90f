#include "etcd_warden/jobs/drill_job.hpp"

// See compaction_job.cpp: GCC 12's false -Wmismatched-new-delete on Asio frames.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

#include "etcd_warden/config/units.hpp"
#include "etcd_warden/drill/child.hpp"
#include "etcd_warden/drill/drill_rule.hpp"
#include "etcd_warden/drill/etcd_tools.hpp"
#include "etcd_warden/drill/scratch.hpp"
#include "etcd_warden/drill/throwaway_etcd.hpp"
#include "etcd_warden/io/disk.hpp"
#include "etcd_warden/io/file.hpp"
#include "etcd_warden/jobs/maintenance_ops.hpp"
#include "etcd_warden/snapshot/catalog.hpp"
#include "etcd_warden/snapshot/recheck.hpp"
#include "etcd_warden/snapshot/verify.hpp"
#include "etcd_warden/util/offload.hpp"

namespace etcd_warden::jobs {

using sched::JobResult;
namespace fs = std::filesystem;
namespace pb = ::etcdserverpb;
using Seconds = std::chrono::duration<double>;
using SteadyClock = std::chrono::steady_clock;

// What one drill holds from its first step to its cleanup, shared with the
// blocking pool's lambdas.
struct DrillJob::Session {
  drill::ScratchPaths paths;
  io::UniqueFd lock;
  bool scratch_made = false;
  pid_t etcd_pid = 0;
  std::string nothing_to_drill;  // why the drill is skipped, not failed
  std::string step = "verify";   // the one choose() is at, for the report
  bool started_etcd = false;
};

namespace {

struct Chosen {
  snapshot::SnapshotEntry entry;
  snapshot::SnapshotInfo info;  // the sidecar, checked against the bytes
  drill::EtcdTools tools;
  std::vector<std::string> notes;
  Seconds verify_took{0};
  std::string verify_detail;
  drill::SpaceNeed need;
  Bytes free;
};

Seconds since(SteadyClock::time_point t) {
  return SteadyClock::now() - t;
}

std::string seconds_text(Seconds s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", s.count());
  return buf;
}

// Lock, leftovers, the snapshot and its bytes, the etcd, the space. Blocking.
util::Result<Chosen> choose(const config::Config& config, DrillJob::Session& session,
                            sched::WallTime now) {
  Chosen out;
  auto lock = drill::take_lock(session.paths, std::chrono::seconds(3));
  if (!lock) return util::fail(lock.error());
  session.lock = std::move(*lock);
  auto left = drill::remove_leftovers(session.paths);
  out.notes = left.notes;
  if (!left.errors.empty()) return util::fail(left.errors.front());

  const fs::path& dir = config.snapshot.dir;
  auto listed = snapshot::list_snapshots(dir);
  if (!listed) return util::fail(listed.error());
  const snapshot::SnapshotEntry* newest = nullptr;
  for (const auto& e : *listed) {
    if (e.verified()) {
      newest = &e;
      break;
    }
  }
  if (listed->empty()) {
    session.nothing_to_drill =
        "no snapshot in " + dir.string() +
        (config.snapshot.enabled ? " yet" : " (snapshot.enabled is false on this host)");
    return util::fail(session.nothing_to_drill);
  }
  if (!newest) {
    return util::fail("no verified snapshot in " + dir.string() + " (" +
                      std::to_string(listed->size()) +
                      " unverified; see `etcd-warden snapshot list`)");
  }
  out.entry = *newest;

  // Its bytes again, now: the sidecar says what they were when last checked.
  const auto t0 = SteadyClock::now();
  auto checked = snapshot::check_snapshot(newest->path);
  out.verify_took = since(t0);
  (void)snapshot::record_check(newest->path, *newest->info, checked, now);
  if (!checked) return util::fail("verify: " + checked.error());
  if (!checked->sidecar) return util::fail("verify: " + checked->no_sidecar);
  out.info = *checked->sidecar;
  out.verify_detail = "sha256 matches its sidecar (" + to_string(checked->bytes.db_bytes) +
                      " database, " + std::to_string(checked->bytes.pages) + " pages)";

  session.step = "etcd";
  auto tools = drill::find_etcd_tools(config, out.notes);
  if (!tools) return util::fail(tools.error());
  out.tools = *tools;
  if (auto ok = drill::check_can_restore(tools->version,
                                         drill::parse_etcd_version(out.info.etcd_version));
      !ok) {
    return util::fail(ok.error());
  }

  session.step = "preflight";
  out.need =
      drill::space_needed(out.info.db_bytes, checked->bytes.compressed, config.drill.disk_margin);
  auto free = io::free_space(dir);
  if (!free) return util::fail(free.error());
  out.free = *free;
  if (auto ok = drill::check_space(dir.string(), *free, out.need); !ok) {
    return util::fail(ok.error());
  }
  if (auto made = drill::make_scratch(session.paths); !made) return util::fail(made.error());
  session.scratch_made = true;
  return out;
}

// Decompressed when it must be, then restored. Blocking.
util::Status restore(const Chosen& chosen, const drill::Throwaway& ports,
                     const config::Config& config, const DrillJob::Session& session) {
  fs::path plain = chosen.entry.path;
  if (chosen.info.compression == config::Compression::zstd) {
    plain = session.paths.snapshot_copy;
    if (auto d = snapshot::decompress_to(chosen.entry.path, plain); !d) return d;
  }
  std::vector<std::string> extra;
  if (!chosen.tools.etcdutl) extra.emplace_back("ETCDCTL_API=3");
  auto ran = drill::run({chosen.tools.restore_tool,
                         drill::restore_args(ports, plain, session.paths.data),
                         drill::clean_env(std::move(extra)),
                         {}},
                        config.drill.restore_timeout);
  std::error_code ec;
  if (plain != chosen.entry.path) fs::remove(plain, ec);  // the data dir has its own copy now
  if (!ran) return util::fail(ran.error());
  const std::string tool = chosen.tools.restore_tool.filename().string();
  if (ran->exit.timed_out) {
    return util::fail(tool + " snapshot restore did not finish within " +
                      config::format_duration(config.drill.restore_timeout) +
                      " (drill.restore_timeout)");
  }
  if (!ran->exit.success()) {
    return util::fail(tool + " snapshot restore: " + ran->exit.describe() + ": " +
                      drill::last_line(ran->output));
  }
  return {};
}

// The throwaway etcd, its pid recorded for a cleanup after a crash. Blocking.
util::Status start_etcd(const Chosen& chosen, const drill::Throwaway& ports,
                        DrillJob::Session& session) {
  auto pid = drill::spawn({chosen.tools.etcd,
                           drill::etcd_args(ports, session.paths.data, chosen.info.db_bytes),
                           drill::clean_env(), session.paths.log});
  if (!pid) return util::fail("start " + chosen.tools.etcd.string() + ": " + pid.error());
  session.etcd_pid = *pid;
  session.started_etcd = true;
  return drill::write_pid(session.paths, *pid);
}

// Stops the etcd and removes every file of the drill. Blocking; never throws.
std::vector<std::string> clean_up(DrillJob::Session& session) {
  std::vector<std::string> errors;
  if (session.etcd_pid > 0) {
    (void)drill::stop(session.etcd_pid, std::chrono::seconds(10));
    session.etcd_pid = 0;
  }
  if (session.scratch_made) {
    std::error_code ec;
    fs::remove_all(session.paths.root, ec);
    if (ec) errors.push_back("remove " + session.paths.root.string() + ": " + ec.message());
    session.scratch_made = false;
  }
  session.lock.reset();
  return errors;
}

// The last lines of the throwaway etcd's log that say why it failed.
std::string etcd_said(const fs::path& log) {
  auto text = io::read_file(log, 4 << 20);
  if (!text) return "";
  // zap's JSON lines: the last "error" or "fatal" one, else the last line.
  std::string_view all = *text;
  for (const char* level : {R"("level":"fatal")", R"("level":"panic")", R"("level":"error")"}) {
    const auto at = all.rfind(level);
    if (at == std::string_view::npos) continue;
    const auto start = all.rfind('\n', at);
    const auto end = all.find('\n', at);
    return drill::last_line(all.substr(start == std::string_view::npos ? 0 : start + 1,
                                       end == std::string_view::npos ? all.npos : end - start));
  }
  return drill::last_line(all);
}

// Serializable for the live member: a learner serves no other read, and the
// counted revision is history every member it came from has applied.
pb::RangeRequest count_all(std::int64_t revision, bool serializable = false) {
  pb::RangeRequest r;
  r.set_key(std::string(1, '\0'));
  r.set_range_end(std::string(1, '\0'));
  r.set_count_only(true);
  r.set_revision(revision);
  r.set_serializable(serializable);
  return r;
}

}  // namespace

void DrillJob::publish_success(double unix_seconds, double duration_seconds) {
  metrics::WardenMetrics::set(context_.metrics.drill_last_success, unix_seconds);
  metrics::WardenMetrics::set(context_.metrics.drill_duration_seconds, duration_seconds);
}

void DrillJob::start() {
  asio::co_spawn(context_.executor, start_scan(context_.config->snapshot.dir), asio::detached);
}

Task<void> DrillJob::start_scan(fs::path dir) {
  struct Found {
    drill::Leftovers left;
    util::Result<std::optional<drill::LastDrill>> last;
  };
  try {
    auto op = offload(*context_.blocking, context_.executor, [dir] {
      const auto paths = drill::scratch_paths(dir);
      Found f{{}, drill::read_last_drill(paths)};
      // Only when no drill is running (a `job drill` beside the daemon).
      if (auto lock = drill::take_lock(paths)) f.left = drill::remove_leftovers(paths);
      return f;
    });
    const Found found = co_await std::move(op);
    for (const auto& n : found.left.notes) spdlog::info("drill: {}", n);
    for (const auto& e : found.left.errors) spdlog::warn("drill: {}", e);
    if (!found.last) {
      spdlog::warn("drill: {}", found.last.error());
    } else if (*found.last) {
      const auto& l = **found.last;
      publish_success(static_cast<double>(sched::unix_seconds(l.succeeded_at)), l.duration_seconds);
    }
  } catch (const std::exception& e) {
    spdlog::warn("drill: start-up scan of {}: {}", dir.string(), e.what());
  }
}

Task<JobResult> DrillJob::run() {
  auto config = context_.config;
  if (context_.etcd->cancelled()) co_return JobResult::skipped("stopping");
  auto session = std::make_shared<Session>();
  session->paths = drill::scratch_paths(config->snapshot.dir);
  DrillReport report;
  const auto t0 = SteadyClock::now();

  std::optional<JobResult> result;
  std::exception_ptr thrown;
  try {
    auto op = drill(config, session, report);
    result = co_await std::move(op);
  } catch (...) {
    thrown = std::current_exception();
  }
  // Always, whatever happened above.
  const auto c0 = SteadyClock::now();
  const bool had_scratch = session->scratch_made;
  auto cleanup =
      offload(*context_.blocking, context_.executor, [session] { return clean_up(*session); });
  const auto errors = co_await std::move(cleanup);
  std::string cleaned = session->started_etcd ? "throwaway etcd stopped, " : "";
  cleaned += had_scratch ? session->paths.root.string() + " removed" : "nothing was created";
  report.steps.push_back(
      {"cleanup", since(c0), errors.empty() ? cleaned : errors.front(), errors.empty()});
  report.total = since(t0);
  if (context_.board.activity.starts_with("drill: ")) {  // not another job's
    context_.board.activity.clear();
    if (context_.status_changed) context_.status_changed();
  }
  last_ = report;
  if (thrown) std::rethrow_exception(thrown);
  if (!errors.empty() && result && result->outcome == sched::Outcome::success) {
    result = JobResult::failure("drill passed, but its cleanup failed: " + errors.front());
  }
  co_return *result;
}

Task<JobResult> DrillJob::drill(std::shared_ptr<const config::Config> config,
                                std::shared_ptr<Session> session, DrillReport& report) {
  const auto& cfg = config->drill;
  auto show = [this](std::string what) {
    context_.board.activity = "drill: " + std::move(what);
    if (context_.status_changed) context_.status_changed();
  };
  auto failed = [&report](std::string step, std::optional<Seconds> took, std::string why) {
    report.steps.push_back({std::move(step), took, why, false});
    spdlog::warn("drill failed: {}", why);
    return JobResult::failure(std::move(why));
  };

  // 1. Which snapshot and which etcd; its bytes; the space.
  show("verifying the newest snapshot");
  const auto now = context_.clock.wall_now();
  const auto v0 = SteadyClock::now();
  auto choose_op = offload(*context_.blocking, context_.executor,
                           [config, session, now] { return choose(*config, *session, now); });
  auto chosen = co_await std::move(choose_op);
  if (!chosen && !session->nothing_to_drill.empty()) {
    co_return JobResult::skipped(session->nothing_to_drill);
  }
  if (!chosen) {
    const std::string& step = session->step;
    co_return failed(step, step == "verify" ? std::optional(since(v0)) : std::nullopt,
                     (step == "preflight" ? "preflight: " : "") + chosen.error());
  }
  report.notes = chosen->notes;
  const auto& info = chosen->info;
  report.about = "snapshot " + chosen->entry.path.filename().string() + " (revision " +
                 std::to_string(info.revision) + ", " + to_string(info.db_bytes) +
                 " database), etcd " + drill::to_string(chosen->tools.version) + " in " +
                 chosen->tools.where;
  report.steps.push_back({"verify", chosen->verify_took, chosen->verify_detail, true});
  report.steps.push_back({"preflight", std::nullopt,
                          to_string(chosen->free) + " free, " + to_string(chosen->need.total) +
                              " needed (" + chosen->need.breakdown + ")",
                          true});

  // 2. Restore.
  auto ports = drill::pick_ports();
  if (!ports) co_return failed("restore", std::nullopt, "free loopback ports: " + ports.error());
  show("restoring " + chosen->entry.path.filename().string());
  const auto r0 = SteadyClock::now();
  const Chosen c = *chosen;
  const drill::Throwaway t = *ports;
  auto restore_op = offload(*context_.blocking, context_.executor,
                            [c, t, config, session] { return restore(c, t, *config, *session); });
  auto restored = co_await std::move(restore_op);
  const Seconds restore_took = since(r0);
  if (!restored) co_return failed("restore", restore_took, restored.error());
  report.steps.push_back({"restore", restore_took,
                          chosen->tools.restore_tool.filename().string() +
                              " snapshot restore into " + session->paths.data.string(),
                          true});

  // 3. Start, and wait until it answers a linearizable read.
  show("waiting for the throwaway etcd on " + t.client_url());
  const auto s0 = SteadyClock::now();
  auto start_op = offload(*context_.blocking, context_.executor,
                          [c, t, session] { return start_etcd(c, t, *session); });
  auto started = co_await std::move(start_op);
  if (!started) co_return failed("start", since(s0), started.error());

  config::Etcd target;
  target.endpoints = {t.client_url()};
  target.auth = config->etcd.auth;  // the snapshot holds the cluster's users
  target.dial_timeout = std::chrono::seconds(2);
  target.request_timeout = std::chrono::seconds(2);  // each try; start_timeout bounds them all
  auto created = etcd::Client::create(target, context_.executor);
  if (!created) co_return failed("start", since(s0), created.error());
  auto throwaway = *created;
  std::int64_t revision = 0;
  std::string last_error = "no answer yet";
  const auto deadline = s0 + cfg.start_timeout;
  while (true) {
    if (context_.etcd->cancelled()) co_return JobResult::skipped("stopping");
    if (session->etcd_pid > 0) {
      if (auto ended = drill::try_reap(session->etcd_pid)) {
        session->etcd_pid = 0;
        const std::string said = etcd_said(session->paths.log);
        co_return failed("start", since(s0),
                         chosen->tools.etcd.string() + " exited (" + ended->describe() + ")" +
                             (said.empty() ? std::string() : ": " + said));
      }
    }
    auto read_op = throwaway->range(count_all(0));
    auto read = co_await std::move(read_op);
    if (read) {
      revision = read->header().revision();
      break;
    }
    last_error = read.error().to_string();
    if (SteadyClock::now() >= deadline) {
      throwaway->cancel_all();
      co_return failed("start", since(s0),
                       chosen->tools.etcd.string() + " did not answer within " +
                           config::format_duration(cfg.start_timeout) +
                           " (drill.start_timeout): " + last_error);
    }
    auto nap = pause_for(context_.executor, std::chrono::milliseconds(200));
    co_await std::move(nap);
  }
  const Seconds start_took = since(s0);
  const Seconds rto = since(r0);
  report.steps.push_back({"start", start_took, "answered on " + t.client_url(), true});

  // 4. What it serves, against the live cluster where that can tell.
  show("comparing the restored etcd with the live cluster");
  const auto revision_check = drill::check_revision(revision, info.revision);
  report.steps.push_back({"revision", std::nullopt, revision_check.line, revision_check.ok});

  auto count_op = throwaway->range(count_all(revision));
  auto counted = co_await std::move(count_op);
  if (!counted)
    co_return failed("keys", std::nullopt, "count keys: " + counted.error().to_string());
  auto live = context_.etcd;
  std::optional<std::int64_t> live_at, live_now;
  auto live_at_op = live->range(count_all(revision, true));
  auto at = co_await std::move(live_at_op);
  if (at) live_at = at->count();
  if (!at) {
    auto now_op = live->range(count_all(0, true));
    auto n = co_await std::move(now_op);
    if (n) live_now = n->count();
  }
  const auto keys_check = drill::check_key_count(counted->count(), revision, live_at, live_now);
  report.steps.push_back({"keys", std::nullopt, keys_check.line, keys_check.ok});

  std::optional<std::uint32_t> restored_hash;
  std::int64_t restored_compact = 0;
  auto hash_op = throwaway->hash_kv(t.client_url(), revision, config->consistency.hash_timeout);
  auto hashed = co_await std::move(hash_op);
  if (hashed) {
    restored_hash = hashed->hash();
    restored_compact = hashed->compact_revision();
  } else if (!hashed.error().compacted()) {
    co_return failed("hash", std::nullopt,
                     "HashKV on the restored etcd: " + hashed.error().to_string());
  }
  std::vector<drill::LiveHash> answers;
  auto probe = probe_cluster(live);
  auto view = co_await std::move(probe);
  if (view) {
    for (const auto& m : view->members) {
      if (m.is_learner || m.url.empty()) continue;
      drill::LiveHash h{label(m)};
      auto op = live->hash_kv(m.url, revision, config->consistency.hash_timeout);
      auto a = co_await std::move(op);
      if (a) {
        h.answered = true;
        h.hash = a->hash();
        h.compact_revision = a->compact_revision();
      } else {
        h.compacted_past = a.error().compacted();
        h.error = a.error().to_string();
      }
      answers.push_back(std::move(h));
    }
  }
  auto hash_check = drill::check_hash(revision, restored_hash, restored_compact, answers);
  if (!view) hash_check.line = "not compared: cannot see the live cluster: " + view.error();
  report.steps.push_back({"hash", std::nullopt, hash_check.line, hash_check.ok});
  throwaway->cancel_all();

  for (const auto* check : {&revision_check, &keys_check}) {
    if (!check->ok) co_return JobResult::failure(check->line);
  }
  if (!hash_check.ok) co_return JobResult::failure(hash_check.line);

  // 5. Recorded, so a restart does not forget it.
  const auto done_at = context_.clock.wall_now();
  drill::LastDrill last{done_at, rto.count(), chosen->entry.path.filename().string()};
  auto paths = session->paths;
  auto record_op = offload(*context_.blocking, context_.executor,
                           [paths, last] { return drill::write_last_drill(paths, last); });
  auto recorded = co_await std::move(record_op);
  if (!recorded) spdlog::warn("drill: {}", recorded.error());
  publish_success(static_cast<double>(sched::unix_seconds(done_at)), rto.count());
  std::string summary = chosen->entry.path.filename().string() + " restored and served by etcd " +
                        drill::to_string(chosen->tools.version) + " in " + seconds_text(rto) +
                        ": revision " + std::to_string(revision) + ", " +
                        std::to_string(counted->count()) + " keys, hash " +
                        (hash_check.compared ? "matches the live cluster" : "not compared");
  spdlog::info("drill ok: {}", summary);
  co_return JobResult::success(summary);
}

void DrillJob::print_report(std::ostream& out) const {
  if (!last_) return;
  const auto& r = *last_;
  out << "\n";
  if (!r.about.empty()) out << r.about << "\n";
  char buf[64];
  for (const auto& s : r.steps) {
    const std::string took = s.took ? seconds_text(*s.took) : "";
    std::snprintf(buf, sizeof buf, "%-10s %8s  %s", s.name.c_str(), took.c_str(),
                  s.ok ? "" : "FAILED: ");
    out << buf << s.detail << "\n";
  }
  std::snprintf(buf, sizeof buf, "%-10s %8s", "total", seconds_text(r.total).c_str());
  out << buf << "\n";
  for (const auto& n : r.notes) out << "note: " << n << "\n";
}

}  // namespace etcd_warden::jobs
