#include "etcd_warden/etcd/snapshot_stream.hpp"

#include <mutex>

namespace etcd_warden::etcd {

namespace {

// gRPC calls OnReadDone/OnDone on its own threads; the sink runs on our pool.
// The reactor ends (and reports to the loop) only once both the stream is done
// and no sink call is running, since a sink call still uses the reactor.
class SnapshotReactor final : public grpc::ClientReadReactor<pb::SnapshotResponse> {
 public:
  using Done = std::function<void(grpc::Status, SnapshotStreamResult)>;

  SnapshotReactor(asio::thread_pool& pool, SnapshotSink sink, Done done)
      : strand_(asio::make_strand(pool)), sink_(std::move(sink)), done_(std::move(done)) {}

  grpc::ClientContext& context() { return context_; }

  void start(pb::Maintenance::Stub& stub) {
    stub.async()->Snapshot(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // end of stream or failure: OnDone follows
    if (!result_.db_bytes) {
      result_.db_bytes = Bytes{response_.remaining_bytes() + response_.blob().size()};
    }
    auto chunk = std::make_shared<std::string>(std::move(*response_.mutable_blob()));
    {
      std::lock_guard lock(mutex_);
      sink_busy_ = true;
    }
    asio::post(strand_, [this, chunk] { consume(*chunk); });
  }

  void OnDone(const grpc::Status& status) override {
    std::unique_lock lock(mutex_);
    status_ = status;
    stream_done_ = true;
    if (!sink_busy_) finish(lock);
  }

 private:
  void consume(const std::string& chunk) {
    result_.received = result_.received + Bytes{chunk.size()};
    auto error = sink_(std::as_bytes(std::span(chunk.data(), chunk.size())));
    std::unique_lock lock(mutex_);
    sink_busy_ = false;
    if (error) {
      result_.sink_error = *error;
      context_.TryCancel();
    }
    if (stream_done_) {
      finish(lock);
      return;
    }
    lock.unlock();
    if (!error) StartRead(&response_);
  }

  void finish(std::unique_lock<std::mutex>& lock) {
    auto done = std::move(done_);
    auto status = status_;
    auto result = result_;
    lock.unlock();
    delete this;  // gRPC is done with us (OnDone ran) and no sink call is left
    done(std::move(status), std::move(result));
  }

  grpc::ClientContext context_;
  pb::SnapshotRequest request_;
  pb::SnapshotResponse response_;
  asio::strand<asio::thread_pool::executor_type> strand_;
  SnapshotSink sink_;
  Done done_;
  std::mutex mutex_;
  bool sink_busy_ = false;
  bool stream_done_ = false;
  grpc::Status status_;
  SnapshotStreamResult result_;
};

}  // namespace

Task<SnapshotStreamResult> stream_snapshot(Client& client, std::string url,
                                           config::Duration timeout, asio::thread_pool& pool,
                                           SnapshotSink sink) {
  SnapshotStreamResult out;
  auto found = client.stubs_for(url);
  if (auto* error = std::get_if<std::string>(&found)) {
    out.error = Error{grpc::StatusCode::INVALID_ARGUMENT, url, *error};
    co_return out;
  }
  Stubs& stubs = *std::get<Stubs*>(found);
  // The auth token, as for unary calls: a cheap authenticated call first.
  std::string token;
  if (client.has_auth()) {
    auto get_token = client.auth_token(url);
    auto t = co_await std::move(get_token);
    if (!t) {
      out.error = t.error();
      co_return out;
    }
    token = t.value();
  }

  grpc::ClientContext* context = nullptr;
  auto start = [&](auto done) {
    auto* reactor = new SnapshotReactor(
        pool, std::move(sink), [done, &out](grpc::Status status, SnapshotStreamResult result) {
          out = std::move(result);
          done(std::move(status));
        });
    context = &reactor->context();
    context->set_deadline(std::chrono::system_clock::now() + timeout);
    if (!token.empty()) context->AddMetadata("token", token);
    client.track(context);
    reactor->start(*stubs.maintenance);
  };
  auto op = await_grpc(client.executor(), std::move(start));
  grpc::Status status = co_await std::move(op);
  client.untrack(context);  // the reactor (and its context) is gone; only the address is forgotten
  if (!status.ok() && out.sink_error.empty()) {
    out.error = Error{status.error_code(), url, describe_failure("Snapshot", status, timeout)};
  }
  co_return out;
}

}  // namespace etcd_warden::etcd
