// A blocking S3 client for the few calls a backup needs, on Debian's libcurl:
// curl signs each request (CURLOPT_AWS_SIGV4) and we send the payload's real
// sha256 as x-amz-content-sha256 (curl signs that value, so the server checks
// the body against the signature) plus Content-MD5 on every upload, so a part
// damaged on the way is refused rather than stored.
//
// One client is one curl handle (and its kept-alive connection): use it from
// one thread at a time, and one client per uploading thread. Calls block, so
// they run on the blocking pool or a thread of their own, never on the loop.
//
// Every call has a deadline; each attempt is also cut when no byte moves for
// `stall` (a server that accepts and never answers). Transient failures
// (connection refused or reset, timeouts, 5xx, 429, SlowDown) are retried with
// jittered exponential backoff while the deadline allows. Errors name the
// target, the method and the object ("target 'offsite': PUT s3://b/k: 403
// AccessDenied: ..."), never a credential.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etcd_warden/config/credentials.hpp"
#include "etcd_warden/objstore/s3_protocol.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::objstore {

template <class T>
using S3Result = util::Result<T, S3Error>;
using S3Status = util::Result<void, S3Error>;
using Deadline = std::chrono::steady_clock::time_point;

// x-amz-meta-<name>: value pairs; names in lower case.
using Metadata = std::map<std::string, std::string>;

struct ObjectHead {
  std::uint64_t size = 0;
  std::string etag;  // without quotes
  Metadata metadata;
};

struct ClientOptions {
  std::string target;        // the upload target's name, for messages
  std::filesystem::path ca;  // PEM bundle; empty: the system's roots
  std::chrono::seconds stall{30};
  std::chrono::seconds connect_timeout{10};
  int max_attempts = 6;
  const std::atomic<bool>* stop = nullptr;  // set: calls end with code "Stopped"
};

// Receives a GET's body as it arrives; an error stops the transfer.
using BodySink = std::function<util::Status(std::span<const std::byte>)>;

class S3Client {
 public:
  S3Client(S3Endpoint endpoint, config::Credentials credentials, ClientOptions options);
  ~S3Client();
  S3Client(S3Client&&) noexcept;
  S3Client& operator=(S3Client&&) noexcept;
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3Endpoint& endpoint() const { return endpoint_; }
  // "s3://bucket/key", as messages write an object.
  std::string object_name(std::string_view key) const;

  // Returns the object's ETag (without quotes).
  S3Result<std::string> put_object(std::string_view key, std::span<const std::byte> body,
                                   const Metadata& metadata, Deadline deadline);
  S3Result<std::string> create_multipart(std::string_view key, const Metadata& metadata,
                                         Deadline deadline);
  // The part's ETag as the server sent it (quotes kept, for Complete).
  S3Result<std::string> upload_part(std::string_view key, std::string_view upload_id, int number,
                                    std::span<const std::byte> body, Deadline deadline);
  S3Result<std::string> complete_multipart(std::string_view key, std::string_view upload_id,
                                           std::span<const PartTag> parts, Deadline deadline);
  S3Status abort_multipart(std::string_view key, std::string_view upload_id, Deadline deadline);

  S3Result<ObjectHead> head_object(std::string_view key, Deadline deadline);
  // Every object under `prefix` (all pages).
  S3Result<std::vector<ObjectEntry>> list_objects(std::string_view prefix, Deadline deadline);
  // Every unfinished multipart upload under `prefix` (all pages).
  S3Result<std::vector<PendingUpload>> list_multipart(std::string_view prefix, Deadline deadline);
  S3Status delete_object(std::string_view key, Deadline deadline);

  // A small object (a sidecar) into memory; larger than `limit` is an error.
  S3Result<std::string> get_text(std::string_view key, Deadline deadline,
                                 std::size_t limit = 1u << 20);
  // A large object, streamed into `sink`; `restart` runs before every
  // attempt after the first (truncate what the sink wrote).
  S3Status get_object(std::string_view key, const BodySink& sink,
                      const std::function<util::Status()>& restart, Deadline deadline);

  struct Request;
  struct Response;

 private:
  S3Result<Response> perform(Request& request, Deadline deadline);
  S3Result<Response> attempt(Request& request, Deadline deadline);
  // One page of a bucket listing: the XML body.
  S3Result<std::string> list_page(const QueryParams& query, const std::string& what,
                                  Deadline deadline);
  S3Error bad_answer(const std::string& what, const std::string& why) const;
  S3Error error(const Request& request, long status, std::string code, const std::string& detail,
                bool transient) const;

  S3Endpoint endpoint_;
  config::Credentials credentials_;
  ClientOptions options_;
  struct Handle;
  std::unique_ptr<Handle> handle_;
  std::minstd_rand random_;
};

// sha256 and MD5 of a body, as S3's headers want them: hex and base64.
std::string sha256_hex(std::span<const std::byte> data);
std::string md5_base64(std::span<const std::byte> data);

}  // namespace etcd_warden::objstore
