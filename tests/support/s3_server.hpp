// A real S3 server for integration tests: s3rver (Node.js, pinned by
// tests/s3rver/package-lock.json, installed by scripts/install-deps into
// /opt/etcd-warden/s3rver) on 127.0.0.1 and a free port, its data in a
// TempDir. The fixture can stop, kill, pause (SIGSTOP: connections are
// accepted, nothing is answered), resume and restart it on the same port
// with the same data.
//
// What s3rver 3.7.1 does and does not check (it is not AWS): SigV4 requests
// are never verified (any secret passes, only the access key id must be
// S3RVER), Content-MD5 and x-amz-content-sha256 are not compared with the
// body, ListMultipartUploads is NotImplemented (501) and
// AbortMultipartUpload is MethodNotAllowed (405); pending_uploads() reads
// the uploads from its store instead. A multipart object's ETag is the MD5
// of the whole object, not "md5-of-md5s-N".
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace etcd_warden::testing {

struct S3ServerOptions {
  std::vector<std::string> buckets{};  // created at startup (--configure-bucket)
  bool log = true;                     // false: --silent (the start line is still logged)
  std::chrono::milliseconds start_deadline = std::chrono::seconds(20);
  // Both set: HTTPS (s3rver --cert/--key), endpoint() says https://.
  std::filesystem::path tls_cert{};
  std::filesystem::path tls_key{};
};

// One multipart upload s3rver keeps in its store (initiated, neither
// completed nor aborted).
struct S3PendingUpload {
  std::string key;
  std::string upload_id;
  std::vector<int> parts;  // part numbers uploaded so far, ascending
};

class S3Server {
 public:
  // s3rver's one account (lib/models/account.js). It checks the key id, not
  // the secret, of a SigV4 request.
  static constexpr const char* kAccessKeyId = "S3RVER";
  static constexpr const char* kSecretAccessKey = "S3RVER";
  static constexpr const char* kRegion = "us-east-1";

  // $ETCD_WARDEN_S3RVER, else ${ETCD_WARDEN_OPT:-/opt/etcd-warden}/s3rver/
  // node_modules/s3rver/bin/s3rver.js.
  static std::filesystem::path script();
  // "" when node and s3rver are installed; else what is missing and how to
  // get it (scripts/install-deps).
  static std::string missing();
  static bool available() { return missing().empty(); }

  // Starts s3rver and waits until it answers HTTP. Throws std::runtime_error
  // (with its log tail, or what missing() says) on failure.
  explicit S3Server(S3ServerOptions options = {});
  ~S3Server() = default;  // SIGKILL via Process; the TempDir goes with it
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  std::string endpoint() const;  // http://127.0.0.1:PORT (https:// with TLS)
  std::uint16_t port() const { return port_; }
  const std::filesystem::path& directory() const { return data_dir_; }  // s3rver -d
  const std::filesystem::path& log_path() const { return log_path_; }
  std::string log() const { return read_file(log_path_); }
  std::string log_tail(std::size_t lines = 30) const { return tail_lines(log(), lines); }

  bool running();
  bool tls() const { return !options_.tls_cert.empty(); }
  // Any HTTP response to GET / within the timeout.
  bool answering(std::chrono::milliseconds timeout = std::chrono::seconds(1)) const;

  // SIGTERM (and SIGCONT, in case it is paused), SIGKILL after `deadline`.
  // Returns the exit status.
  std::optional<int> stop(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  void kill();    // SIGKILL and reap
  void pause();   // SIGSTOP: the kernel still accepts connections, nobody answers
  void resume();  // SIGCONT
  // stop() if running, then start again on the same port with the same
  // directory (objects, buckets and pending uploads persist) and wait.
  void restart(std::chrono::milliseconds deadline = std::chrono::seconds(20));

  // The multipart uploads in `bucket` that s3rver keeps on disk
  // (BUCKET/._S3rver_uploads/ID/{key,metadata,N}), by key then id: what
  // ListMultipartUploads would say, had s3rver implemented it.
  std::vector<S3PendingUpload> pending_uploads(const std::string& bucket) const;

 private:
  void spawn(bool configure_buckets);
  // Waits until it answers; false if it exited first (e.g. port taken).
  // Throws on timeout.
  bool wait_answering(std::chrono::milliseconds deadline);

  S3ServerOptions options_;
  TempDir dir_{"etcd-warden-s3"};  // destroyed last
  std::filesystem::path data_dir_;
  std::filesystem::path log_path_;
  std::uint16_t port_ = 0;
  std::optional<Process> process_;
};

}  // namespace etcd_warden::testing
