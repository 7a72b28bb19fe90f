#include "etcd_warden/objstore/s3_client.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <mutex>
#include <thread>

namespace etcd_warden::objstore {

struct S3Client::Handle {
  CURL* curl = nullptr;
  ~Handle() {
    if (curl) curl_easy_cleanup(curl);
  }
};

struct S3Client::Request {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  std::string what;  // "PUT s3://bucket/key", for messages
  std::span<const std::byte> body;
  std::string text_body;  // a POST's XML (the body points into it)
  std::vector<std::string> headers;
  const BodySink* sink = nullptr;                          // GET streamed
  const std::function<util::Status()>* restart = nullptr;  // before a repeated attempt
  std::size_t limit = 1u << 20;                            // kept body bytes without a sink
};

struct S3Client::Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case, of the last answer
};

namespace {

constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string hex(std::span<const unsigned char> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::array<unsigned char, EVP_MAX_MD_SIZE> digest(const EVP_MD* md, std::span<const std::byte> data,
                                                  unsigned& size) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  size = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &size, md, nullptr);
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Failures of the connection rather than of the request: worth another try.
bool transient_curl(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

struct Transfer {
  S3Client::Response* response;
  std::span<const std::byte> upload;
  std::size_t sent = 0;
  const BodySink* sink = nullptr;
  std::size_t limit = 0;
  std::string sink_error;
  bool too_large = false;
  CURL* curl = nullptr;
  const std::atomic<bool>* stop = nullptr;
};

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = std::min(size * count, t->upload.size() - t->sent);
  std::memcpy(buffer, t->upload.data() + t->sent, n);
  t->sent += n;
  return n;
}

// curl may rewind an upload (a redirect, an auth retry, a reused connection
// that died): start the body again.
int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > t->upload.size()) {
    return CURL_SEEKFUNC_FAIL;
  }
  t->sent = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->sink && status >= 200 && status < 300) {
    auto wrote = (*t->sink)(std::as_bytes(std::span(data, n)));
    if (!wrote) {
      t->sink_error = wrote.error();
      return 0;  // CURLE_WRITE_ERROR
    }
    return n;
  }
  if (t->response->body.size() + n > t->limit) {
    t->too_large = true;
    return 0;
  }
  t->response->body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();  // a new answer (after "100 Continue")
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    t->response->headers[lower(trim(line.substr(0, colon)))] =
        std::string(trim(line.substr(colon + 1)));
  }
  return size * count;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return t->stop && t->stop->load() ? 1 : 0;
}

long millis(std::chrono::steady_clock::duration d) {
  return static_cast<long>(
      std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(d).count()));
}

}  // namespace

std::string sha256_hex(std::span<const std::byte> data) {
  unsigned size = 0;
  const auto md = digest(EVP_sha256(), data, size);
  return hex(std::span(md.data(), size));
}

std::string md5_base64(std::span<const std::byte> data) {
  unsigned size = 0;
  const auto md = digest(EVP_md5(), data, size);
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> out{};
  const int n = EVP_EncodeBlock(out.data(), md.data(), static_cast<int>(size));
  return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
}

S3Client::S3Client(S3Endpoint endpoint, config::Credentials credentials, ClientOptions options)
    : endpoint_(std::move(endpoint)),
      credentials_(std::move(credentials)),
      options_(std::move(options)),
      handle_(std::make_unique<Handle>()),
      random_(std::random_device{}()) {
  global_init();
  handle_->curl = curl_easy_init();
}

S3Client::~S3Client() = default;
S3Client::S3Client(S3Client&&) noexcept = default;
S3Client& S3Client::operator=(S3Client&&) noexcept = default;

std::string S3Client::object_name(std::string_view key) const {
  return "s3://" + endpoint_.bucket + "/" + std::string(key);
}

S3Error S3Client::error(const Request& request, long status, std::string code,
                        const std::string& detail, bool transient) const {
  S3Error e;
  e.http_status = status;
  e.transient = transient;
  e.message = "target '" + options_.target + "': " + request.what + ": " +
              (status ? std::to_string(status) + " " : std::string()) + code +
              (detail.empty() ? "" : ": " + detail);
  e.code = std::move(code);
  return e;
}

S3Result<S3Client::Response> S3Client::attempt(Request& request, Deadline deadline) {
  CURL* curl = handle_->curl;
  if (!curl) return error(request, 0, "CurlInit", "curl_easy_init failed", false);
  curl_easy_reset(curl);  // keeps the connection cache

  Response response;
  Transfer transfer{&response, request.body, 0,    request.sink, request.limit,
                    {},        false,        curl, options_.stop};
  std::array<char, CURL_ERROR_SIZE> curl_error{};

  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(
      headers, &curl_slist_free_all);

  const std::string sigv4 = "aws:amz:" + endpoint_.region + ":s3";
  const auto remaining = deadline - std::chrono::steady_clock::now();
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_AWS_SIGV4);
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, credentials_.access_key_id.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, credentials_.secret_access_key.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, millis(remaining));
  curl_easy_setopt(
      curl, CURLOPT_CONNECTTIMEOUT_MS,
      millis(std::min<std::chrono::steady_clock::duration>(remaining, options_.connect_timeout)));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.stall.count()));
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error.data());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  if (!options_.ca.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca.c_str());

  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    if (code == CURLE_ABORTED_BY_CALLBACK) return error(request, 0, "Stopped", "stopping", false);
    if (code == CURLE_WRITE_ERROR && !transfer.sink_error.empty()) {
      return error(request, 0, "LocalWrite", transfer.sink_error, false);
    }
    if (code == CURLE_WRITE_ERROR && transfer.too_large) {
      return error(request, 0, "TooLarge",
                   "answer larger than " + std::to_string(request.limit) + " bytes", false);
    }
    std::string detail = curl_error[0] ? curl_error.data() : curl_easy_strerror(code);
    if (code == CURLE_OPERATION_TIMEDOUT && std::chrono::steady_clock::now() < deadline) {
      detail += " (no progress for " + std::to_string(options_.stall.count()) + "s)";
    }
    return error(request, 0, curl_easy_strerror(code), detail, transient_curl(code));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  if (response.status >= 200 && response.status < 300) return response;
  const ErrorBody body = parse_error_body(response.body);
  std::string code_text = body.code;
  if (code_text.empty()) code_text = response.status == 404 ? "NotFound" : "HTTP error";
  return error(request, response.status, code_text, body.message,
               transient_status(response.status, body.code));
}

S3Result<S3Client::Response> S3Client::perform(Request& request, Deadline deadline) {
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  for (int n = 1;; ++n) {
    if (options_.stop && options_.stop->load()) {
      return error(request, 0, "Stopped", "stopping", false);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return error(request, 0, "Deadline", "the upload's deadline passed", false);
    }
    if (n > 1 && request.restart && *request.restart) {
      if (auto restarted = (*request.restart)(); !restarted) {
        return error(request, 0, "LocalWrite", restarted.error(), false);
      }
    }
    auto result = attempt(request, deadline);
    if (result || !result.error().transient || n >= options_.max_attempts) {
      if (!result && result.error().transient) {
        result.error().message += " (after " + std::to_string(n) + " attempts)";
      }
      return result;
    }
    const auto wait = backoff(n, jitter(random_));
    if (std::chrono::steady_clock::now() + wait >= deadline) {
      result.error().message += " (no time left to retry)";
      return result;
    }
    // Sleep in slices so a stop is seen within 50 ms.
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until && !(options_.stop && options_.stop->load())) {
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
    }
  }
}

namespace {

std::vector<std::string> payload_headers(std::span<const std::byte> body, bool md5) {
  std::vector<std::string> h;
  h.push_back("x-amz-content-sha256: " +
              (body.empty() ? std::string(kEmptySha256) : sha256_hex(body)));
  if (md5) h.push_back("Content-MD5: " + md5_base64(body));
  return h;
}

}  // namespace

namespace {

void add_common(std::vector<std::string>& headers, const config::Credentials& credentials) {
  if (!credentials.session_token.empty()) {
    headers.push_back("x-amz-security-token: " + credentials.session_token);
  }
}

void add_metadata(std::vector<std::string>& headers, const Metadata& metadata) {
  for (const auto& [name, value] : metadata) headers.push_back("x-amz-meta-" + name + ": " + value);
}

}  // namespace

S3Result<std::string> S3Client::put_object(std::string_view key, std::span<const std::byte> body,
                                           const Metadata& metadata, Deadline deadline) {
  Request r{"PUT", object_url(endpoint_, key), "PUT " + object_name(key), body};
  r.headers = payload_headers(body, true);
  r.headers.emplace_back("Content-Type: application/octet-stream");
  add_metadata(r.headers, metadata);
  add_common(r.headers, credentials_);
  auto done = perform(r, deadline);
  if (!done) return util::fail_with(std::move(done.error()));
  return unquote_etag(done->headers["etag"]);
}

S3Result<std::string> S3Client::create_multipart(std::string_view key, const Metadata& metadata,
                                                 Deadline deadline) {
  Request r{"POST", object_url(endpoint_, key, {{"uploads", ""}}),
            "CreateMultipartUpload " + object_name(key)};
  r.headers = payload_headers({}, false);
  r.headers.emplace_back("Content-Type: application/octet-stream");
  add_metadata(r.headers, metadata);
  add_common(r.headers, credentials_);
  auto done = perform(r, deadline);
  if (!done) return util::fail_with(std::move(done.error()));
  auto id = parse_upload_id(done->body);
  if (!id) return util::fail_with(error(r, done->status, "BadAnswer", id.error(), false));
  return std::move(*id);
}

S3Result<std::string> S3Client::upload_part(std::string_view key, std::string_view upload_id,
                                            int number, std::span<const std::byte> body,
                                            Deadline deadline) {
  Request r{
      "PUT",
      object_url(endpoint_, key,
                 {{"partNumber", std::to_string(number)}, {"uploadId", std::string(upload_id)}}),
      "UploadPart " + std::to_string(number) + " of " + object_name(key), body};
  r.headers = payload_headers(body, true);
  add_common(r.headers, credentials_);
  auto done = perform(r, deadline);
  if (!done) return util::fail_with(std::move(done.error()));
  const std::string etag = done->headers["etag"];
  if (etag.empty()) return util::fail_with(error(r, done->status, "BadAnswer", "no ETag", false));
  return etag;
}

S3Result<std::string> S3Client::complete_multipart(std::string_view key, std::string_view upload_id,
                                                   std::span<const PartTag> parts,
                                                   Deadline deadline) {
  Request r{"POST", object_url(endpoint_, key, {{"uploadId", std::string(upload_id)}}),
            "CompleteMultipartUpload " + object_name(key)};
  r.text_body = complete_multipart_body(parts);
  r.body = std::as_bytes(std::span(r.text_body));
  r.headers = payload_headers(r.body, true);
  r.headers.emplace_back("Content-Type: application/xml");
  add_common(r.headers, credentials_);
  auto done = perform(r, deadline);
  if (!done) return util::fail_with(std::move(done.error()));
  auto etag = parse_complete(done->body);  // a 200 may still carry an <Error>
  if (!etag) return util::fail_with(error(r, done->status, "CompleteFailed", etag.error(), true));
  return std::move(*etag);
}

S3Status S3Client::abort_multipart(std::string_view key, std::string_view upload_id,
                                   Deadline deadline) {
  Request r{"DELETE", object_url(endpoint_, key, {{"uploadId", std::string(upload_id)}}),
            "AbortMultipartUpload " + object_name(key)};
  r.headers = payload_headers({}, false);
  add_common(r.headers, credentials_);
  auto done = perform(r, deadline);
  if (!done && !done.error().not_found()) return util::fail_with(std::move(done.error()));
  return {};
}

S3Result<ObjectHead> S3Client::head_object(std::string_view key, Deadline deadline) {
  Request r{"HEAD", object_url(endpoint_, key), "HEAD " + object_name(key)};
  r.headers = payload_headers({}, false);
  add_common(r.headers, credentials_);
  auto done = perform(r, deadline);
  if (!done) return util::fail_with(std::move(done.error()));
  ObjectHead head;
  head.size = std::strtoull(done->headers["content-length"].c_str(), nullptr, 10);
  head.etag = unquote_etag(done->headers["etag"]);
  for (const auto& [name, value] : done->headers) {
    if (name.starts_with("x-amz-meta-")) head.metadata[name.substr(11)] = value;
  }
  return head;
}

S3Result<std::string> S3Client::list_page(const QueryParams& query, const std::string& what,
                                          Deadline deadline) {
  Request r{"GET", bucket_url(endpoint_, query), what};
  r.headers = payload_headers({}, false);
  r.limit = 16u << 20;
  add_common(r.headers, credentials_);
  auto done = perform(r, deadline);
  if (!done) return util::fail_with(std::move(done.error()));
  return std::move(done->body);
}

S3Error S3Client::bad_answer(const std::string& what, const std::string& why) const {
  S3Error e;
  e.code = "BadAnswer";
  e.message = "target '" + options_.target + "': " + what + ": " + why;
  return e;
}

S3Result<std::vector<ObjectEntry>> S3Client::list_objects(std::string_view prefix,
                                                          Deadline deadline) {
  const std::string what = "ListObjectsV2 s3://" + endpoint_.bucket + "/" + std::string(prefix);
  std::vector<ObjectEntry> all;
  std::string token;
  for (;;) {
    QueryParams q{{"list-type", "2"}, {"prefix", std::string(prefix)}};
    if (!token.empty()) q.emplace_back("continuation-token", token);
    auto body = list_page(q, what, deadline);
    if (!body) return util::fail_with(std::move(body.error()));
    auto page = parse_list_objects(*body);
    if (!page) return util::fail_with(bad_answer(what, page.error()));
    all.insert(all.end(), page->objects.begin(), page->objects.end());
    if (page->next_token.empty()) return all;
    token = page->next_token;
  }
}

S3Result<std::vector<PendingUpload>> S3Client::list_multipart(std::string_view prefix,
                                                              Deadline deadline) {
  const std::string what =
      "ListMultipartUploads s3://" + endpoint_.bucket + "/" + std::string(prefix);
  std::vector<PendingUpload> all;
  std::string key_marker;
  std::string id_marker;
  for (;;) {
    QueryParams q{{"uploads", ""}, {"prefix", std::string(prefix)}};
    if (!key_marker.empty()) q.emplace_back("key-marker", key_marker);
    if (!id_marker.empty()) q.emplace_back("upload-id-marker", id_marker);
    auto body = list_page(q, what, deadline);
    if (!body) return util::fail_with(std::move(body.error()));
    auto page = parse_list_multipart(*body);
    if (!page) return util::fail_with(bad_answer(what, page.error()));
    all.insert(all.end(), page->uploads.begin(), page->uploads.end());
    if (page->next_key_marker.empty()) return all;
    key_marker = page->next_key_marker;
    id_marker = page->next_upload_id_marker;
  }
}

S3Status S3Client::delete_object(std::string_view key, Deadline deadline) {
  Request r{"DELETE", object_url(endpoint_, key), "DELETE " + object_name(key)};
  r.headers = payload_headers({}, false);
  add_common(r.headers, credentials_);
  auto done = perform(r, deadline);
  if (!done && !done.error().not_found()) return util::fail_with(std::move(done.error()));
  return {};
}

S3Result<std::string> S3Client::get_text(std::string_view key, Deadline deadline,
                                         std::size_t limit) {
  Request r{"GET", object_url(endpoint_, key), "GET " + object_name(key)};
  r.headers = payload_headers({}, false);
  r.limit = limit;
  add_common(r.headers, credentials_);
  auto done = perform(r, deadline);
  if (!done) return util::fail_with(std::move(done.error()));
  return std::move(done->body);
}

S3Status S3Client::get_object(std::string_view key, const BodySink& sink,
                              const std::function<util::Status()>& restart, Deadline deadline) {
  Request r{"GET", object_url(endpoint_, key), "GET " + object_name(key)};
  r.headers = payload_headers({}, false);
  r.sink = &sink;
  r.restart = &restart;
  add_common(r.headers, credentials_);
  auto done = perform(r, deadline);
  if (!done) return util::fail_with(std::move(done.error()));
  return {};
}

}  // namespace etcd_warden::objstore
