// The warden's etcd v3 client. One gRPC channel per endpoint URL (the
// configured ones and any member URL learnt from MemberList), TLS and
// username/password auth, a deadline on every call, completions on the loop.
// Lives on the loop thread: not thread-safe, and need not be.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"
#include "etcd/v3lockpb/v3lock.grpc.pb.h"
#include "etcd_warden/asio.hpp"
#include "etcd_warden/config/config.hpp"
#include "etcd_warden/etcd/await_grpc.hpp"
#include "etcd_warden/etcd/result.hpp"
#include "etcd_warden/util/result.hpp"
#include "etcd_warden/util/url.hpp"

namespace etcd_warden::etcd {

namespace pb = ::etcdserverpb;

// Every stub of one channel.
struct Stubs {
  std::string url;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::KV::Stub> kv;
  std::unique_ptr<pb::Lease::Stub> lease;
  std::unique_ptr<pb::Cluster::Stub> cluster;
  std::unique_ptr<pb::Maintenance::Stub> maintenance;
  std::unique_ptr<pb::Auth::Stub> auth;
  std::unique_ptr<v3lockpb::Lock::Stub> lock;
};

// "5s", "1m30s": how long a deadline was, for error messages.
std::string describe_timeout(config::Duration d);
// "Status: unreachable (connection refused)": one line from a failed call.
std::string describe_failure(std::string_view what, const grpc::Status& status,
                             config::Duration timeout);

class Client : public std::enable_shared_from_this<Client> {
 public:
  // Reads the TLS files and the password file now, so a bad path is reported
  // at start-up (and by check-config's caller) naming the file.
  static util::Result<std::shared_ptr<Client>> create(const config::Etcd& cfg,
                                                      asio::any_io_executor executor);

  const std::string& local_url() const { return cfg_.endpoints.front(); }
  const std::vector<std::string>& endpoints() const { return cfg_.endpoints; }
  config::Duration request_timeout() const { return cfg_.request_timeout; }

  // --- Calls. `url` may be any member's client URL; default: the local member.
  Task<Result<pb::StatusResponse>> status(std::string url);
  Task<Result<pb::StatusResponse>> status() { return status(local_url()); }
  // Asks the configured endpoints in order until one answers, then the
  // voting members' URLs set with set_voter_urls().
  Task<Result<pb::MemberListResponse>> member_list();
  // The local member first; when it is a learner (which refuses Alarm), the
  // other endpoints as member_list() does. The alarm list is cluster-wide.
  Task<Result<pb::AlarmResponse>> alarms();
  Task<Result<pb::AlarmResponse>> alarm(pb::AlarmRequest request);
  // Client URLs of voting members, for a learner's warden: etcd refuses
  // MemberList and Alarm on a learner, so they are asked of these instead.
  void set_voter_urls(std::vector<std::string> urls) { voter_urls_ = std::move(urls); }
  const std::vector<std::string>& voter_urls() const { return voter_urls_; }
  Task<Result<pb::RangeResponse>> range(pb::RangeRequest request);
  Task<Result<pb::PutResponse>> put(pb::PutRequest request);
  Task<Result<pb::TxnResponse>> txn(pb::TxnRequest request);
  Task<Result<pb::CompactionResponse>> compact(pb::CompactionRequest request);
  // A physical compaction of a large database takes longer than a request.
  Task<Result<pb::CompactionResponse>> compact(pb::CompactionRequest request,
                                               config::Duration timeout);
  Task<Result<pb::DefragmentResponse>> defragment(std::string url, config::Duration timeout);
  // The member's hash of its key space up to `revision` (0: the latest); it
  // reads the whole backend, hence its own deadline.
  Task<Result<pb::HashKVResponse>> hash_kv(std::string url, std::int64_t revision,
                                           config::Duration timeout);
  Task<Result<pb::MoveLeaderResponse>> move_leader(std::string leader_url, std::uint64_t target_id);
  Task<Result<pb::LeaseGrantResponse>> lease_grant(std::chrono::seconds ttl);
  Task<Result<pb::LeaseRevokeResponse>> lease_revoke(std::int64_t id);
  Task<Result<pb::LeaseRevokeResponse>> lease_revoke(std::int64_t id, config::Duration timeout);
  // One keep-alive of a lease: a LeaseKeepAlive stream that carries a single
  // request and answer, so it has a deadline like every other call. TTL 0 in
  // the answer means the lease is gone.
  Task<Result<pb::LeaseKeepAliveResponse>> lease_keep_alive(std::int64_t id);

  // The generic unary call the ones above are made of: a deadline, the auth
  // token, cancellation on shutdown, and a one-line error on failure.
  template <class Resp, class Req, class Method>
  Task<Result<Resp>> unary(std::string url, std::string_view what, Req request,
                           config::Duration timeout, Method method);

  // Cancels every call in flight (shutdown): each completes with CANCELLED.
  // Calls made afterwards still run (a lock must still be released), but
  // jobs check cancelled() before starting anything new.
  void cancel_all();
  bool cancelled() const { return cancelled_; }
  // Streaming calls register their context so cancel_all() reaches them too.
  void track(grpc::ClientContext* context) { in_flight_.insert(context); }
  void untrack(grpc::ClientContext* context) { in_flight_.erase(context); }
  bool has_auth() const { return cfg_.auth.has_value(); }
  // The auth token for calls made outside unary() (streams).
  Task<Result<std::string>> auth_token(std::string url) { return token(std::move(url)); }
  std::size_t in_flight() const { return in_flight_.size(); }

  // The channel (and stubs) for a URL, made on first use. Error text on a bad URL.
  util::Result<Stubs*> stubs_for(const std::string& url);
  asio::any_io_executor executor() const { return executor_; }

 private:
  Client(config::Etcd cfg, asio::any_io_executor executor)
      : cfg_(std::move(cfg)), executor_(std::move(executor)) {}

  // The auth token ("" without auth); authenticates when there is none yet.
  Task<Result<std::string>> token(std::string url);
  static bool is_token_error(const grpc::Status& status);

  config::Etcd cfg_;
  asio::any_io_executor executor_;
  std::shared_ptr<grpc::ChannelCredentials> tls_credentials_;
  grpc::ChannelArguments channel_args_;
  std::string password_;  // from auth.password_file; never logged
  std::string token_;
  std::vector<std::string> voter_urls_;
  // Every URL member_list() and a learner's alarm() may ask, in order, once each.
  std::vector<std::string> fallback_order() const;
  // Asks each of `urls` in turn until one answers; else the last error
  // (`last` when there is no URL to ask). Defined and used in client.cpp.
  template <class Resp, class Req, class Method>
  Task<Result<Resp>> first_answer(std::vector<std::string> urls, std::string_view what, Req request,
                                  Method method, Error last);
  std::map<std::string, std::unique_ptr<Stubs>> stubs_;
  std::set<grpc::ClientContext*> in_flight_;
  bool cancelled_ = false;
};

template <class Resp, class Req, class Method>
Task<Result<Resp>> Client::unary(std::string url, std::string_view what, Req request,
                                 config::Duration timeout, Method method) {
  auto found = stubs_for(url);
  if (!found) co_return Error{grpc::StatusCode::INVALID_ARGUMENT, url, found.error()};
  Stubs& stubs = **found;

  std::string auth_token;
  if (cfg_.auth) {
    auto get_token = token(url);
    auto t = co_await std::move(get_token);
    if (!t) co_return t.error();
    auth_token = std::move(t.value());
  }

  // Owned by the call, not the coroutine frame: gRPC may still touch it after
  // a cancelled coroutine is gone.
  struct Call {
    grpc::ClientContext context;
    Req request;
    Resp response;
  };
  auto call = std::make_shared<Call>();
  call->request = std::move(request);
  call->context.set_deadline(std::chrono::system_clock::now() + timeout);
  if (!auth_token.empty()) call->context.AddMetadata("token", auth_token);

  auto self = shared_from_this();  // the client outlives its calls
  in_flight_.insert(&call->context);
  auto start = [&stubs, &call, &method](auto done) {
    method(stubs, &call->context, &call->request, &call->response,
           [done = std::move(done)](grpc::Status s) mutable { done(std::move(s)); });
  };
  // see asio.hpp: no temporaries in co_await
  auto op = await_grpc(executor_, call, std::move(start));
  grpc::Status status = co_await std::move(op);
  in_flight_.erase(&call->context);

  if (!status.ok()) {
    if (is_token_error(status)) token_.clear();  // re-authenticate on the next call
    co_return Error{status.error_code(), url, describe_failure(what, status, timeout)};
  }
  co_return std::move(call->response);
}

}  // namespace etcd_warden::etcd
