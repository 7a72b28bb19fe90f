#include "etcd_warden/coord/lease_lock.hpp"

// GCC 12 at -O2 inlines Asio's awaitable frame operator new/delete (its
// recycling allocator) into large coroutines and then reports a
// -Wmismatched-new-delete that does not exist: both sides are Asio's own pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <spdlog/spdlog.h>

namespace etcd_warden::coord {

namespace pb = ::etcdserverpb;

namespace {

// Revoking on release must not hold up a shutdown (4 s grace in the daemon).
constexpr config::Duration kReleaseTimeout = std::chrono::seconds(2);

config::Duration release_timeout(const etcd::Client& etcd) {
  return std::min(etcd.request_timeout(), kReleaseTimeout);
}

// The lock is one key, read with a plain (linearizable) Range.
pb::RangeRequest read_key(const std::string& key) {
  pb::RangeRequest r;
  r.set_key(key);
  return r;
}

}  // namespace

std::string key_under(const std::string& prefix, const std::string& name) {
  if (prefix.empty() || prefix.back() == '/') return prefix + name;
  return prefix + "/" + name;
}

std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last < 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');  // every key
}

struct LeaseLock::Keeper {
  Keeper(std::shared_ptr<etcd::Client> client, const sched::Clock& c, std::int64_t lease,
         std::chrono::seconds t)
      : etcd(std::move(client)), clock(c), lease_id(lease), ttl(t), timer(etcd->executor()) {}
  std::shared_ptr<etcd::Client> etcd;
  const sched::Clock& clock;
  std::int64_t lease_id;
  std::chrono::seconds ttl;
  asio::steady_timer timer;
  sched::SteadyTime last_ok = clock.now();
  bool stop = false;
  bool lost = false;
};

LeaseLock::LeaseLock(std::shared_ptr<etcd::Client> etcd, const sched::Clock& clock, std::string key,
                     std::int64_t lease_id, std::chrono::seconds ttl)
    : etcd_(std::move(etcd)),
      key_(std::move(key)),
      lease_id_(lease_id),
      keeper_(std::make_shared<Keeper>(etcd_, clock, lease_id, ttl)) {
  asio::co_spawn(etcd_->executor(), keep_alive(keeper_), asio::detached);
}

LeaseLock::~LeaseLock() {
  if (released_) return;
  // Only reached when a job forgot release() or its coroutine was destroyed:
  // the lease then simply expires after its TTL.
  keeper_->stop = true;
  keeper_->timer.cancel();
  spdlog::warn("lock {} dropped without release; it expires with lease {:x} within {}s", key_,
               lease_id_, keeper_->ttl.count());
}

bool LeaseLock::lost() const {
  return keeper_->lost;
}

Task<void> LeaseLock::keep_alive(std::shared_ptr<Keeper> k) {
  // A third of the TTL, as etcd's own clients do: two keep-alives may fail
  // before the lease is at risk.
  const auto interval = std::max<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(k->ttl) / 3,
      std::chrono::milliseconds(300));
  while (!k->stop) {
    boost::system::error_code ec;
    k->timer.expires_after(interval);
    auto wait = k->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(wait);
    if (k->stop) break;
    auto call = k->etcd->lease_keep_alive(k->lease_id);
    auto answer = co_await std::move(call);
    if (k->stop) break;
    const auto now = k->clock.now();
    if (answer && answer->ttl() > 0) {
      k->last_ok = now;
      continue;
    }
    if (answer) {
      spdlog::error("lock lease {:x} expired (etcd answered TTL 0); the lock is lost", k->lease_id);
      k->lost = true;
      break;
    }
    if (now - k->last_ok >= k->ttl) {
      spdlog::error("lock lease {:x}: no keep-alive for {}s ({}); the lock is lost", k->lease_id,
                    k->ttl.count(), answer.error().to_string());
      k->lost = true;
      break;
    }
    spdlog::warn("lock lease {:x}: keep-alive failed ({}); retrying", k->lease_id,
                 answer.error().to_string());
  }
}

Task<void> LeaseLock::release() {
  if (released_) co_return;
  released_ = true;
  keeper_->stop = true;
  keeper_->timer.cancel();
  auto revoke = etcd_->lease_revoke(lease_id_, release_timeout(*etcd_));
  auto revoked = co_await std::move(revoke);
  if (!revoked) {
    spdlog::warn("lock {}: revoking lease {:x} failed ({}); it expires within {}s", key_, lease_id_,
                 revoked.error().to_string(), keeper_->ttl.count());
  }
}

Task<LeaseLock::Attempt> LeaseLock::try_acquire(std::shared_ptr<etcd::Client> etcd,
                                                const sched::Clock& clock, std::string key,
                                                std::string value, std::chrono::seconds ttl) {
  Attempt out;
  auto grant = etcd->lease_grant(ttl);
  auto lease = co_await std::move(grant);
  if (!lease) {
    out.reason = "cannot take lock " + key + ": " + lease.error().to_string();
    co_return out;
  }
  if (!lease->error().empty()) {
    out.reason = "cannot take lock " + key + ": LeaseGrant: " + lease->error();
    co_return out;
  }
  const std::int64_t lease_id = lease->id();

  pb::TxnRequest txn;
  auto* cmp = txn.add_compare();
  cmp->set_key(key);
  cmp->set_target(pb::Compare::CREATE);
  cmp->set_result(pb::Compare::EQUAL);
  cmp->set_create_revision(0);  // the key does not exist
  auto* put = txn.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  put->set_lease(lease_id);
  *txn.add_failure()->mutable_request_range() = read_key(key);

  auto send = etcd->txn(std::move(txn));
  auto answer = co_await std::move(send);
  if (answer && answer->succeeded()) {
    out.outcome = Outcome::held;
    out.lock.reset(new LeaseLock(etcd, clock, key, lease_id, ttl));
    co_return out;
  }
  // Not ours: give the lease back now rather than leave it to expire.
  auto revoke = etcd->lease_revoke(lease_id, release_timeout(*etcd));
  co_await std::move(revoke);
  if (!answer) {
    out.reason = "cannot take lock " + key + ": " + answer.error().to_string();
    co_return out;
  }
  out.outcome = Outcome::busy;
  if (answer->responses_size() > 0 && answer->responses(0).has_response_range() &&
      answer->responses(0).response_range().kvs_size() > 0) {
    out.holder = answer->responses(0).response_range().kvs(0).value();
  }
  out.reason = "lock " + key + " held by " + (out.holder.empty() ? "another warden" : out.holder);
  co_return out;
}

Task<etcd::Result<std::string>> LeaseLock::holder_of(std::shared_ptr<etcd::Client> etcd,
                                                     std::string key) {
  auto read = etcd->range(read_key(key));
  auto answer = co_await std::move(read);
  if (!answer) co_return answer.error();
  if (answer->kvs_size() == 0) co_return std::string();
  std::string holder = answer->kvs(0).value();
  if (holder.empty()) holder = "?";
  co_return holder;
}

Task<LeaseLock::Attempt> LeaseLock::acquire(std::shared_ptr<etcd::Client> etcd,
                                            const sched::Clock& clock, std::string key,
                                            std::string value, std::chrono::seconds ttl,
                                            config::Duration max_wait, config::Duration poll) {
  const auto give_up = clock.now() + max_wait;
  asio::steady_timer timer(etcd->executor());
  Attempt last;
  while (true) {
    auto attempt = try_acquire(etcd, clock, key, value, ttl);
    last = co_await std::move(attempt);
    if (last.outcome != Outcome::busy) co_return last;
    // Busy: wait for the key to go, reading only.
    while (true) {
      if (etcd->cancelled() || clock.now() + poll > give_up) co_return last;
      boost::system::error_code ec;
      timer.expires_after(poll);
      auto wait = timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      co_await std::move(wait);
      auto read = holder_of(etcd, key);
      auto holder = co_await std::move(read);
      if (!holder) {
        last.outcome = Outcome::failed;
        last.reason = "cannot read lock " + key + ": " + holder.error().to_string();
        co_return last;
      }
      if (holder.value().empty()) break;  // free: try again
      last.holder = holder.value();
      last.reason = "lock " + key + " held by " + last.holder;
    }
  }
}

}  // namespace etcd_warden::coord
