#include "etcd_warden/snapshot/actions.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "etcd_warden/io/disk.hpp"
#include "etcd_warden/io/error.hpp"
#include "etcd_warden/io/file.hpp"
#include "etcd_warden/snapshot/catalog.hpp"
#include "etcd_warden/snapshot/naming.hpp"
#include "etcd_warden/snapshot/verify.hpp"
#include "file_io.hpp"

namespace etcd_warden::snapshot {

namespace fs = std::filesystem;

Bytes space_needed(Bytes db_size) {
  return db_size + Bytes{db_size.value / 10} + Bytes::mib(16);
}

util::Result<Preflight> preflight(const fs::path& dir, Bytes needed, bool cleanup) {
  Preflight out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return util::fail("create " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  if (cleanup) {
    auto cleaned = remove_stale_partials(dir);
    for (std::size_t i = 0; i < cleaned.removed.size(); ++i) {
      out.notes.push_back(cleaned.removed_note(i));
    }
    for (const auto& e : cleaned.errors) out.notes.push_back(e);
  }
  const auto free = io::free_space(dir);
  if (!free) return util::fail(free.error());
  if (*free < needed) {
    out.insufficient = "not enough free space in " + dir.string() + ": " + to_string(*free) +
                       " free, need " + to_string(needed) + " (database size + 10% + 16MiB)";
  }
  return out;
}

util::Status copy_snapshot(const fs::path& file, const SnapshotInfo& info, const fs::path& dir) {
  auto pre = preflight(dir, Bytes{info.file_bytes.value} + Bytes::mib(1), false);
  if (!pre) return util::fail(pre.error());
  if (!pre->insufficient.empty()) return util::fail(pre->insufficient);
  const fs::path final_path = dir / file.filename();
  const fs::path partial = dir / partial_file_name(file.filename().string());
  // The partial-file protocol (file_io.hpp): locked until it has its final
  // name, so that a stale-partial cleanup here or in another process leaves
  // it alone.
  io::UniqueFd out;
  if (auto created = detail::create_locked_partial(partial, out); !created) return created;
  const auto fail = [&](std::string err) {
    out.reset();
    std::error_code ignored;
    fs::remove(partial, ignored);
    return util::fail(std::move(err));
  };
  if (auto copied = io::copy_into(file, out.get(), partial); !copied) return fail(copied.error());
  // Verify the copy itself: a flaky NFS write must not pass for a backup.
  if (auto verified = verify_file(partial); !verified) {
    return fail("copy " + partial.string() + " does not verify: " + verified.error());
  } else if (verified->sha256 != info.sha256) {
    return fail("copy " + partial.string() + " does not verify: sha256 " + verified->sha256 +
                " differs from the original's " + info.sha256);
  }
  if (auto renamed = io::rename_noreplace(partial, final_path); !renamed) {
    return fail("copy " + final_path.string() + ": " + renamed.error());
  }
  if (const int err = out.close_checked()) {
    return util::fail(io::sys_error("close", final_path, err));
  }
  if (auto synced = io::fsync_dir(dir); !synced) return synced;
  SnapshotInfo copy = info;
  copy.verified_at = std::chrono::system_clock::now();  // the copy's bytes, checked above
  return write_sidecar(sidecar_path(final_path), copy);
}

RetentionOutcome apply_retention(const fs::path& dir, const RetentionPolicy& policy,
                                 sched::WallTime now) {
  RetentionOutcome out;
  auto listed = list_snapshots(dir);
  if (!listed) {
    // An unreadable directory deletes nothing: half a list must not look like old snapshots.
    out.errors.push_back(listed.error());
    return out;
  }
  const auto& entries = *listed;
  std::vector<RetentionCandidate> candidates;
  candidates.reserve(entries.size());
  for (const auto& e : entries) {
    candidates.push_back({e.path.filename().string(), e.name.taken, e.verified()});
  }
  for (const auto& deletion : decide_retention(candidates, policy, now)) {
    const fs::path path = dir / deletion.name;
    std::error_code ec;
    fs::remove(path, ec);
    if (ec) {
      out.errors.push_back("remove " + path.string() + ": " + ec.message());
      continue;
    }
    fs::remove(sidecar_path(path), ec);
    out.deleted.push_back(deletion.name + " (" + deletion.reason + ")");
  }
  return out;
}

HookOutcome run_hook(const std::string& command, const fs::path& file, const SnapshotInfo& info,
                     std::chrono::milliseconds timeout, const sched::Clock& clock) {
  HookOutcome out;
  const auto started = clock.now();
  std::vector<std::string> env_strings{
      "ETCD_WARDEN_SNAPSHOT=" + file.string(),
      "ETCD_WARDEN_SNAPSHOT_REVISION=" + std::to_string(info.revision),
      "ETCD_WARDEN_SNAPSHOT_SIZE=" + std::to_string(info.file_bytes.value),
      "ETCD_WARDEN_SNAPSHOT_DB_SIZE=" + std::to_string(info.db_bytes.value),
      "ETCD_WARDEN_SNAPSHOT_SHA256=" + info.sha256,
      "ETCD_WARDEN_MEMBER=" + info.member,
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  };
  // The hook gets a clean environment: no NOTIFY_SOCKET (it must not speak
  // for us to systemd), nothing else of ours.
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    out.exit_code = -1;
    out.error = "fork: " + io::errno_text(errno);
    return out;
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so a timeout kills the whole pipeline
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    ::execve("/bin/sh", const_cast<char* const*>(argv), envp.data());
    ::_exit(127);
  }
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (clock.now() - started > timeout) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      out.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a pool thread polling its child
  }
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - started);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return out;
}

}  // namespace etcd_warden::snapshot
