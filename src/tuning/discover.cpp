// discover(): the warden's own config, then the running member process,
// then the static places, then etcd's defaults; and a cross-check of the
// running process against what the static places would start it with.
#include <algorithm>
#include <set>

#include "etcd_warden/tuning/discovery.hpp"
#include "member_process.hpp"
#include "static_sources.hpp"

namespace etcd_warden::tuning {

namespace {

using detail::LaunchSettings;
using detail::LaunchValue;
using detail::MemberProcess;
using detail::Setting;

// The two values, named as etcd and the warden's config name them.
struct ValueKind {
  const char* etcd_name;   // "heartbeat-interval"
  const char* config_key;  // "tuning.heartbeat_interval"
  Millis etcd_default;
  LaunchValue LaunchSettings::*field;
};

constexpr ValueKind kHeartbeat{"heartbeat-interval", "tuning.heartbeat_interval",
                               kEtcdDefaultHeartbeat, &LaunchSettings::heartbeat};
constexpr ValueKind kElection{"election-timeout", "tuning.election_timeout", kEtcdDefaultElection,
                              &LaunchSettings::election};

std::string ms(Millis value) {
  return std::to_string(value.count()) + "ms";
}

std::string running_etcd(const MemberProcess& p) {
  return "the running etcd, pid " + std::to_string(p.pid);
}

// What the running process uses, when that can be told.
std::optional<Millis> running_value(const ValueKind& kind, const std::optional<MemberProcess>& p) {
  if (!p) return std::nullopt;
  const LaunchValue& v = p->settings.*kind.field;
  if (!v.known) return std::nullopt;
  return v.setting ? v.setting->value : kind.etcd_default;
}

Found from_running_process(const ValueKind& kind, const MemberProcess& p) {
  const LaunchValue& v = p.settings.*kind.field;
  if (v.setting) return {v.setting->value, v.setting->describe()};
  std::string why = running_etcd(p) + ", sets none";
  if (p.settings.config_file) {
    why = running_etcd(p) + ", reads " + p.settings.config_file->string() + ", which sets none";
  }
  return {kind.etcd_default, "etcd default (" + why + ")"};
}

// The static place that would decide the value if etcd were started now.
std::optional<Setting> first_static(const ValueKind& kind,
                                    const std::vector<LaunchSettings>& statics) {
  for (const auto& s : statics) {
    if (const auto& setting = (s.*kind.field).setting) return setting;
  }
  return std::nullopt;
}

Found choose(const ValueKind& kind, const std::optional<Millis>& from_config,
             const std::optional<MemberProcess>& process,
             const std::vector<LaunchSettings>& statics, std::vector<std::string>& notes) {
  const auto running = running_value(kind, process);
  if (from_config) {
    if (running && *running != *from_config) {
      notes.push_back(std::string(kind.config_key) + " is " + ms(*from_config) + " but " +
                      running_etcd(*process) + ", uses " + ms(*running) +
                      "; the warden's config wins");
    }
    return {*from_config, std::string(kind.config_key) + " in the warden's config"};
  }
  const auto stated = first_static(kind, statics);
  if (running) {
    if (stated && stated->value == *running) {
      return {*running, stated->describe(running_etcd(*process) + ", uses it")};
    }
    if (stated) {
      notes.push_back(stated->describe() + " sets " + kind.etcd_name + " " + ms(stated->value) +
                      " but " + running_etcd(*process) + ", uses " + ms(*running) +
                      ": restart pending?");
    }
    return from_running_process(kind, *process);
  }
  if (stated) return {stated->value, stated->describe()};
  return {kind.etcd_default, "etcd default"};
}

// The same unreadable file can be met twice (as an EnvironmentFile of the
// unit and in tuning.env_files); say it once.
std::vector<std::string> without_repeats(const std::vector<std::string>& notes) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& n : notes) {
    if (seen.insert(n).second) out.push_back(n);
  }
  return out;
}

}  // namespace

DiscoveredCerts discover_certificates(const config::Config& config,
                                      const std::filesystem::path& proc_root) {
  DiscoveredCerts out;
  std::vector<std::string> notes;
  auto search = detail::find_member_process(config.etcd, proc_root);
  notes.insert(notes.end(), search.notes.begin(), search.notes.end());
  std::vector<LaunchSettings> places;
  if (search.member) {
    // The running process says what etcd uses now; the static places only
    // what it would use after a restart.
    places.push_back(search.member->settings);
  } else {
    places = detail::read_static_sources(config.tuning, notes);
  }
  for (const EtcdCert which : kEtcdCerts) {
    for (const auto& place : places) {
      if (const auto& cert = place.certs[static_cast<std::size_t>(which)]) {
        out.certs.push_back({which, cert->path, cert->describe()});
        break;
      }
    }
  }
  out.notes = without_repeats(notes);
  return out;
}

Discovered discover(const config::Config& config, const std::filesystem::path& proc_root) {
  Discovered out;
  const auto& tuning = config.tuning;
  std::vector<std::string> notes;

  // The process is looked for even when the config sets both values: it is
  // cheap, gives the pid, and a disagreement is worth a note.
  auto search = detail::find_member_process(config.etcd, proc_root);
  notes.insert(notes.end(), search.notes.begin(), search.notes.end());
  if (search.member) out.pid = search.member->pid;

  std::vector<LaunchSettings> statics;
  if (!tuning.heartbeat_interval || !tuning.election_timeout) {
    statics = detail::read_static_sources(tuning, notes);
  }
  out.heartbeat = choose(kHeartbeat, tuning.heartbeat_interval, search.member, statics, notes);
  out.election = choose(kElection, tuning.election_timeout, search.member, statics, notes);
  out.notes = without_repeats(notes);
  return out;
}

std::optional<int> find_etcd_pid(const config::Etcd& etcd, std::vector<std::string>& notes,
                                 const std::filesystem::path& proc_root) {
  auto search = detail::find_member_process(etcd, proc_root);
  notes.insert(notes.end(), search.notes.begin(), search.notes.end());
  if (!search.member) return std::nullopt;
  return search.member->pid;
}

}  // namespace etcd_warden::tuning
