#include "etcd_warden/etcd/client.hpp"

#include <algorithm>
#include <cstdint>

#include "etcd_warden/config/units.hpp"
#include "etcd_warden/io/file.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::etcd {

namespace {

// Reads a whole PEM or secret file; the error names the config key too.
util::Result<std::string> read_file(const std::filesystem::path& path, std::string_view what) {
  auto text = io::read_file(path);
  if (!text)
    return util::fail(std::string(what) + " " + path.string() + ": " + text.error().reason());
  return std::move(*text);
}

std::string trim_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// A channel argument in milliseconds: gRPC takes an int.
int clamp_ms(config::Duration d) {
  return static_cast<int>(std::min<config::Duration::rep>(d.count(), INT32_MAX));
}

}  // namespace

std::string describe_timeout(config::Duration d) {
  return config::format_duration(d);
}

std::string describe_failure(std::string_view what, const grpc::Status& status,
                             config::Duration timeout) {
  std::string out(what);
  out += ": ";
  switch (status.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      out += "no answer within " + describe_timeout(timeout);
      break;
    case grpc::StatusCode::UNAVAILABLE:
      out += "unreachable (" + status.error_message() + ")";
      break;
    case grpc::StatusCode::CANCELLED:
      out += "cancelled";
      break;
    default:
      out += status.error_message();
      break;
  }
  return out;
}

util::Result<std::shared_ptr<Client>> Client::create(const config::Etcd& cfg,
                                                     asio::any_io_executor executor) {
  if (cfg.endpoints.empty()) return util::fail("etcd.endpoints: no endpoint configured");
  std::shared_ptr<Client> client(new Client(cfg, std::move(executor)));

  grpc::SslCredentialsOptions ssl;
  if (cfg.tls) {
    if (!cfg.tls->ca.empty()) {
      auto ca = read_file(cfg.tls->ca, "etcd.tls.ca");
      if (!ca) return util::fail(ca.error());
      ssl.pem_root_certs = *ca;
    }
    if (!cfg.tls->cert.empty()) {
      auto cert = read_file(cfg.tls->cert, "etcd.tls.cert");
      if (!cert) return util::fail(cert.error());
      auto key = read_file(cfg.tls->key, "etcd.tls.key");
      if (!key) return util::fail(key.error());
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    if (!cfg.tls->server_name.empty())
      client->channel_args_.SetSslTargetNameOverride(cfg.tls->server_name);
  }
  client->tls_credentials_ = grpc::SslCredentials(ssl);

  if (cfg.auth) {
    auto password = read_file(cfg.auth->password_file, "etcd.auth.password_file");
    if (!password) return util::fail(password.error());
    client->password_ = trim_newlines(*password);
  }

  // Reconnect quickly once a member is back (gRPC's default backoff grows to
  // 120 s, which would leave the warden blind long after etcd recovered): the
  // first retry after 0.5 s, then at most every max(dial_timeout, 1 s).
  // gRPC takes the *minimum* reconnect backoff as the deadline of each connect
  // attempt (TCP, TLS and the server's first HTTP/2 SETTINGS frame), so that
  // one is dial_timeout: at 0.5 s, an etcd whose first bytes came 0.8 s late
  // was "unreachable" whatever dial_timeout said.
  auto& args = client->channel_args_;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, clamp_ms(cfg.dial_timeout));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              clamp_ms(std::max<config::Duration>(cfg.dial_timeout, std::chrono::seconds(1))));
  args.SetMaxReceiveMessageSize(-1);  // snapshot chunks and large ranges
  // gRPC's BDP probe grows the receive window while a snapshot streams faster
  // than it is written, and the transport then buffers that much: 10-50 MiB
  // more peak RSS, varying from run to run, for no gain on loopback (measured
  // with bench_snapshot_throughput). The fixed 64 KiB window is plenty for the
  // small unary calls, and the snapshot stream reads ahead itself.
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  for (const auto& url : cfg.endpoints) {
    auto found = client->stubs_for(url);
    if (!found) return util::fail(found.error());
  }
  return client;
}

util::Result<Stubs*> Client::stubs_for(const std::string& url) {
  if (auto it = stubs_.find(url); it != stubs_.end()) return it->second.get();
  auto endpoint = util::parse_endpoint(url);
  if (!endpoint) return util::fail("bad endpoint '" + url + "' (expected http(s)://host:port)");
  auto credentials = endpoint->tls() ? tls_credentials_ : grpc::InsecureChannelCredentials();
  auto stubs = std::make_unique<Stubs>();
  stubs->url = url;
  stubs->channel = grpc::CreateCustomChannel(endpoint->target(), credentials, channel_args_);
  stubs->kv = pb::KV::NewStub(stubs->channel);
  stubs->lease = pb::Lease::NewStub(stubs->channel);
  stubs->cluster = pb::Cluster::NewStub(stubs->channel);
  stubs->maintenance = pb::Maintenance::NewStub(stubs->channel);
  stubs->auth = pb::Auth::NewStub(stubs->channel);
  stubs->lock = v3lockpb::Lock::NewStub(stubs->channel);
  Stubs* raw = stubs.get();
  stubs_.emplace(url, std::move(stubs));
  return raw;
}

void Client::cancel_all() {
  cancelled_ = true;
  for (auto* context : in_flight_) context->TryCancel();
}

bool Client::is_token_error(const grpc::Status& status) {
  return status.error_message().find("invalid auth token") != std::string::npos ||
         status.error_code() == grpc::StatusCode::UNAUTHENTICATED;
}

Task<Result<std::string>> Client::token(std::string url) {
  if (!token_.empty()) co_return token_;
  auto found = stubs_for(url);
  if (!found) {
    co_return Error{grpc::StatusCode::INVALID_ARGUMENT, url, found.error()};
  }
  Stubs& stubs = **found;
  // Not unary(), which asks for a token first; shaped like it.
  struct Call {
    grpc::ClientContext context;
    pb::AuthenticateRequest request;
    pb::AuthenticateResponse response;
  };
  auto call = std::make_shared<Call>();
  call->request.set_name(cfg_.auth->username);
  call->request.set_password(password_);
  call->context.set_deadline(std::chrono::system_clock::now() + cfg_.request_timeout);
  in_flight_.insert(&call->context);
  auto start = [&stubs, &call](auto done) {
    stubs.auth->async()->Authenticate(
        &call->context, &call->request, &call->response,
        [done = std::move(done)](grpc::Status s) mutable { done(std::move(s)); });
  };
  auto op = await_grpc(executor_, call, std::move(start));
  grpc::Status status = co_await std::move(op);
  in_flight_.erase(&call->context);
  if (!status.ok()) {
    // The message comes from etcd ("authentication failed, invalid user ID or
    // password"); it never contains the password.
    co_return Error{status.error_code(), url,
                    describe_failure("Authenticate", status, cfg_.request_timeout)};
  }
  token_ = call->response.token();
  co_return token_;
}

// --- One line per RPC: the stub method and a name for error messages.

#define WARDEN_ASYNC(service, rpc)                                             \
  [](Stubs& s, grpc::ClientContext* c, const auto* req, auto* resp, auto cb) { \
    s.service->async()->rpc(c, req, resp, std::move(cb));                      \
  }

Task<Result<pb::StatusResponse>> Client::status(std::string url) {
  return unary<pb::StatusResponse>(std::move(url), "Status", pb::StatusRequest{},
                                   cfg_.request_timeout, WARDEN_ASYNC(maintenance, Status));
}

std::vector<std::string> Client::fallback_order() const {
  std::vector<std::string> out;
  for (const auto* list : {&cfg_.endpoints, &voter_urls_}) {
    for (const auto& url : *list) {
      if (std::find(out.begin(), out.end(), url) == out.end()) out.push_back(url);
    }
  }
  return out;
}

template <class Resp, class Req, class Method>
Task<Result<Resp>> Client::first_answer(std::vector<std::string> urls, std::string_view what,
                                        Req request, Method method, Error last) {
  for (const auto& url : urls) {
    auto op = unary<Resp>(url, what, request, cfg_.request_timeout, method);
    auto r = co_await std::move(op);
    if (r) co_return r;
    last = r.error();
  }
  co_return last;
}

Task<Result<pb::MemberListResponse>> Client::member_list() {
  return first_answer<pb::MemberListResponse>(fallback_order(), "MemberList",
                                              pb::MemberListRequest{},
                                              WARDEN_ASYNC(cluster, MemberList), Error{});
}

Task<Result<pb::AlarmResponse>> Client::alarms() {
  pb::AlarmRequest request;
  request.set_action(pb::AlarmRequest::GET);
  return alarm(std::move(request));
}

Task<Result<pb::AlarmResponse>> Client::alarm(pb::AlarmRequest request) {
  auto op = unary<pb::AlarmResponse>(local_url(), "Alarm", request, cfg_.request_timeout,
                                     WARDEN_ASYNC(maintenance, Alarm));
  auto first = co_await std::move(op);
  if (first || !first.error().refused_by_learner()) co_return first;
  std::vector<std::string> others = fallback_order();
  std::erase(others, local_url());
  auto rest = first_answer<pb::AlarmResponse>(std::move(others), "Alarm", std::move(request),
                                              WARDEN_ASYNC(maintenance, Alarm), first.error());
  co_return co_await std::move(rest);
}

Task<Result<pb::RangeResponse>> Client::range(pb::RangeRequest request) {
  return unary<pb::RangeResponse>(local_url(), "Range", std::move(request), cfg_.request_timeout,
                                  WARDEN_ASYNC(kv, Range));
}

Task<Result<pb::PutResponse>> Client::put(pb::PutRequest request) {
  return unary<pb::PutResponse>(local_url(), "Put", std::move(request), cfg_.request_timeout,
                                WARDEN_ASYNC(kv, Put));
}

Task<Result<pb::TxnResponse>> Client::txn(pb::TxnRequest request) {
  return unary<pb::TxnResponse>(local_url(), "Txn", std::move(request), cfg_.request_timeout,
                                WARDEN_ASYNC(kv, Txn));
}

Task<Result<pb::CompactionResponse>> Client::compact(pb::CompactionRequest request) {
  return unary<pb::CompactionResponse>(local_url(), "Compact", std::move(request),
                                       cfg_.request_timeout, WARDEN_ASYNC(kv, Compact));
}

Task<Result<pb::CompactionResponse>> Client::compact(pb::CompactionRequest request,
                                                     config::Duration timeout) {
  return unary<pb::CompactionResponse>(local_url(), "Compact", std::move(request), timeout,
                                       WARDEN_ASYNC(kv, Compact));
}

Task<Result<pb::DefragmentResponse>> Client::defragment(std::string url, config::Duration timeout) {
  return unary<pb::DefragmentResponse>(std::move(url), "Defragment", pb::DefragmentRequest{},
                                       timeout, WARDEN_ASYNC(maintenance, Defragment));
}

Task<Result<pb::HashKVResponse>> Client::hash_kv(std::string url, std::int64_t revision,
                                                 config::Duration timeout) {
  pb::HashKVRequest request;
  request.set_revision(revision);
  return unary<pb::HashKVResponse>(std::move(url), "HashKV", std::move(request), timeout,
                                   WARDEN_ASYNC(maintenance, HashKV));
}

Task<Result<pb::MoveLeaderResponse>> Client::move_leader(std::string leader_url,
                                                         std::uint64_t target_id) {
  pb::MoveLeaderRequest request;
  request.set_targetid(target_id);
  return unary<pb::MoveLeaderResponse>(std::move(leader_url), "MoveLeader", std::move(request),
                                       cfg_.request_timeout, WARDEN_ASYNC(maintenance, MoveLeader));
}

Task<Result<pb::LeaseGrantResponse>> Client::lease_grant(std::chrono::seconds ttl) {
  pb::LeaseGrantRequest request;
  request.set_ttl(ttl.count());
  return unary<pb::LeaseGrantResponse>(local_url(), "LeaseGrant", std::move(request),
                                       cfg_.request_timeout, WARDEN_ASYNC(lease, LeaseGrant));
}

Task<Result<pb::LeaseRevokeResponse>> Client::lease_revoke(std::int64_t id) {
  pb::LeaseRevokeRequest request;
  request.set_id(id);
  return unary<pb::LeaseRevokeResponse>(local_url(), "LeaseRevoke", std::move(request),
                                        cfg_.request_timeout, WARDEN_ASYNC(lease, LeaseRevoke));
}

Task<Result<pb::LeaseRevokeResponse>> Client::lease_revoke(std::int64_t id,
                                                           config::Duration timeout) {
  pb::LeaseRevokeRequest request;
  request.set_id(id);
  return unary<pb::LeaseRevokeResponse>(local_url(), "LeaseRevoke", std::move(request), timeout,
                                        WARDEN_ASYNC(lease, LeaseRevoke));
}

namespace {

// LeaseKeepAlive is a bidi stream; one request and one answer per stream
// keeps it a call with a deadline. The reactor deletes itself when gRPC is
// done with it; `done` (which owns the request, answer and context) runs last.
class KeepAliveOnce final
    : public grpc::ClientBidiReactor<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse> {
 public:
  KeepAliveOnce(const pb::LeaseKeepAliveRequest* request, pb::LeaseKeepAliveResponse* response,
                std::function<void(grpc::Status)> done)
      : request_(request), response_(response), done_(std::move(done)) {}

  void start() {
    StartWrite(request_);
    StartRead(response_);
    StartCall();
  }
  void OnWriteDone(bool ok) override {
    if (ok) StartWritesDone();  // etcd answers, then ends the stream on EOF
  }
  void OnReadDone(bool ok) override { answered_ = ok; }
  void OnDone(const grpc::Status& status) override {
    grpc::Status out = status;
    if (status.ok() && !answered_) {
      out =
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "keep-alive stream ended without an answer");
    }
    auto done = std::move(done_);
    delete this;
    done(std::move(out));
  }

 private:
  const pb::LeaseKeepAliveRequest* request_;
  pb::LeaseKeepAliveResponse* response_;
  std::function<void(grpc::Status)> done_;
  bool answered_ = false;
};

}  // namespace

Task<Result<pb::LeaseKeepAliveResponse>> Client::lease_keep_alive(std::int64_t id) {
  pb::LeaseKeepAliveRequest request;
  request.set_id(id);
  auto start = [](Stubs& s, grpc::ClientContext* c, const pb::LeaseKeepAliveRequest* req,
                  pb::LeaseKeepAliveResponse* resp, auto cb) {
    auto* reactor = new KeepAliveOnce(req, resp, std::move(cb));
    s.lease->async()->LeaseKeepAlive(c, reactor);
    reactor->start();
  };
  return unary<pb::LeaseKeepAliveResponse>(local_url(), "LeaseKeepAlive", std::move(request),
                                           cfg_.request_timeout, start);
}

#undef WARDEN_ASYNC

}  // namespace etcd_warden::etcd
