#include "etcd_warden/snapshot/actions.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "etcd_warden/snapshot/catalog.hpp"
#include "etcd_warden/snapshot/naming.hpp"
#include "etcd_warden/snapshot/verify.hpp"
#include "etcd_warden/util/errno_text.hpp"

namespace etcd_warden::snapshot {

namespace fs = std::filesystem;

namespace {

std::string errno_text(const std::string& what, const fs::path& path) {
  return what + " " + path.string() + ": " + util::errno_text(errno);
}

bool fsync_path(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// Copies src to dst (created 0600, must not exist), then fsyncs dst.
std::optional<std::string> copy_file_synced(const fs::path& src, const fs::path& dst) {
  const int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return errno_text("open", src);
  const int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    ::close(in);
    return errno_text("create", dst);
  }
  std::optional<std::string> error;
  std::vector<char> buf(1 << 20);
  while (!error) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      error = errno_text("read", src);
      break;
    }
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out, buf.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0) {
        error = errno_text("write", dst);
        break;
      }
      done += w;
    }
  }
  if (!error && ::fsync(out) != 0) error = errno_text("fsync", dst);
  ::close(in);
  if (::close(out) != 0 && !error) error = errno_text("close", dst);
  return error;
}

}  // namespace

Bytes space_needed(Bytes db_size) {
  return db_size + Bytes{db_size.value / 10} + Bytes::mib(16);
}

Preflight preflight(const fs::path& dir, Bytes needed, bool cleanup) {
  Preflight out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) {
      out.error = "create " + dir.string() + ": " + ec.message();
      return out;
    }
    ::chmod(dir.c_str(), 0700);
  }
  if (cleanup) {
    auto cleaned = remove_stale_partials(dir);
    for (std::size_t i = 0; i < cleaned.removed.size(); ++i) {
      out.notes.push_back(cleaned.removed_note(i));
    }
    for (const auto& e : cleaned.errors) out.notes.push_back(e);
  }
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) {
    out.error = errno_text("statvfs", dir);
    return out;
  }
  const Bytes free{static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize};
  if (free < needed) {
    out.insufficient = "not enough free space in " + dir.string() + ": " + to_string(free) +
                       " free, need " + to_string(needed) + " (database size + 10% + 16MiB)";
  }
  return out;
}

std::optional<std::string> copy_snapshot(const fs::path& file, const SnapshotInfo& info,
                                         const fs::path& dir) {
  auto pre = preflight(dir, Bytes{info.file_bytes.value} + Bytes::mib(1), false);
  if (!pre.error.empty()) return pre.error;
  if (!pre.insufficient.empty()) return pre.insufficient;
  const fs::path final_path = dir / file.filename();
  const fs::path partial = dir / partial_file_name(file.filename().string());
  if (auto error = copy_file_synced(file, partial)) {
    fs::remove(partial);
    return error;
  }
  // Verify the copy itself: a flaky NFS write must not pass for a backup.
  auto verified = verify_file(partial);
  if (!verified.ok) {
    fs::remove(partial);
    return "copy " + partial.string() + " does not verify: " + verified.error;
  }
  std::error_code ec;
  if (fs::exists(final_path, ec)) {
    fs::remove(partial);
    return "copy " + final_path.string() + ": already exists";
  }
  fs::rename(partial, final_path, ec);
  if (ec) {
    fs::remove(partial);
    return "rename " + partial.string() + ": " + ec.message();
  }
  if (!fsync_path(dir, O_RDONLY | O_DIRECTORY)) return errno_text("fsync", dir);
  if (auto error = write_sidecar(sidecar_path(final_path), info)) return error;
  return std::nullopt;
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
                     std::chrono::milliseconds timeout) {
  HookOutcome out;
  const auto started = std::chrono::steady_clock::now();
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
    out.error = std::string("fork: ") + util::errno_text(errno);
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
    if (std::chrono::steady_clock::now() - started > timeout) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      out.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a pool thread polling its child
  }
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return out;
}

}  // namespace etcd_warden::snapshot
