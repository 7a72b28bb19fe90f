#include "etcd_warden/jobs/defrag_records.hpp"

#include "etcd_warden/util/hex_id.hpp"
#include "record_fields.hpp"

namespace etcd_warden::jobs {

using namespace detail;

std::string encode(const DefragMarker& m) {
  return "member=" + hex_id(m.member_id) + " size_before=" + std::to_string(m.size_before.value) +
         " started=" + std::to_string(m.started_unix) + " until=" + std::to_string(m.until_unix) +
         " by=" + (m.by.empty() ? std::string("?") : escape(m.by));
}

std::optional<DefragMarker> parse_marker(std::string_view text) {
  const auto f = fields(text);
  DefragMarker m;
  std::uint64_t size = 0;
  if (!number(f, "member", m.member_id, 16) || !number(f, "size_before", size) ||
      !number(f, "started", m.started_unix) || !number(f, "until", m.until_unix)) {
    return std::nullopt;
  }
  m.size_before = Bytes{size};
  m.by = text_field(f, "by");
  return m;
}

MarkerState marker_state(const DefragMarker& m, std::optional<Bytes> current_size,
                         std::optional<bool> inflight, std::int64_t now_unix) {
  if (current_size && *current_size != m.size_before) return MarkerState::finished;
  if (inflight && !*inflight) return MarkerState::finished;
  if (now_unix > m.until_unix) return MarkerState::expired;
  return MarkerState::running;
}

std::string encode(const DefragRound& r) {
  std::string done;
  for (const auto id : r.done) done += (done.empty() ? "" : ",") + hex_id(id);
  return "started=" + std::to_string(r.started_unix) + " done=" + done;
}

std::optional<DefragRound> parse_round(std::string_view text) {
  const auto f = fields(text);
  DefragRound r;
  if (!number(f, "started", r.started_unix)) return std::nullopt;
  const auto it = f.find("done");
  if (it == f.end()) return std::nullopt;
  std::string_view list = it->second;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto id = parse_hex_id(list.substr(0, comma));
    if (!id || *id == 0) return std::nullopt;
    r.done.insert(*id);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return r;
}

DefragRound with_turn(const std::optional<DefragRound>& in_force, std::uint64_t member,
                      std::int64_t now_unix) {
  DefragRound r = in_force.value_or(DefragRound{now_unix, {}});
  r.done.insert(member);
  return r;
}

std::string encode(const DiskReport& r) {
  std::string out = "free=" + std::to_string(r.free.value) + " at=" + std::to_string(r.at_unix);
  if (!r.client_url.empty()) out += " url=" + escape(r.client_url);
  if (!r.data_dir.empty()) out += " data_dir=" + escape(r.data_dir);
  return out;
}

std::optional<DiskReport> parse_disk_report(std::string_view text) {
  const auto f = fields(text);
  DiskReport r;
  std::uint64_t free = 0;
  if (!number(f, "free", free) || !number(f, "at", r.at_unix)) return std::nullopt;
  r.free = Bytes{free};
  r.client_url = text_field(f, "url");
  r.data_dir = text_field(f, "data_dir");
  return r;
}

std::optional<Bytes> usable_report(const std::optional<DiskReport>& report, std::int64_t now_unix) {
  if (!report) return std::nullopt;
  const auto age = now_unix - report->at_unix;
  if (age > std::chrono::duration_cast<std::chrono::seconds>(kDiskReportMaxAge).count()) {
    return std::nullopt;
  }
  return report->free;
}

}  // namespace etcd_warden::jobs
