// What the defrag and alarms jobs see: every member's Status, the alarms,
// free disk, and whether a defrag is running.
#include "etcd_warden/jobs/maintenance_ops.hpp"

// GCC 12 at -O2 inlines Asio's awaitable frame operator new/delete (its
// recycling allocator) into large coroutines and then reports a
// -Wmismatched-new-delete that does not exist: both sides are Asio's own pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <spdlog/spdlog.h>

#include <cerrno>

#include "etcd_warden/io/disk.hpp"
#include "etcd_warden/net/metrics_scrape.hpp"
#include "etcd_warden/util/offload.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::jobs {

namespace pb = ::etcdserverpb;
using namespace std::chrono_literals;

Task<util::Result<ClusterView>> probe_cluster(std::shared_ptr<etcd::Client> etcd,
                                              std::uint64_t* self) {
  if (self != nullptr) {
    *self = 0;
    auto local_op = etcd->status();
    auto local = co_await std::move(local_op);
    if (local) *self = local->header().member_id();
  }
  auto list_op = etcd->member_list();
  auto list = co_await std::move(list_op);
  if (!list) co_return util::fail(list.error().to_string());

  ClusterView view;
  for (const auto& m : list->members()) {
    MemberView v;
    v.id = m.id();
    v.name = m.name();
    v.is_learner = m.islearner();
    if (m.clienturls_size() > 0) v.url = m.clienturls(0);
    if (v.url.empty()) {
      v.error = "no client URL (member added but not started?)";
      view.members.push_back(std::move(v));
      continue;
    }
    auto status_op = etcd->status(v.url);
    auto st = co_await std::move(status_op);
    if (!st) {
      v.error = st.error().to_string();
    } else if (st->header().member_id() != v.id) {
      v.error = v.url + " answered as member " + hex_id(st->header().member_id());
    } else {
      v.answered = true;
      v.leader_id = st->leader();
      v.db_size = Bytes::non_negative(st->dbsize());
      // etcd 3.3 and older have no dbSizeInUse: the whole file counts as used.
      v.db_in_use = st->dbsizeinuse() > 0 ? Bytes::non_negative(st->dbsizeinuse()) : v.db_size;
      v.raft_index = st->raftindex();
      v.revision = st->header().revision();
    }
    view.members.push_back(std::move(v));
  }

  auto alarms_op = etcd->alarms();
  auto alarms = co_await std::move(alarms_op);
  if (!alarms) co_return util::fail(alarms.error().to_string());
  for (const auto& a : alarms->alarms()) {
    if (a.alarm() == pb::NOSPACE) view.alarms.push_back({a.memberid(), AlarmKind::nospace});
    if (a.alarm() == pb::CORRUPT) view.alarms.push_back({a.memberid(), AlarmKind::corrupt});
  }
  co_return view;
}

Task<util::Result<Bytes>> measure_free_disk(JobContext& context, std::filesystem::path dir) {
  auto measure = offload(*context.blocking, context.executor,
                         [dir = std::move(dir)] { return io::free_space(dir); });
  co_return co_await std::move(measure);
}

Task<std::optional<bool>> local_defrag_inflight(const config::Config& cfg,
                                                asio::thread_pool& pool) {
  const std::string url = cfg.etcd.local_metrics_url();
  if (url.empty()) co_return std::nullopt;
  auto scrape = net::scrape_metrics(url, cfg.etcd.request_timeout, cfg.etcd.tls, pool,
                                    [](const net::ParsedMetrics& m) -> std::optional<bool> {
                                      const auto v = m.value("etcd_disk_defrag_inflight");
                                      if (!v) return std::nullopt;
                                      return *v != 0;
                                    });
  auto inflight = co_await std::move(scrape);
  if (!inflight) co_return std::nullopt;
  co_return *inflight;
}

Task<std::optional<bool>> defrag_running(std::shared_ptr<etcd::Client> etcd,
                                         const config::Config& cfg, asio::thread_pool& pool,
                                         const MemberView& member, bool local) {
  if (local) {
    auto metric = local_defrag_inflight(cfg, pool);
    auto inflight = co_await std::move(metric);
    if (inflight) co_return inflight;
  }
  if (member.url.empty()) co_return std::nullopt;
  pb::RangeRequest probe;
  probe.set_key(CoordKeys(cfg.coordination.prefix).inflight);
  probe.set_serializable(true);  // answered by this member alone, from its backend
  probe.set_count_only(true);
  const auto timeout = std::min<config::Duration>(etcd->request_timeout(), 2s);
  auto read = etcd->unary<pb::RangeResponse>(
      member.url, "Range", std::move(probe), timeout,
      [](etcd::Stubs& s, grpc::ClientContext* c, const pb::RangeRequest* req,
         pb::RangeResponse* resp, auto cb) { s.kv->async()->Range(c, req, resp, std::move(cb)); });
  auto answer = co_await std::move(read);
  if (answer) co_return false;
  if (answer.error().code == grpc::StatusCode::DEADLINE_EXCEEDED) co_return true;
  co_return std::nullopt;
}

}  // namespace etcd_warden::jobs
