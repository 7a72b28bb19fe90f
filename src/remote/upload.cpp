#include "etcd_warden/remote/upload.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "etcd_warden/io/error.hpp"
#include "etcd_warden/io/unique_fd.hpp"
#include "etcd_warden/remote/remote_catalog.hpp"
#include "etcd_warden/snapshot/naming.hpp"
#include "etcd_warden/snapshot/retention.hpp"

namespace etcd_warden::remote {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kMaxParts = 10000;  // S3's limit
// A failed upload's abort, and the clean-up before it, get their own time:
// the upload's deadline may be what just failed.
constexpr auto kCleanupTime = std::chrono::seconds(30);

std::string prefixed(const Target& t, const std::string& what) {
  return "target '" + t.config.name + "': " + what;
}

// All `size` bytes at `offset`, through EINTR and short reads.
util::Status read_at(int fd, std::byte* out, std::size_t size, std::uint64_t offset,
                     const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return util::fail(path.string() + ": read: " + io::errno_text(errno));
    if (n == 0) return util::fail(path.string() + ": shorter than its sidecar says");
    done += static_cast<std::size_t>(n);
  }
  return {};
}

objstore::Metadata object_metadata(const snapshot::SnapshotInfo& info) {
  return {{"etcd-sha256", info.sha256}, {"etcd-revision", std::to_string(info.revision)}};
}

// The parts of a multipart upload: this thread reads them in order into at
// most `in_flight` buffers, `in_flight` workers (each its own connection)
// send them. The first failure stops everyone.
class PartPipeline {
 public:
  PartPipeline(const Target& target, std::string key, std::string upload_id, int fd,
               std::filesystem::path path, std::uint64_t size, std::uint64_t part_size,
               objstore::Deadline deadline, const std::atomic<bool>* stop)
      : target_(target),
        key_(std::move(key)),
        upload_id_(std::move(upload_id)),
        fd_(fd),
        path_(std::move(path)),
        size_(size),
        part_size_(part_size),
        deadline_(deadline),
        stop_(stop) {}

  util::Result<std::vector<objstore::PartTag>> run(unsigned in_flight) {
    const auto parts = static_cast<int>((size_ + part_size_ - 1) / part_size_);
    tags_.resize(static_cast<std::size_t>(parts));
    const unsigned workers = std::min<unsigned>(in_flight, static_cast<unsigned>(parts));
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < workers; ++i) threads.emplace_back([this] { work(); });
    std::size_t allocated = 0;
    for (int number = 1; number <= parts; ++number) {
      std::unique_ptr<std::byte[]> buffer;
      {
        std::unique_lock lock(mutex_);
        while (!failed() && free_.empty() && allocated >= workers) {
          changed_.wait_for(lock, std::chrono::milliseconds(100));
          watch_stop();
        }
        if (failed()) break;
        if (!free_.empty()) {
          buffer = std::move(free_.back());
          free_.pop_back();
        }
      }
      if (!buffer) {
        buffer = std::make_unique_for_overwrite<std::byte[]>(part_size_);
        ++allocated;
      }
      const std::uint64_t offset = static_cast<std::uint64_t>(number - 1) * part_size_;
      const auto length = static_cast<std::size_t>(std::min(part_size_, size_ - offset));
      if (auto read = read_at(fd_, buffer.get(), length, offset, path_); !read) {
        fail(prefixed(target_, read.error()));
        break;
      }
      std::lock_guard lock(mutex_);
      queue_.push_back({number, std::move(buffer), length});
      changed_.notify_all();
    }
    {
      std::unique_lock lock(mutex_);
      reading_done_ = true;
      changed_.notify_all();
    }
    // Wait for the workers while still seeing a stop within 100 ms.
    {
      std::unique_lock lock(mutex_);
      while (busy_workers_done_ < workers) {
        changed_.wait_for(lock, std::chrono::milliseconds(100));
        watch_stop();
      }
    }
    for (auto& t : threads) t.join();
    if (!error_.empty()) return util::fail(error_);
    return tags_;
  }

 private:
  struct Part {
    int number;
    std::unique_ptr<std::byte[]> buffer;
    std::size_t length;
  };

  bool failed() const { return !error_.empty() || cancel_.load(); }
  void fail(std::string error) {
    std::lock_guard lock(mutex_);
    if (error_.empty()) error_ = std::move(error);
    cancel_ = true;
    changed_.notify_all();
  }
  // With mutex_ held.
  void watch_stop() {
    if (stop_ && stop_->load() && error_.empty()) {
      error_ = prefixed(target_, "upload of " + key_ + " stopped");
      cancel_ = true;
      changed_.notify_all();
    }
  }

  void work() {
    objstore::S3Client client = target_.client(&cancel_);
    for (;;) {
      Part part;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return failed() || !queue_.empty() || reading_done_; });
        if (failed() || queue_.empty()) break;
        part = std::move(queue_.front());
        queue_.pop_front();
      }
      auto tag = client.upload_part(key_, upload_id_, part.number,
                                    std::span(part.buffer.get(), part.length), deadline_);
      if (!tag) {
        fail(tag.error().message);
        break;
      }
      std::lock_guard lock(mutex_);
      tags_[static_cast<std::size_t>(part.number - 1)] = {part.number, *tag};
      free_.push_back(std::move(part.buffer));
      changed_.notify_all();
    }
    std::lock_guard lock(mutex_);
    ++busy_workers_done_;
    changed_.notify_all();
  }

  const Target& target_;
  const std::string key_;
  const std::string upload_id_;
  const int fd_;
  const std::filesystem::path path_;
  const std::uint64_t size_;
  const std::uint64_t part_size_;
  const objstore::Deadline deadline_;
  const std::atomic<bool>* stop_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Part> queue_;
  std::vector<std::unique_ptr<std::byte[]>> free_;
  std::vector<objstore::PartTag> tags_;
  std::string error_;
  std::atomic<bool> cancel_{false};  // the workers' clients stop on it
  bool reading_done_ = false;
  unsigned busy_workers_done_ = 0;
};

// Multipart uploads a crash (or a kill) left under our names.
void abort_stale_uploads(const Target& target, objstore::S3Client& client,
                         const snapshot::SnapshotInfo& info, const std::string& key,
                         sched::WallTime now, objstore::Deadline upload_deadline,
                         UploadReport& report) {
  const auto deadline = std::min(upload_deadline, Clock::now() + kCleanupTime);
  const std::string member_prefix =
      target.config.s3.prefix + "etcd-" + snapshot::sanitize_member_name(info.member) + "-";
  auto pending = client.list_multipart(member_prefix, deadline);
  if (!pending) {
    // Some S3 servers (s3rver, older gateways) do not implement the call.
    const auto& e = pending.error();
    if (e.http_status == 501 || e.http_status == 405 || e.code == "NotImplemented") {
      report.notes.push_back(prefixed(target,
                                      "the server cannot list unfinished multipart "
                                      "uploads; crashed uploads are not cleaned up"));
    } else {
      report.warnings.push_back(e.message);
    }
    return;
  }
  std::vector<StaleUpload> found;
  for (const auto& u : *pending) {
    found.push_back({u.key, u.upload_id, snapshot::parse_rfc3339(u.initiated)});
  }
  for (const auto& u : stale_uploads(found, target.config.s3.prefix, info.member, key, now,
                                     target.config.timeout)) {
    if (auto aborted = client.abort_multipart(u.key, u.upload_id, deadline); !aborted) {
      report.warnings.push_back(aborted.error().message);
    } else {
      report.notes.push_back(
          prefixed(target, "aborted an unfinished upload of " + u.key + " left by an earlier run"));
    }
  }
}

void apply_retention(const Target& target, objstore::S3Client& client,
                     const snapshot::SnapshotInfo& info, sched::WallTime now,
                     UploadReport& report) {
  const auto deadline = Clock::now() + kCleanupTime;
  const std::string& prefix = target.config.s3.prefix;
  auto listing = client.list_objects(
      prefix + "etcd-" + snapshot::sanitize_member_name(info.member) + "-", deadline);
  if (!listing) {
    report.warnings.push_back(listing.error().message + " (retention skipped)");
    return;
  }
  const auto entries = remote_entries(*listing, prefix, info.member);
  const auto candidates = retention_candidates(entries);
  const snapshot::RetentionPolicy policy{target.config.keep_last, target.config.max_age};
  for (const auto& d : snapshot::decide_retention(candidates, policy, now)) {
    const std::string key = object_key(prefix, d.name);
    // The sidecar first: what is listed with a sidecar is always whole.
    if (auto gone = client.delete_object(sidecar_key(key), deadline); !gone) {
      report.warnings.push_back(gone.error().message);
      continue;
    }
    if (auto gone = client.delete_object(key, deadline); !gone) {
      report.warnings.push_back(gone.error().message);
      continue;
    }
    report.notes.push_back(prefixed(target, "retention deleted " + key + " (" + d.reason + ")"));
  }
}

}  // namespace

objstore::S3Client Target::client(const std::atomic<bool>* stop) const {
  objstore::ClientOptions options;
  options.target = config.name;
  options.ca = config.s3.ca;
  options.stop = stop;
  return objstore::S3Client(endpoint, credentials, std::move(options));
}

util::Result<Target> open_target(const config::UploadTarget& target) {
  Target t;
  t.config = target;
  auto endpoint = objstore::resolve_endpoint(target.s3);
  if (!endpoint) return util::fail(prefixed(t, endpoint.error()));
  t.endpoint = std::move(*endpoint);
  auto credentials = config::read_credentials(target.s3.credentials_file, &t.credentials_warning);
  if (!credentials) return util::fail(prefixed(t, credentials.error()));
  t.credentials = std::move(*credentials);
  if (!t.credentials_warning.empty()) t.credentials_warning = prefixed(t, t.credentials_warning);
  return t;
}

Bytes effective_part_size(Bytes part_size, Bytes file_bytes) {
  const std::uint64_t needed = (file_bytes.value + kMaxParts - 1) / kMaxParts;
  return Bytes{std::max(part_size.value, needed)};
}

util::Result<UploadReport> upload_snapshot(const Target& target, const std::filesystem::path& file,
                                           const snapshot::SnapshotInfo& info, sched::WallTime now,
                                           const std::atomic<bool>* stop) {
  const auto started = Clock::now();
  const auto deadline = started + target.config.timeout;
  UploadReport report;
  report.key = object_key(target.config.s3.prefix, info.file);
  objstore::S3Client client = target.client(stop);

  io::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0)
    return util::fail(prefixed(target, file.string() + ": " + io::errno_text(errno)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 ||
      static_cast<std::uint64_t>(st.st_size) != info.file_bytes.value) {
    return util::fail(prefixed(
        target, file.string() + ": its size is not the sidecar's " + to_string(info.file_bytes)));
  }
  const std::uint64_t size = info.file_bytes.value;
  report.bytes = info.file_bytes;

  abort_stale_uploads(target, client, info, report.key, now, deadline, report);

  const std::uint64_t part_size =
      effective_part_size(target.config.part_size, info.file_bytes).value;
  std::string etag;
  if (size <= part_size) {
    auto body = std::make_unique_for_overwrite<std::byte[]>(std::max<std::uint64_t>(size, 1));
    if (auto read = read_at(fd.get(), body.get(), size, 0, file); !read) {
      return util::fail(prefixed(target, read.error()));
    }
    auto put =
        client.put_object(report.key, std::span(body.get(), size), object_metadata(info), deadline);
    if (!put) return util::fail(put.error().message);
    etag = *put;
  } else {
    auto upload_id = client.create_multipart(report.key, object_metadata(info), deadline);
    if (!upload_id) return util::fail(upload_id.error().message);
    PartPipeline pipeline(target, report.key, *upload_id, fd.get(), file, size, part_size, deadline,
                          stop);
    auto tags = pipeline.run(std::max(1u, target.config.parts_in_flight));
    util::Result<std::string, objstore::S3Error> completed = objstore::S3Error{};
    if (tags) {
      report.parts = static_cast<unsigned>(tags->size());
      completed = client.complete_multipart(report.key, *upload_id, *tags, deadline);
    }
    if (!tags || !completed) {
      const std::string why = tags ? completed.error().message : tags.error();
      // Not under `stop`: a stopping daemon still tells the server to drop the parts.
      objstore::S3Client cleaner = target.client(nullptr);
      if (auto aborted =
              cleaner.abort_multipart(report.key, *upload_id, Clock::now() + kCleanupTime);
          !aborted) {
        return util::fail(why + "; and aborting the upload failed: " + aborted.error().message);
      }
      return util::fail(why + " (upload aborted)");
    }
    etag = *completed;
  }

  // What the server now says it holds, against what we sent.
  auto head = client.head_object(report.key, deadline);
  if (!head) return util::fail(head.error().message);
  std::string mismatch;
  if (head->size != size) {
    mismatch = "its size is " + std::to_string(head->size) + ", we sent " + std::to_string(size);
  } else if (head->metadata["etcd-sha256"] != info.sha256) {
    mismatch = "its etcd-sha256 metadata is '" + head->metadata["etcd-sha256"] + "', not ours";
  } else if (!etag.empty() && !head->etag.empty() && head->etag != etag) {
    mismatch = "its ETag is " + head->etag + ", the upload answered " + etag;
  }
  if (!mismatch.empty()) {
    return util::fail(prefixed(target, "HEAD " + client.object_name(report.key) +
                                           " after the upload: " + mismatch +
                                           " (no sidecar written: it stays unverified)"));
  }

  const std::string sidecar = snapshot::to_json(info);
  auto put_sidecar =
      client.put_object(sidecar_key(report.key), std::as_bytes(std::span(sidecar)), {}, deadline);
  if (!put_sidecar) return util::fail(put_sidecar.error().message);
  report.took = Clock::now() - started;

  apply_retention(target, client, info, now, report);
  return report;
}

}  // namespace etcd_warden::remote
