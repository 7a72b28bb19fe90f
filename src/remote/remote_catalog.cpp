#include "etcd_warden/remote/remote_catalog.hpp"

#include <algorithm>
#include <set>

namespace etcd_warden::remote {

std::string object_key(std::string_view prefix, std::string_view file_name) {
  return std::string(prefix) + std::string(file_name);
}

std::string sidecar_key(std::string_view object_key) {
  return std::string(object_key) + ".json";
}

namespace {

std::optional<snapshot::SnapshotName> ours(std::string_view key, std::string_view prefix,
                                           std::string_view member) {
  if (!key.starts_with(prefix)) return std::nullopt;
  const std::string_view file = key.substr(prefix.size());
  if (file.find('/') != std::string_view::npos) return std::nullopt;  // a deeper "folder"
  auto name = snapshot::parse_snapshot_file_name(file);
  if (!name) return std::nullopt;
  if (!member.empty() && name->member != snapshot::sanitize_member_name(member)) {
    return std::nullopt;
  }
  return name;
}

}  // namespace

std::vector<RemoteEntry> remote_entries(std::span<const objstore::ObjectEntry> listing,
                                        std::string_view prefix, std::string_view member) {
  std::set<std::string, std::less<>> keys;
  for (const auto& o : listing) keys.insert(o.key);
  std::vector<RemoteEntry> out;
  for (const auto& o : listing) {
    auto name = ours(o.key, prefix, member);
    if (!name) continue;
    RemoteEntry e;
    e.key = o.key;
    e.file = o.key.substr(prefix.size());
    e.name = *name;
    e.size = o.size;
    e.verified = keys.contains(sidecar_key(o.key));
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const RemoteEntry& a, const RemoteEntry& b) {
    if (a.name.taken != b.name.taken) return a.name.taken > b.name.taken;
    if (a.name.revision != b.name.revision) return a.name.revision > b.name.revision;
    return a.file > b.file;
  });
  return out;
}

std::vector<snapshot::RetentionCandidate> retention_candidates(
    std::span<const RemoteEntry> entries) {
  std::vector<snapshot::RetentionCandidate> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back({e.file, e.name.taken, e.verified});
  return out;
}

std::vector<StaleUpload> stale_uploads(std::span<const StaleUpload> pending,
                                       std::string_view prefix, std::string_view member,
                                       std::string_view current_key, sched::WallTime now,
                                       std::chrono::milliseconds timeout) {
  std::vector<StaleUpload> out;
  for (const auto& u : pending) {
    if (u.key == current_key || !ours(u.key, prefix, member)) continue;
    if (!u.initiated || now - *u.initiated <= timeout) continue;
    out.push_back(u);
  }
  return out;
}

}  // namespace etcd_warden::remote
