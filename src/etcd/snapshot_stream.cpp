#include "etcd_warden/etcd/snapshot_stream.hpp"

#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace etcd_warden::etcd {

namespace {

// How far reading may run ahead of the sink. With read-ahead, receiving (gRPC's
// threads) overlaps writing and compressing (the pool) instead of taking turns
// with it; 1 MiB (32 of etcd's 32 KiB chunks) is enough to keep both busy and
// keeps memory flat whatever the database size.
constexpr std::size_t kMaxReadAhead = std::size_t{1} << 20;

// gRPC calls OnReadDone/OnDone on its own threads; the sink runs on our pool,
// one chunk at a time and in order. At most one read is outstanding: the next
// one starts right away while less than kMaxReadAhead is queued, otherwise
// when the sink has drained the queue below it. The reactor ends (and reports
// to the loop) only once both the stream is done and the sink is idle, since
// a sink call still uses the reactor.
class SnapshotReactor final : public grpc::ClientReadReactor<pb::SnapshotResponse> {
 public:
  using Done = std::function<void(grpc::Status, SnapshotStreamResult)>;

  // `context` is shared with the caller, which keeps it registered with the
  // Client (so cancel_all() may call TryCancel on it) until its coroutine is
  // back on the loop: long after this reactor deleted itself.
  SnapshotReactor(std::shared_ptr<grpc::ClientContext> context, asio::thread_pool& pool,
                  SnapshotSink sink, Done done)
      : context_(std::move(context)),
        strand_(asio::make_strand(pool)),
        sink_(std::move(sink)),
        done_(std::move(done)) {}

  void start(pb::Maintenance::Stub& stub) {
    stub.async()->Snapshot(context_.get(), &request_, this);
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // end of stream or failure: OnDone follows
    std::unique_lock lock(mutex_);
    if (!result_.db_bytes) {
      result_.db_bytes = Bytes{response_.remaining_bytes() + response_.blob().size()};
    }
    if (!result_.sink_error.empty()) return;  // cancelled: OnDone follows
    // Swapping in a used buffer lets the next message be parsed into memory
    // that is already ours, instead of allocating (and freeing) every chunk.
    std::string chunk;
    if (!spare_.empty()) {
      chunk = std::move(spare_.back());
      spare_.pop_back();
    }
    chunk.swap(*response_.mutable_blob());
    queued_bytes_ += chunk.size();
    queue_.push_back(std::move(chunk));
    const bool start_sink = !sink_busy_;
    sink_busy_ = true;
    const bool read_on = queued_bytes_ < kMaxReadAhead;
    read_paused_ = !read_on;
    lock.unlock();
    if (start_sink) asio::post(strand_, [this] { drain(); });
    if (read_on) StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    std::unique_lock lock(mutex_);
    status_ = status;
    stream_done_ = true;
    if (!sink_busy_) finish(lock);
  }

 private:
  // Hands the queued chunks to the sink until the queue is empty.
  void drain() {
    std::unique_lock lock(mutex_);
    while (!queue_.empty()) {
      std::string chunk = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      auto taken = sink_(std::as_bytes(std::span(chunk.data(), chunk.size())));
      lock.lock();
      result_.received = result_.received + Bytes{chunk.size()};
      queued_bytes_ -= chunk.size();
      if (spare_.size() < kMaxSpares) spare_.push_back(std::move(chunk));
      if (!taken) {
        result_.sink_error = std::move(taken.error());
        queue_.clear();
        queued_bytes_ = 0;
        // Unlocked, in case gRPC runs a reaction inline; sink_busy_ still
        // keeps OnDone from finishing (deleting us) meanwhile.
        lock.unlock();
        context_->TryCancel();
        lock.lock();
        break;
      }
      if (read_paused_ && !stream_done_ && queued_bytes_ < kMaxReadAhead) {
        read_paused_ = false;
        lock.unlock();
        StartRead(&response_);
        lock.lock();
      }
    }
    sink_busy_ = false;
    if (stream_done_) finish(lock);
  }

  void finish(std::unique_lock<std::mutex>& lock) {
    auto done = std::move(done_);
    auto status = status_;
    auto result = result_;
    lock.unlock();
    delete this;  // gRPC is done with us (OnDone ran) and no sink call is left
    done(std::move(status), std::move(result));
  }

  static constexpr std::size_t kMaxSpares = 8;

  std::shared_ptr<grpc::ClientContext> context_;
  pb::SnapshotRequest request_;
  pb::SnapshotResponse response_;
  asio::strand<asio::thread_pool::executor_type> strand_;
  SnapshotSink sink_;
  Done done_;
  std::mutex mutex_;
  std::deque<std::string> queue_;  // received, not yet given to the sink
  std::size_t queued_bytes_ = 0;
  std::vector<std::string> spare_;  // emptied chunks, reused as parse buffers
  bool sink_busy_ = false;          // a drain() is posted or running
  bool read_paused_ = false;        // no read outstanding: the queue is full
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
  if (!found) {
    out.error = Error{grpc::StatusCode::INVALID_ARGUMENT, url, found.error()};
    co_return out;
  }
  Stubs& stubs = **found;
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

  // The context outlives the reactor (which deletes itself on gRPC's or the
  // pool's thread before the loop hears of it): it stays registered, and so
  // reachable by cancel_all(), until untrack() below, and this frame keeps it
  // alive until then. TryCancel on a finished call does nothing.
  auto context = std::make_shared<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  if (!token.empty()) context->AddMetadata("token", token);
  auto start = [&](auto done) {
    auto* reactor = new SnapshotReactor(
        context, pool, std::move(sink),
        [done = std::move(done), &out](grpc::Status status, SnapshotStreamResult result) mutable {
          out = std::move(result);
          done(std::move(status));
        });
    client.track(context.get());
    reactor->start(*stubs.maintenance);
  };
  auto op = await_grpc(client.executor(), context, std::move(start));
  grpc::Status status = co_await std::move(op);
  client.untrack(context.get());
  if (!status.ok() && out.sink_error.empty()) {
    out.error = Error{status.error_code(), url, describe_failure("Snapshot", status, timeout)};
  }
  co_return out;
}

}  // namespace etcd_warden::etcd
