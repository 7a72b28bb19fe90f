// A cluster-wide mutex in etcd: one key, created by a Txn only if it does not
// exist (create_revision == 0), attached to a lease that the holder keeps
// alive. A crashed holder stops the keep-alives, its lease expires after the
// TTL and etcd deletes the key; a clean release revokes the lease (which
// deletes the key at once). Lives on the loop like the etcd client.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "etcd_warden/asio.hpp"
#include "etcd_warden/etcd/client.hpp"
#include "etcd_warden/sched/clock.hpp"

namespace etcd_warden::coord {

// "/etcd-warden/" + "defrag/lock", whether or not the prefix ends in '/'.
std::string key_under(const std::string& prefix, const std::string& name);
// The range_end that makes a Range cover every key starting with `prefix`
// (etcd's clientv3.GetPrefixRangeEnd: the last byte below 0xff incremented).
std::string prefix_end(std::string prefix);

class LeaseLock {
 public:
  enum class Outcome {
    held,    // we hold it
    busy,    // someone else does (`holder` says who)
    failed,  // etcd refused or did not answer (`reason`)
  };
  struct Attempt {
    Outcome outcome = Outcome::failed;
    std::string reason;               // failed: why; busy: "held by ..."
    std::string holder;               // busy: the holder's value
    std::unique_ptr<LeaseLock> lock;  // held
  };

  // One try: LeaseGrant(ttl), then Txn(if key absent: put key=value with the
  // lease; else: read it). Never waits for another holder.
  // `clock` times the keep-alives for as long as the lock is held: it must
  // outlive the lock (the daemon's clock does).
  static Task<Attempt> try_acquire(std::shared_ptr<etcd::Client> etcd, const sched::Clock& clock,
                                   std::string key, std::string value, std::chrono::seconds ttl);

  // Tries until held, failed, `max_wait` passed or the client is cancelled;
  // while someone else holds the key it only reads it (every `poll`).
  static Task<Attempt> acquire(std::shared_ptr<etcd::Client> etcd, const sched::Clock& clock,
                               std::string key, std::string value, std::chrono::seconds ttl,
                               config::Duration max_wait, config::Duration poll);

  // Who holds `key` now ("" = nobody), or an error.
  static Task<etcd::Result<std::string>> holder_of(std::shared_ptr<etcd::Client> etcd,
                                                   std::string key);

  ~LeaseLock();
  LeaseLock(const LeaseLock&) = delete;
  LeaseLock& operator=(const LeaseLock&) = delete;

  // Stops the keep-alives and revokes the lease (a short deadline, so that a
  // shutdown stays quick; if etcd does not answer the lease expires anyway).
  Task<void> release();
  // True once keep-alives failed for a whole TTL or etcd said the lease is
  // gone: the key may belong to someone else now.
  bool lost() const;
  std::int64_t lease_id() const { return lease_id_; }
  const std::string& key() const { return key_; }

 private:
  struct Keeper;
  LeaseLock(std::shared_ptr<etcd::Client> etcd, const sched::Clock& clock, std::string key,
            std::int64_t lease_id, std::chrono::seconds ttl);
  static Task<void> keep_alive(std::shared_ptr<Keeper> keeper);

  std::shared_ptr<etcd::Client> etcd_;
  std::string key_;
  std::int64_t lease_id_ = 0;
  std::shared_ptr<Keeper> keeper_;
  bool released_ = false;
};

}  // namespace etcd_warden::coord
