#include "etcd_warden/drill/scratch.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "etcd_warden/io/error.hpp"
#include "etcd_warden/io/file.hpp"
#include "etcd_warden/snapshot/sidecar.hpp"

namespace etcd_warden::drill {

namespace fs = std::filesystem;

namespace {

// Whether /proc/PID/cmdline mentions `needle`: a pid in etcd.pid is trusted
// only while it still runs our etcd (pids are reused).
bool cmdline_mentions(const fs::path& proc_root, pid_t pid, const std::string& needle) {
  auto text = io::read_file(proc_root / std::to_string(pid) / "cmdline", std::size_t{64} << 10);
  if (!text) return false;
  for (char& c : *text) {
    if (c == '\0') c = ' ';
  }
  return text->find(needle) != std::string::npos;
}

bool alive(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

}  // namespace

ScratchPaths scratch_paths(const fs::path& snapshot_dir) {
  ScratchPaths p;
  p.root = snapshot_dir / ".drill";
  p.snapshot_copy = p.root / "snapshot.db";
  p.data = p.root / "data";
  p.log = p.root / "etcd.log";
  p.pid_file = p.root / "etcd.pid";
  p.lock = snapshot_dir / ".drill.lock";
  p.state = snapshot_dir / ".drill.json";
  return p;
}

util::Result<io::UniqueFd> take_lock(const ScratchPaths& paths,
                                     std::chrono::milliseconds patience) {
  io::UniqueFd fd(::open(paths.lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return util::fail(io::sys_error("open", paths.lock, errno));
  const auto until = std::chrono::steady_clock::now() + patience;
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // on the blocking pool
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return util::fail("another drill is running (" + paths.lock.string() + " is locked)");
    }
    return util::fail(io::sys_error("flock", paths.lock, errno));
  }
  return fd;
}

Leftovers remove_leftovers(const ScratchPaths& paths, const fs::path& proc_root) {
  Leftovers out;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(paths.root, ec))) return out;
  if (auto text = io::read_file(paths.pid_file, 64)) {
    const auto pid = static_cast<pid_t>(std::atol(text->c_str()));
    if (pid > 1 && cmdline_mentions(proc_root, pid, paths.data.string())) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      // Not our child (an earlier warden's): wait for it to go, briefly.
      for (int i = 0; i < 100 && alive(pid); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // on the blocking pool
      }
      out.notes.push_back("killed the throwaway etcd (pid " + std::to_string(pid) +
                          ") of an unfinished drill");
    }
  }
  const auto removed = fs::remove_all(paths.root, ec);
  if (ec) {
    out.errors.push_back("remove " + paths.root.string() + ": " + ec.message());
  } else {
    out.notes.push_back("removed " + paths.root.string() + " of an unfinished drill (" +
                        std::to_string(removed) + " files)");
  }
  return out;
}

util::Status make_scratch(const ScratchPaths& paths) {
  if (::mkdir(paths.root.c_str(), 0700) != 0) {
    return util::fail(io::sys_error("mkdir", paths.root, errno));
  }
  return {};
}

util::Status write_pid(const ScratchPaths& paths, pid_t pid) {
  io::UniqueFd fd(
      ::open(paths.pid_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return util::fail(io::sys_error("create", paths.pid_file, errno));
  const std::string text = std::to_string(pid) + "\n";
  if (auto w = io::write_all(fd.get(), std::as_bytes(std::span(text)), paths.pid_file); !w)
    return w;
  return io::sync_and_close(fd, paths.pid_file);
}

std::string to_json(const LastDrill& last) {
  nlohmann::ordered_json j;
  j["succeeded_at"] = snapshot::format_rfc3339(last.succeeded_at);
  j["duration_seconds"] = last.duration_seconds;
  j["snapshot"] = last.snapshot;
  return j.dump(2) + "\n";
}

util::Result<LastDrill> parse_last_drill(std::string_view json) {
  const auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return util::fail("not a JSON object");
  LastDrill last;
  const auto at = j.find("succeeded_at");
  if (at == j.end() || !at->is_string()) return util::fail("key 'succeeded_at': missing");
  const auto when = snapshot::parse_rfc3339(at->get<std::string>());
  if (!when) return util::fail("key 'succeeded_at': not an RFC 3339 time");
  last.succeeded_at = *when;
  const auto took = j.find("duration_seconds");
  if (took == j.end() || !took->is_number() || took->get<double>() < 0) {
    return util::fail("key 'duration_seconds': missing or negative");
  }
  last.duration_seconds = took->get<double>();
  if (const auto s = j.find("snapshot"); s != j.end() && s->is_string()) {
    last.snapshot = s->get<std::string>();
  }
  return last;
}

util::Status write_last_drill(const ScratchPaths& paths, const LastDrill& last) {
  const fs::path tmp = paths.state.string() + ".partial";
  ::unlink(tmp.c_str());
  io::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return util::fail(io::sys_error("create", tmp, errno));
  const std::string text = to_json(last);
  auto done = io::write_all(fd.get(), std::as_bytes(std::span(text)), tmp);
  if (done) done = io::sync_and_close(fd, tmp);
  if (done && ::rename(tmp.c_str(), paths.state.c_str()) != 0) {
    done = util::fail("rename " + tmp.string() + " -> " + paths.state.string() + ": " +
                      io::errno_text(errno));
  }
  if (!done) {
    fd.reset();
    ::unlink(tmp.c_str());
    return done;
  }
  return io::fsync_dir(paths.state.parent_path());
}

util::Result<std::optional<LastDrill>> read_last_drill(const ScratchPaths& paths) {
  auto text = io::read_file(paths.state, std::size_t{64} << 10);
  if (!text) {
    if (text.error().missing()) return std::optional<LastDrill>{};
    return util::fail(text.error().message);
  }
  auto last = parse_last_drill(*text);
  if (!last) return util::fail(paths.state.string() + ": " + last.error());
  return std::optional<LastDrill>{*last};
}

}  // namespace etcd_warden::drill
