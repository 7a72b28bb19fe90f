#include "launch.hpp"

#include <set>

#include "etcd_keys.hpp"
#include "etcd_warden/io/file.hpp"

namespace etcd_warden::tuning::detail {

namespace {

namespace fs = std::filesystem;

// etcd's --listen-client-urls default.
constexpr const char* kDefaultClientUrl = "http://localhost:2379";

std::optional<fs::path> absolute_from(const fs::path& base, const fs::path& path) {
  if (path.is_absolute()) return path.lexically_normal();
  if (base.empty()) return std::nullopt;
  return (base / path).lexically_normal();
}

void add_problems(std::vector<std::string>& notes, const std::string& place,
                  const std::vector<std::string>& problems) {
  for (const auto& p : problems) notes.push_back(place + ": " + p);
}

std::string with_context(std::string detail, const std::string& context) {
  if (!context.empty()) detail += ", " + context;
  return detail;
}

std::optional<Setting> setting_of(const std::optional<Millis>& value, const std::string& place,
                                  const std::string& detail_prefix, const std::string& context) {
  if (!value) return std::nullopt;
  return Setting{*value, place,
                 with_context(detail_prefix + std::to_string(value->count()), context)};
}

// A certificate file's path as etcd would open it: relative to its working
// directory, which may be unknown (then a note, and no path).
std::optional<CertSetting> cert_setting(const Launch& launch, const std::optional<fs::path>& path,
                                        const std::string& place, const std::string& detail,
                                        std::vector<std::string>& notes) {
  if (!path) return std::nullopt;
  auto absolute = absolute_from(launch.base_dir, *path);
  if (!absolute) {
    notes.push_back(place + ": " + detail +
                    " is relative to a working directory that cannot be read");
    return std::nullopt;
  }
  return CertSetting{*absolute, place, detail};
}

// The config file replaces flags and environment entirely (etcd 3.4-3.6:
// "Ignoring flags/env since config file given"). Values it does not set are
// etcd's defaults, unless the file is unreadable or has an unusable value:
// then etcd would not start from it, and we cannot say what it runs with.
LaunchSettings from_config_file(const Launch& launch, const fs::path& file,
                                const std::string& named_by) {
  LaunchSettings out;
  out.config_file = file;
  const auto read = io::read_file(file);
  if (!read) {
    out.notes.push_back("cannot read etcd's config file " + file.string() + " (" + named_by +
                        "): " + read.error().reason());
    return out;
  }
  const SourceValues values = from_etcd_config_file(*read);
  add_problems(out.notes, file.string(), values.problems);
  const std::string& context = named_by;
  const bool clean = values.problems.empty();
  out.heartbeat = {setting_of(values.heartbeat, file.string(), "heartbeat-interval: ", context),
                   values.heartbeat.has_value() || clean};
  out.election = {setting_of(values.election, file.string(), "election-timeout: ", context),
                  values.election.has_value() || clean};
  if (values.data_dir) out.data_dir = absolute_from(launch.base_dir, *values.data_dir);
  for (const EtcdCert which : kEtcdCerts) {
    const auto& path = values.certs[static_cast<std::size_t>(which)];
    if (!path) continue;
    const std::string detail = std::string(etcd_cert_flag(which)) + ": " + path->string() +
                               (context.empty() ? "" : ", " + context);
    out.certs[static_cast<std::size_t>(which)] =
        cert_setting(launch, path, file.string(), detail, out.notes);
  }
  out.client_urls = values.client_urls;
  if (out.client_urls.empty() && clean) out.client_urls = {kDefaultClientUrl};
  return out;
}

// Which ETCD_* names a layer states (non-empty values only: etcd skips
// empty ones), so that weaker layers cannot override them.
std::set<std::string> stated_names(const std::vector<std::string>& entries) {
  std::set<std::string> out;
  for (const auto& e : entries) {
    const auto eq = e.find('=');
    if (eq != std::string::npos && eq + 1 < e.size()) out.insert(e.substr(0, eq));
  }
  return out;
}

std::vector<std::string> without_names(const std::vector<std::string>& entries,
                                       const std::set<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& e : entries) {
    if (!names.contains(e.substr(0, e.find('=')))) out.push_back(e);
  }
  return out;
}

// etcd looks for --config-file, then ETCD_CONFIG_FILE, before it reads
// anything else.
std::optional<std::pair<fs::path, std::string>> config_file_of(const Launch& launch,
                                                               const SourceValues& flags) {
  if (flags.config_file) {
    return std::pair(*flags.config_file, "--config-file in " + launch.argv_place);
  }
  for (const auto& layer : launch.env) {
    if (auto file = from_environment(layer.entries).config_file) {
      return std::pair(*file, "ETCD_CONFIG_FILE in " + layer.place);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string Setting::describe(const std::string& extra) const {
  return place + " (" + detail + (extra.empty() ? "" : "; " + extra) + ")";
}

LaunchSettings resolve_launch(const Launch& launch) {
  const SourceValues flags = from_arguments(launch.argv);
  std::vector<std::string> flag_problems;
  add_problems(flag_problems, launch.argv_place, flags.problems);

  if (const auto named = config_file_of(launch, flags)) {
    const auto& [config_file, named_by] = *named;
    LaunchSettings out;
    if (const auto file = absolute_from(launch.base_dir, config_file)) {
      out = from_config_file(launch, *file, named_by);
    } else {
      out.notes.push_back("etcd's config file " + config_file.string() + " (" + named_by +
                          ") is relative to a working directory that cannot be read");
    }
    out.notes.insert(out.notes.begin(), flag_problems.begin(), flag_problems.end());
    return out;
  }

  LaunchSettings out;
  out.notes = std::move(flag_problems);
  out.heartbeat.setting =
      setting_of(flags.heartbeat, launch.argv_place, "--heartbeat-interval=", "");
  out.election.setting = setting_of(flags.election, launch.argv_place, "--election-timeout=", "");
  std::optional<fs::path> data_dir = flags.data_dir;
  std::vector<std::string> client_urls = flags.client_urls;
  for (const EtcdCert which : kEtcdCerts) {
    const auto& path = flags.certs[static_cast<std::size_t>(which)];
    if (!path) continue;
    out.certs[static_cast<std::size_t>(which)] =
        cert_setting(launch, path, launch.argv_place,
                     "--" + std::string(etcd_cert_flag(which)) + "=" + path->string(), out.notes);
  }

  // Each layer only for what flags and stronger layers left open.
  std::set<std::string> decided;
  auto decide_by_flag = [&](bool given, EtcdKey key) {
    if (given) decided.insert(std::string(etcd_key_name(key).env));
  };
  decide_by_flag(flags.heartbeat.has_value(), EtcdKey::heartbeat);
  decide_by_flag(flags.election.has_value(), EtcdKey::election);
  decide_by_flag(flags.data_dir.has_value(), EtcdKey::data_dir);
  decide_by_flag(!flags.client_urls.empty(), EtcdKey::client_urls);
  for (const auto& layer : launch.env) {
    const auto entries = without_names(layer.entries, decided);
    const SourceValues env = from_environment(entries);
    add_problems(out.notes, layer.place, env.problems);
    if (!out.heartbeat.setting) {
      out.heartbeat.setting =
          setting_of(env.heartbeat, layer.place, "ETCD_HEARTBEAT_INTERVAL=", layer.context);
    }
    if (!out.election.setting) {
      out.election.setting =
          setting_of(env.election, layer.place, "ETCD_ELECTION_TIMEOUT=", layer.context);
    }
    if (!data_dir) data_dir = env.data_dir;
    if (client_urls.empty()) client_urls = env.client_urls;
    for (const EtcdCert which : kEtcdCerts) {
      const auto i = static_cast<std::size_t>(which);
      if (out.certs[i] || flags.certs[i] || !env.certs[i]) continue;
      const std::string name(etcd_key_name(etcd_key_of(which)).env);
      out.certs[i] =
          cert_setting(launch, env.certs[i], layer.place,
                       with_context(name + "=" + env.certs[i]->string(), layer.context), out.notes);
    }
    const auto stated = stated_names(entries);
    decided.insert(stated.begin(), stated.end());
  }

  out.heartbeat.known = out.heartbeat.setting.has_value() || launch.env_complete;
  out.election.known = out.election.setting.has_value() || launch.env_complete;
  if (data_dir) out.data_dir = absolute_from(launch.base_dir, *data_dir);
  out.client_urls = client_urls;
  if (out.client_urls.empty() && launch.env_complete) out.client_urls = {kDefaultClientUrl};
  return out;
}

}  // namespace etcd_warden::tuning::detail
