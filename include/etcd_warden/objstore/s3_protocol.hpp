// The pure half of the S3 client: where a request goes (path-style or
// virtual-host URLs, AWS's percent-encoding), what S3 answered (its XML), and
// whether a failure is worth another try. No I/O, so every rule is a unit
// test; s3_client.hpp sends what these build.
//
// libcurl signs the requests (CURLOPT_AWS_SIGV4), but curl 7.88 signs the
// query string as written and the path as written: so the query is built
// here already sorted and encoded, with "key=" for an empty value, and the
// key already encoded the way SigV4's canonical URI wants it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::objstore {

// Where requests for one bucket go.
struct S3Endpoint {
  std::string base;    // "http://127.0.0.1:9000/bucket" or "https://bucket.s3.amazonaws.com"
  std::string bucket;  // for messages: "s3://bucket/key"
  std::string region;  // signs the requests
  bool tls = false;
};

// The endpoint of a configured location: an empty endpoint is AWS's
// regional one; path_style auto means virtual-host addressing only on AWS
// (*.amazonaws.com) with a bucket name without dots (TLS certificates cover
// one label), path-style everywhere else (MinIO, Ceph, s3rver, ...).
util::Result<S3Endpoint> resolve_endpoint(const config::S3Location& location);

// AWS's URI encoding: unreserved characters (A-Z a-z 0-9 - . _ ~) as they
// are, every other byte as %XX (upper-case hex); '/' kept when `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash);

using QueryParams = std::vector<std::pair<std::string, std::string>>;
// "a=1&b=&c=x%2Fy": sorted by key, then value; encoded; "" when no params.
std::string canonical_query(QueryParams params);

// base + "/" + encoded key + ("?" + query).
std::string object_url(const S3Endpoint& endpoint, std::string_view key,
                       const QueryParams& query = {});
// The bucket itself (listing): base + "/" + ("?" + query).
std::string bucket_url(const S3Endpoint& endpoint, const QueryParams& query = {});

// A failed request, in a form callers branch on and people read.
struct S3Error {
  long http_status = 0;  // 0: no HTTP answer (connect, timeout, reset)
  std::string code;      // S3's <Code> ("NoSuchBucket"), or curl's error text
  std::string message;   // "target 'offsite': PUT s3://b/k: 403 AccessDenied: ..."
  bool transient = false;

  bool not_found() const { return http_status == 404; }
};

// The S3 error of a non-2xx answer: <Error><Code>/<Message> when the body is
// S3's XML, else the status alone. Transient: 500, 502, 503, 504, 429 and
// S3's RequestTimeout / SlowDown / InternalError codes.
struct ErrorBody {
  std::string code;
  std::string message;
};
ErrorBody parse_error_body(std::string_view body);
bool transient_status(long http_status, std::string_view code);

// The wait before retry `attempt` (1, 2, ...): "full jitter" exponential
// backoff, base × 2^(attempt-1) capped, times `jitter` (0..1, random).
std::chrono::milliseconds backoff(int attempt, double jitter,
                                  std::chrono::milliseconds base = std::chrono::milliseconds(250),
                                  std::chrono::milliseconds cap = std::chrono::seconds(8));

struct ObjectEntry {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // without quotes
};
struct ObjectPage {
  std::vector<ObjectEntry> objects;
  std::string next_token;  // ListObjectsV2's NextContinuationToken; "" at the end
};
util::Result<ObjectPage> parse_list_objects(std::string_view xml);

struct PendingUpload {
  std::string key;
  std::string upload_id;
  std::string initiated;  // RFC 3339, as the server wrote it ("" if it did not)
};
struct UploadPage {
  std::vector<PendingUpload> uploads;
  std::string next_key_marker;  // "" at the end
  std::string next_upload_id_marker;
};
util::Result<UploadPage> parse_list_multipart(std::string_view xml);

// InitiateMultipartUploadResult's UploadId.
util::Result<std::string> parse_upload_id(std::string_view xml);

struct PartTag {
  int number = 0;
  std::string etag;  // as the server sent it, quotes included
};
std::string complete_multipart_body(std::span<const PartTag> parts);
// CompleteMultipartUpload may answer 200 with an <Error> body: that is a
// failure. The object's ETag otherwise.
util::Result<std::string> parse_complete(std::string_view xml);

// An ETag without its quotes.
std::string unquote_etag(std::string_view etag);

}  // namespace etcd_warden::objstore
