#include "etcd_warden/snapshot/catalog.hpp"
#include "etcd_warden/util/result.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <system_error>

#include "etcd_warden/io/error.hpp"
#include "etcd_warden/io/unique_fd.hpp"
#include "file_io.hpp"

namespace etcd_warden::snapshot {

namespace {

using io::sys_error;

sched::WallTime mtime_of(const struct stat& st) {
  return sched::WallTime{std::chrono::duration_cast<sched::WallTime::duration>(
      std::chrono::seconds{st.st_mtim.tv_sec} + std::chrono::nanoseconds{st.st_mtim.tv_nsec})};
}

std::chrono::sys_seconds whole_seconds(sched::WallTime t) {
  return std::chrono::floor<std::chrono::seconds>(t);
}

// The name inside ".<name>.partial", if it is one of ours.
bool is_our_partial(std::string_view n) {
  constexpr std::string_view kSuffix = ".partial";
  if (!n.starts_with('.') || !n.ends_with(kSuffix)) return false;
  n.remove_prefix(1);
  n.remove_suffix(kSuffix.size());
  if (n.ends_with(".json")) n.remove_suffix(5);  // a sidecar being written
  return parse_snapshot_file_name(n).has_value();
}

// How far past its verified_at a sidecar's mtime may be. write_sidecar sets
// it to verified_at exactly, so this only covers coarse timestamps (2 s on
// some filesystems) and sidecars from before it did that (written at the end
// of their run, a few seconds after taken_at + duration).
constexpr auto kSidecarWriteSlack = std::chrono::minutes(2);

const char* compression_name(config::Compression c) {
  return c == config::Compression::zstd ? "zstd" : "none";
}

// An uncompressed snapshot ends in etcd's sha256 of the database: one read of
// 32 bytes compares it with the sidecar's, so an edited sha256 or a damaged
// end shows in a listing. "" for zstd files (the trailer is inside the frame)
// and when it cannot be read (the full check says why).
std::string plain_trailer(const SnapshotEntry& e) {
  constexpr std::size_t kTrailer = 32;
  if (e.name.compression != config::Compression::none || e.file_bytes.value < kTrailer) return "";
  io::UniqueFd fd(::open(e.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return "";
  std::array<unsigned char, kTrailer> bytes{};
  const auto at = static_cast<off_t>(e.file_bytes.value - kTrailer);
  if (::pread(fd.get(), bytes.data(), bytes.size(), at) != static_cast<ssize_t>(kTrailer))
    return "";
  return detail::hex(bytes);
}

void check_sidecar(SnapshotEntry& e) {
  const auto side = sidecar_path(e.path);
  struct stat st {};
  if (::stat(side.c_str(), &st) != 0) {
    e.problem =
        errno == ENOENT ? "no sidecar " + side.filename().string() : sys_error("stat", side, errno);
    return;
  }
  auto read = read_sidecar(side);
  if (!read) {
    e.problem = read.error();
    return;
  }
  e.info = *std::move(read);
  const std::string file = e.path.filename().string();
  if (e.info->file != file) {
    e.problem = side.string() + ": describes " + e.info->file + ", not " + file;
  } else if (e.info->file_bytes != e.file_bytes) {
    e.problem = side.string() + ": says " + std::to_string(e.info->file_bytes.value) +
                " bytes, the file has " + std::to_string(e.file_bytes.value);
  } else if (e.info->revision != e.name.revision) {
    e.problem = side.string() + ": says revision " + std::to_string(e.info->revision) +
                ", the name says " + std::to_string(e.name.revision);
  } else if (e.info->compression != e.name.compression) {
    e.problem = side.string() + ": says compression " + compression_name(e.info->compression) +
                ", the name says " + compression_name(e.name.compression);
  } else if (e.info->verified_at > std::chrono::system_clock::now() + kSidecarWriteSlack) {
    e.problem = side.string() + ": says its check was at " + format_rfc3339(e.info->verified_at) +
                ", which has not come yet";
  } else if (auto trailer = plain_trailer(e); !trailer.empty() && trailer != e.info->sha256) {
    e.problem = e.path.filename().string() + " ends in the sha256 " + trailer +
                ", its sidecar says " + e.info->sha256;
  } else if (!e.info->recheck_failed.empty()) {
    e.problem = "re-check failed at " + e.info->recheck_failed;
  } else if (whole_seconds(e.mtime) > whole_seconds(mtime_of(st))) {
    // The sidecar is (re)written after the file's bytes were checked (at
    // write time, by `snapshot verify` or the scheduled re-check): a file
    // changed later holds bytes nobody checked, whatever its sidecar says.
    // In whole seconds, as the sidecar records the check (a sidecar
    // rewritten from one it read has a whole-second mtime).
    e.modified_after_check = true;
    e.problem = e.path.filename().string() +
                " was modified after its sidecar was written; run `etcd-warden snapshot verify " +
                e.path.string() + "`";
  } else if (mtime_of(st) > e.info->verified_at + kSidecarWriteSlack) {
    // And the sidecar's mtime is that check: one written later (an edited
    // sha256, a copy made by hand) vouches for bytes nobody compared with it.
    e.modified_after_check = true;
    e.problem = side.filename().string() + " was written after the check it records (" +
                format_rfc3339(e.info->verified_at) + "); run `etcd-warden snapshot verify " +
                e.path.string() + "`";
  }
}

}  // namespace

util::Result<std::vector<SnapshotEntry>> list_snapshots(const std::filesystem::path& dir) {
  std::vector<SnapshotEntry> out;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return out;
  if (ec) return util::fail("list " + dir.string() + ": " + ec.message());
  for (const std::filesystem::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) break;
    const auto name = parse_snapshot_file_name(it->path().filename().string());
    if (!name) continue;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // removed while we looked
      return util::fail(sys_error("stat", it->path(), errno));
    }
    if (!S_ISREG(st.st_mode)) continue;  // symlinks and the like are not ours
    SnapshotEntry e;
    e.path = it->path();
    e.name = *name;
    e.file_bytes = Bytes{static_cast<std::uint64_t>(st.st_size)};
    e.mtime = mtime_of(st);
    check_sidecar(e);
    out.push_back(std::move(e));
  }
  if (ec) return util::fail("list " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const SnapshotEntry& a, const SnapshotEntry& b) {
    if (a.name.taken != b.name.taken) return a.name.taken > b.name.taken;
    if (a.name.revision != b.name.revision) return a.name.revision > b.name.revision;
    return a.path > b.path;
  });
  return out;
}

namespace {

// Calls `found(path, size)` for each of our partials in `dir` that no
// writer holds, with its exclusive lock held: the partial-file protocol
// (file_io.hpp) makes that the only safe moment to remove one.
template <class Found>
void for_each_stale_partial(const std::filesystem::path& dir, Found found) {
  std::error_code ec;
  std::vector<std::filesystem::path> names;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (is_our_partial(it->path().filename().string())) names.push_back(it->path());
  }
  std::sort(names.begin(), names.end());
  for (const auto& path : names) {
    // O_NONBLOCK: a FIFO with a partial's name must not block start-up.
    io::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd.valid()) continue;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    // A writer in this or another process holds an exclusive lock on its partial.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
    found(path, Bytes{static_cast<std::uint64_t>(st.st_size)});
  }
}

}  // namespace

std::vector<std::filesystem::path> stale_partials(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for_each_stale_partial(dir, [&](const std::filesystem::path& p, Bytes) { out.push_back(p); });
  return out;
}

std::string CleanupResult::removed_note(std::size_t i) const {
  return "removed stale partial " + removed[i].string() + " (" + to_string(removed_bytes[i]) + ")";
}

CleanupResult remove_stale_partials(const std::filesystem::path& dir) {
  CleanupResult r;
  for_each_stale_partial(dir, [&](const std::filesystem::path& p, Bytes size) {
    if (::unlink(p.c_str()) == 0) {
      r.removed.push_back(p);
      r.removed_bytes.push_back(size);
    } else if (errno != ENOENT) {
      r.errors.push_back(sys_error("unlink", p, errno));
    }
  });
  return r;
}

}  // namespace etcd_warden::snapshot
