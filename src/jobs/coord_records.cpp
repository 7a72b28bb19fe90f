// The records under coordination.prefix: disk reports, the in-flight marker,
// the defrag round; writes guarded by the defrag lock.
#include "etcd_warden/jobs/maintenance_ops.hpp"

// GCC 12 at -O2 inlines Asio's awaitable frame operator new/delete (its
// recycling allocator) into large coroutines and then reports a
// -Wmismatched-new-delete that does not exist: both sides are Asio's own pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <spdlog/spdlog.h>

#include "etcd_warden/config/units.hpp"
#include "etcd_warden/coord/lease_lock.hpp"

namespace etcd_warden::jobs {

namespace pb = ::etcdserverpb;
using namespace std::chrono_literals;

namespace {

// A disk report is refreshed at most this often.
constexpr auto kDiskReportEvery = std::chrono::minutes(5);

pb::TxnRequest delete_key(const std::string& key) {
  pb::TxnRequest txn;
  txn.add_success()->mutable_request_delete_range()->set_key(key);
  return txn;
}

}  // namespace

CoordKeys::CoordKeys(const std::string& prefix)
    : lock(coord::key_under(prefix, "defrag/lock")),
      inflight(coord::key_under(prefix, "defrag/inflight")),
      round(coord::key_under(prefix, "defrag/round")),
      disk_prefix(coord::key_under(prefix, "disk/")),
      write_check(coord::key_under(prefix, "nospace-check")),
      consistency(coord::key_under(prefix, "consistency")) {}

std::string CoordKeys::disk(std::uint64_t member_id) const {
  return disk_prefix + hex_id(member_id);
}

Task<void> DiskReporter::publish(JobContext& context, std::uint64_t self, std::string client_url,
                                 bool force) {
  const auto now = context.clock.now();
  if (!force && last_ && now - *last_ < kDiskReportEvery && client_url == last_url_) co_return;
  auto config = context.config;
  auto etcd = context.etcd;
  auto measure = measure_free_disk(context, config->etcd.data_dir);
  auto free = co_await std::move(measure);
  if (!free) {
    spdlog::debug("disk report not published: {}", free.error());
    co_return;
  }
  const DiskReport report{*free, sched::unix_seconds(context.clock.wall_now()), client_url,
                          config->etcd.data_dir.string()};
  pb::PutRequest put;
  put.set_key(CoordKeys(config->coordination.prefix).disk(self));
  put.set_value(encode(report));
  auto send = etcd->put(std::move(put));
  auto done = co_await std::move(send);
  if (!done) {
    spdlog::debug("disk report not published: {}", done.error().to_string());
    co_return;
  }
  last_ = now;
  last_url_ = std::move(client_url);
}

Task<std::optional<DiskReport>> read_disk_report(std::shared_ptr<etcd::Client> etcd, CoordKeys keys,
                                                 std::uint64_t member) {
  auto read = read_record(etcd, keys.disk(member));
  auto answer = co_await std::move(read);
  if (!answer || !answer.value()) co_return std::nullopt;
  co_return parse_disk_report(*answer.value());
}

Task<etcd::Result<std::map<std::uint64_t, DiskReport>>> read_disk_reports(
    std::shared_ptr<etcd::Client> etcd, CoordKeys keys, bool serializable) {
  pb::RangeRequest range;
  range.set_key(keys.disk_prefix);
  range.set_range_end(coord::prefix_end(keys.disk_prefix));
  range.set_serializable(serializable);
  auto read = etcd->range(std::move(range));
  auto answer = co_await std::move(read);
  if (!answer) co_return answer.error();
  std::map<std::uint64_t, DiskReport> out;
  for (const auto& kv : answer->kvs()) {
    const auto id = parse_hex_id(std::string_view(kv.key()).substr(keys.disk_prefix.size()));
    if (!id) continue;
    if (auto report = parse_disk_report(kv.value())) out.emplace(*id, std::move(*report));
  }
  co_return out;
}

Task<etcd::Result<std::optional<std::string>>> read_record(std::shared_ptr<etcd::Client> etcd,
                                                           std::string key) {
  pb::RangeRequest range;
  range.set_key(std::move(key));
  auto read = etcd->range(std::move(range));
  auto answer = co_await std::move(read);
  if (!answer) co_return answer.error();
  if (answer->kvs_size() == 0) co_return std::optional<std::string>{};
  co_return std::optional<std::string>(answer->kvs(0).value());
}

namespace {

// A record read and parsed; an unreadable one counts as absent, with a
// warning that names it.
template <class T>
Task<etcd::Result<std::optional<T>>> read_parsed(std::shared_ptr<etcd::Client> etcd,
                                                 std::string key,
                                                 std::optional<T> (*parse)(std::string_view),
                                                 const char* what) {
  auto read = read_record(etcd, key);
  auto answer = co_await std::move(read);
  if (!answer) co_return answer.error();
  if (!answer.value()) co_return std::optional<T>{};
  std::optional<T> parsed = parse(*answer.value());
  if (!parsed) spdlog::warn("ignoring unreadable {} {}='{}'", what, key, *answer.value());
  co_return parsed;
}

}  // namespace

Task<etcd::Result<bool>> put_while_locked(std::shared_ptr<etcd::Client> etcd, std::string lock_key,
                                          std::int64_t lock_lease, std::string key,
                                          std::string value) {
  pb::TxnRequest txn;
  auto* cmp = txn.add_compare();
  cmp->set_key(std::move(lock_key));
  cmp->set_target(pb::Compare::LEASE);
  cmp->set_result(pb::Compare::EQUAL);
  cmp->set_lease(lock_lease);
  auto* put = txn.add_success()->mutable_request_put();
  put->set_key(std::move(key));
  put->set_value(std::move(value));
  auto send = etcd->txn(std::move(txn));
  auto answer = co_await std::move(send);
  if (!answer) co_return answer.error();
  co_return answer->succeeded();
}

Task<etcd::Result<std::optional<DefragMarker>>> read_marker(std::shared_ptr<etcd::Client> etcd,
                                                            const CoordKeys& keys) {
  return read_parsed<DefragMarker>(std::move(etcd), keys.inflight, parse_marker, "defrag marker");
}

Task<etcd::Result<bool>> write_marker(std::shared_ptr<etcd::Client> etcd, const CoordKeys& keys,
                                      const DefragMarker& marker, std::int64_t lock_lease) {
  return put_while_locked(std::move(etcd), keys.lock, lock_lease, keys.inflight, encode(marker));
}

// By value: a coroutine's reference parameter could outlive its argument.
Task<etcd::Result<bool>> delete_marker(
    std::shared_ptr<etcd::Client> etcd,
    CoordKeys keys) {  // NOLINT(performance-unnecessary-value-param)
  auto send = etcd->txn(delete_key(keys.inflight));
  auto answer = co_await std::move(send);
  if (!answer) co_return answer.error();
  co_return true;
}

Task<etcd::Result<std::optional<DefragRound>>> read_round(std::shared_ptr<etcd::Client> etcd,
                                                          const CoordKeys& keys) {
  return read_parsed<DefragRound>(std::move(etcd), keys.round, parse_round, "defrag round");
}

}  // namespace etcd_warden::jobs
