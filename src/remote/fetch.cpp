#include "etcd_warden/remote/fetch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "etcd_warden/io/error.hpp"
#include "etcd_warden/io/file.hpp"
#include "etcd_warden/io/unique_fd.hpp"
#include "etcd_warden/snapshot/naming.hpp"
#include "etcd_warden/snapshot/verify.hpp"

namespace etcd_warden::remote {

namespace {

using Clock = std::chrono::steady_clock;

std::string prefixed(const Target& t, const std::string& what) {
  return "target '" + t.config.name + "': " + what;
}

}  // namespace

util::Result<std::vector<RemoteEntry>> list_remote(const Target& target) {
  objstore::S3Client client = target.client(nullptr);
  const auto deadline = Clock::now() + std::min<std::chrono::milliseconds>(target.config.timeout,
                                                                           std::chrono::minutes(2));
  auto listing = client.list_objects(target.config.s3.prefix, deadline);
  if (!listing) return util::fail(listing.error().message);
  return remote_entries(*listing, target.config.s3.prefix, "");
}

util::Result<Fetched> fetch_snapshot(const Target& target, std::string_view name,
                                     const std::filesystem::path& dest,
                                     const std::atomic<bool>* stop) {
  if (!snapshot::parse_snapshot_file_name(name)) {
    return util::fail(prefixed(
        target, "'" + std::string(name) + "' is not a snapshot name (see `snapshot list`)"));
  }
  const auto deadline = Clock::now() + target.config.timeout;
  objstore::S3Client client = target.client(stop);
  const std::string key = object_key(target.config.s3.prefix, name);

  auto sidecar_text = client.get_text(sidecar_key(key), deadline);
  if (!sidecar_text) {
    if (sidecar_text.error().not_found()) {
      return util::fail(prefixed(
          target, client.object_name(key) + " has no sidecar: it is not a verified upload"));
    }
    return util::fail(sidecar_text.error().message);
  }
  auto info = snapshot::parse_sidecar(*sidecar_text);
  if (!info) {
    return util::fail(prefixed(target, client.object_name(sidecar_key(key)) + ": " + info.error()));
  }
  if (info->file != name) {
    return util::fail(prefixed(target, client.object_name(sidecar_key(key)) + " describes " +
                                           info->file + ", not " + std::string(name)));
  }

  std::error_code ec;
  const std::filesystem::path file =
      std::filesystem::is_directory(dest, ec) ? dest / std::string(name) : dest;
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
  if (std::filesystem::exists(file, ec)) return util::fail(file.string() + ": already exists");
  const std::filesystem::path partial = dir / snapshot::partial_file_name(file.filename().string());
  io::UniqueFd fd(::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) return util::fail(partial.string() + ": " + io::errno_text(errno));
  struct Cleanup {
    const std::filesystem::path& path;
    bool armed = true;
    ~Cleanup() {
      if (armed) ::unlink(path.c_str());
    }
  } cleanup{partial};

  std::uint64_t received = 0;
  const objstore::BodySink sink = [&](std::span<const std::byte> chunk) -> util::Status {
    received += chunk.size();
    if (received > info->file_bytes.value) {
      return util::fail(client.object_name(key) + " is larger than its sidecar says");
    }
    return io::write_all(fd.get(), chunk, partial);
  };
  const std::function<util::Status()> restart = [&]() -> util::Status {
    received = 0;
    if (::ftruncate(fd.get(), 0) != 0 || ::lseek(fd.get(), 0, SEEK_SET) != 0) {
      return util::fail(partial.string() + ": truncate: " + io::errno_text(errno));
    }
    return {};
  };
  if (auto got = client.get_object(key, sink, restart, deadline); !got) {
    return util::fail(got.error().message);
  }
  if (received != info->file_bytes.value) {
    return util::fail(prefixed(target, client.object_name(key) + ": got " +
                                           std::to_string(received) + " bytes, the sidecar says " +
                                           std::to_string(info->file_bytes.value)));
  }
  if (auto synced = io::sync_and_close(fd, partial); !synced) return util::fail(synced.error());

  auto verified = snapshot::verify_file(partial);
  if (!verified)
    return util::fail(
        prefixed(target, "downloaded " + std::string(name) + ": " + verified.error()));
  if (verified->sha256 != info->sha256) {
    return util::fail(prefixed(target, "downloaded " + std::string(name) + ": sha256 " +
                                           verified->sha256 + ", the sidecar says " +
                                           info->sha256));
  }
  if (auto renamed = io::rename_noreplace(partial, file); !renamed) {
    return util::fail(renamed.error());
  }
  cleanup.armed = false;
  if (auto synced = io::fsync_dir(dir); !synced) return util::fail(synced.error());
  Fetched fetched{file, *info};
  // The local sidecar records the check just done.
  fetched.info.file = file.filename().string();
  fetched.info.verified_at =
      std::chrono::time_point_cast<sched::WallTime::duration>(std::chrono::system_clock::now());
  fetched.info.recheck_failed.clear();
  if (auto wrote = snapshot::write_sidecar(snapshot::sidecar_path(file), fetched.info); !wrote) {
    return util::fail(wrote.error());
  }
  return fetched;
}

}  // namespace etcd_warden::remote
