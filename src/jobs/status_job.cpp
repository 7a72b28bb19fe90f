#include "etcd_warden/jobs/status_job.hpp"
#include "etcd_warden/util/hex_id.hpp"

#include <spdlog/spdlog.h>

#include "etcd_warden/jobs/maintenance_ops.hpp"
#include "etcd_warden/net/metrics_scrape.hpp"

namespace etcd_warden::jobs {

namespace {

std::string alarm_name(etcdserverpb::AlarmType type) {
  switch (type) {
    case etcdserverpb::NOSPACE:
      return "NOSPACE";
    case etcdserverpb::CORRUPT:
      return "CORRUPT";
    default:
      return "NONE";
  }
}

std::string alarms_text(const std::vector<status::Alarm>& alarms) {
  std::string out;
  for (const auto& a : alarms) out += (out.empty() ? "" : ",") + a.type + "@" + hex_id(a.member_id);
  return out.empty() ? "none" : out;
}

}  // namespace

Task<sched::JobResult> StatusJob::run() {
  auto config = context_.config;
  auto etcd = context_.etcd;
  const status::MemberStatus previous = context_.board.member;
  status::MemberStatus member;
  member.polled = true;
  member.endpoint = etcd->local_url();

  auto st = co_await etcd->status();
  if (!st) {
    member.up = false;
    member.error = st.error().to_string();
    member.down_since =
        previous.up || !previous.down_since ? context_.clock.wall_now() : previous.down_since;
    // Keep the last known identity so the status line still says who is down.
    member.name = previous.name;
    member.member_id = previous.member_id;
    context_.board.member = member;
    publish(previous);
    co_return sched::JobResult::failure("etcd unreachable: " + member.error);
  }

  member.up = true;
  member.member_id = st->header().member_id();
  member.cluster_id = st->header().cluster_id();
  member.revision = st->header().revision();
  member.leader_id = st->leader();
  member.version = st->version();
  member.db_size = Bytes{static_cast<std::uint64_t>(std::max<std::int64_t>(0, st->dbsize()))};
  // etcd 3.3 and older have no dbSizeInUse; treat the whole file as in use.
  member.db_in_use =
      st->dbsizeinuse() > 0 ? Bytes{static_cast<std::uint64_t>(st->dbsizeinuse())} : member.db_size;
  member.raft_index = st->raftindex();
  member.raft_term = st->raftterm();
  member.is_learner = st->islearner();

  std::string partial;  // what we could not learn, for the result summary
  auto members = co_await etcd->member_list();
  if (!members && members.error().refused_by_learner()) {
    // A learner's warden asks a voting member instead; their wardens publish
    // their client URLs, which the learner reads from its own copy.
    auto find = find_voters(member.member_id);
    const bool found = co_await std::move(find);
    if (found) {
      auto again = etcd->member_list();
      members = co_await std::move(again);
    }
  }
  if (members) {
    member.member_count = static_cast<std::size_t>(members->members_size());
    std::vector<std::string> voters;
    for (const auto& m : members->members()) {
      if (m.id() == member.member_id) member.name = m.name();
      if (!m.islearner() && m.clienturls_size() > 0) voters.push_back(m.clienturls(0));
    }
    if (member.is_learner) etcd->set_voter_urls(std::move(voters));
  } else {
    partial += " memberlist: " + members.error().message;
    member.name = previous.name;
  }
  auto alarms = co_await etcd->alarms();
  if (alarms) {
    for (const auto& a : alarms->alarms()) {
      if (a.alarm() != etcdserverpb::NONE)
        member.alarms.push_back({a.memberid(), alarm_name(a.alarm())});
    }
  } else {
    partial += " alarms: " + alarms.error().message;
    member.alarms = previous.alarms;
  }
  co_await fill_quota(member, st.value());

  context_.board.member = member;
  publish(previous);
  if (!partial.empty() && member.is_learner) {
    // Not a failure of the learner: etcd refuses these calls on it and no
    // voting member is known yet. Said once per change, not every poll.
    const std::string why =
        "learner: member list and alarms unknown until a voting member is reachable (list one in "
        "etcd.endpoints, or wait for a voting member's warden to publish its URL):" +
        partial;
    if (why != learner_gap_) spdlog::warn("{}", why);
    learner_gap_ = why;
    co_return sched::JobResult::success("db=" + to_string(member.db_size) +
                                        " in_use=" + to_string(member.db_in_use) + "; " + why);
  }
  learner_gap_.clear();
  if (!partial.empty()) co_return sched::JobResult::failure("partial status:" + partial);
  co_return sched::JobResult::success("db=" + to_string(member.db_size) +
                                      " in_use=" + to_string(member.db_in_use));
}

std::optional<std::pair<Bytes, status::QuotaSource>> known_quota(
    const config::Etcd& cfg, const etcdserverpb::StatusResponse& st) {
  if (cfg.quota) return std::pair{*cfg.quota, status::QuotaSource::config};
  if (st.dbsizequota() > 0) {  // etcd 3.6 reports its quota in Status (field 12)
    return std::pair{Bytes{static_cast<std::uint64_t>(st.dbsizequota())},
                     status::QuotaSource::etcd_status};
  }
  return std::nullopt;
}

Task<bool> StatusJob::find_voters(std::uint64_t self) {
  auto etcd = context_.etcd;
  const CoordKeys keys(context_.config->coordination.prefix);
  auto read = read_disk_reports(etcd, keys, /*serializable=*/true);
  auto reports = co_await std::move(read);
  if (!reports) co_return false;
  std::vector<std::string> urls;
  for (const auto& [id, report] : reports.value()) {
    if (id != self && !report.client_url.empty()) urls.push_back(report.client_url);
  }
  if (urls.empty() || urls == etcd->voter_urls()) co_return false;
  etcd->set_voter_urls(std::move(urls));
  co_return true;
}

Task<void> StatusJob::fill_quota(status::MemberStatus& member,
                                 const etcdserverpb::StatusResponse& st) {
  const auto& cfg = *context_.config;
  if (auto known = known_quota(cfg.etcd, st)) {
    member.quota = known->first;
    member.quota_source = known->second;
    co_return;
  }
  constexpr auto kQuotaRefresh = std::chrono::minutes(10);
  const auto now = context_.clock.now();
  const bool reconnected = !context_.board.member.up;
  const bool fresh = quota_scraped_at_ && now - *quota_scraped_at_ < kQuotaRefresh;
  const std::string url = cfg.etcd.local_metrics_url();
  if (!url.empty() && (reconnected || !fresh || !context_.board.member.quota)) {
    quota_scraped_at_ = now;
    auto scrape = net::scrape_metrics(
        url, cfg.etcd.request_timeout, cfg.etcd.tls, *context_.blocking,
        [](const net::ParsedMetrics& m) { return m.value("etcd_server_quota_backend_bytes"); });
    const auto quota = co_await std::move(scrape);
    if (quota && *quota && **quota > 0) {
      member.quota = Bytes{static_cast<std::uint64_t>(**quota)};
      member.quota_source = status::QuotaSource::etcd_metrics;
      co_return;
    }
  }
  // Unknown: keep what an earlier poll learnt rather than flapping.
  member.quota = context_.board.member.quota;
  member.quota_source = context_.board.member.quota_source;
}

void StatusJob::publish(const status::MemberStatus& previous) {
  const status::MemberStatus& now = context_.board.member;
  auto& m = context_.metrics;
  m.etcd_up.Set(now.up ? 1 : 0);
  if (now.up) {
    m.member_db_size_bytes.Set(now.db_size.as_double());
    m.member_db_size_in_use_bytes.Set(now.db_in_use.as_double());
    m.member_is_leader.Set(now.is_leader() ? 1 : 0);
    if (now.quota) m.member_quota_bytes.Set(now.quota->as_double());
    for (const char* type : {"NOSPACE", "CORRUPT"}) {
      bool active = false;
      for (const auto& a : now.alarms) active = active || a.type == type;
      m.alarm(type).Set(active ? 1 : 0);
    }
  }

  // Log state changes, not polls.
  if (now.up != previous.up || !previous.polled) {
    if (now.up) {
      spdlog::info("etcd up endpoint={} member={} id={} version={} leader={} db={} in_use={}",
                   now.endpoint, now.name, hex_id(now.member_id), now.version,
                   hex_id(now.leader_id), to_string(now.db_size), to_string(now.db_in_use));
    } else {
      spdlog::warn("etcd down endpoint={} error=\"{}\"; maintenance waits until it is back",
                   now.endpoint, now.error);
    }
  }
  if (now.up && previous.up && now.leader_id != previous.leader_id) {
    spdlog::info("leader changed from={} to={}", hex_id(previous.leader_id), hex_id(now.leader_id));
  }
  const std::string alarms_now = alarms_text(now.alarms);
  if (now.up && alarms_now != alarms_text(previous.alarms) &&
      (previous.polled || !now.alarms.empty())) {
    const bool corrupt = alarms_now.find("CORRUPT") != std::string::npos;
    if (corrupt) {
      spdlog::critical("etcd alarms={}: data corruption reported; the warden never disarms CORRUPT",
                       alarms_now);
    } else if (now.alarms.empty()) {
      spdlog::info("etcd alarms cleared");
    } else {
      spdlog::warn("etcd alarms={}", alarms_now);
    }
  }
}

}  // namespace etcd_warden::jobs
