// The pure parsers for etcd's own inputs: command-line flags, ETCD_*
// variables, and the raw NUL-separated /proc files. No I/O here.
#include "etcd_warden/tuning/discovery.hpp"

#include <array>
#include <charconv>
#include <set>

#include "etcd_keys.hpp"

namespace etcd_warden::tuning {

namespace detail {

namespace {

constexpr std::array<EtcdKeyName, 9> kEtcdKeys{{
    {EtcdKey::heartbeat, "heartbeat-interval", "ETCD_HEARTBEAT_INTERVAL"},
    {EtcdKey::election, "election-timeout", "ETCD_ELECTION_TIMEOUT"},
    {EtcdKey::data_dir, "data-dir", "ETCD_DATA_DIR"},
    {EtcdKey::client_urls, "listen-client-urls", "ETCD_LISTEN_CLIENT_URLS"},
    {EtcdKey::config_file, "config-file", "ETCD_CONFIG_FILE"},
    {EtcdKey::cert_file, "cert-file", "ETCD_CERT_FILE"},
    {EtcdKey::peer_cert_file, "peer-cert-file", "ETCD_PEER_CERT_FILE"},
    {EtcdKey::trusted_ca_file, "trusted-ca-file", "ETCD_TRUSTED_CA_FILE"},
    {EtcdKey::peer_trusted_ca_file, "peer-trusted-ca-file", "ETCD_PEER_TRUSTED_CA_FILE"},
}};

// kEtcdCerts order.
constexpr std::array<EtcdKey, kEtcdCerts.size()> kCertKeys{
    EtcdKey::cert_file, EtcdKey::peer_cert_file, EtcdKey::trusted_ca_file,
    EtcdKey::peer_trusted_ca_file};

// Values of the keys we read are quoted in problem lines; a runaway value
// is cut so that one bad line stays one line.
std::string quoted(std::string_view raw) {
  constexpr std::size_t kMax = 64;
  if (raw.size() > kMax) return "'" + std::string(raw.substr(0, kMax)) + "...'";
  return "'" + std::string(raw) + "'";
}

// etcd declares both settings as Go `uint` flags and its config file as
// `uint` fields: a plain decimal number of milliseconds. (Go's flag package
// would also take 0x/0o prefixes and '_' separators; nobody writes those for
// a timeout, so they are reported rather than guessed at.) Zero is accepted
// by the flag parser but leaves etcd without a working timer, so it is a
// problem here too.
std::optional<Millis> parse_millis(std::string_view raw, std::string_view spelled,
                                   std::vector<std::string>& problems) {
  std::uint64_t value = 0;
  const char* end = raw.data() + raw.size();
  const auto [ptr, ec] = std::from_chars(raw.data(), end, value);
  if (raw.empty() || ec != std::errc{} || ptr != end ||
      value > static_cast<std::uint64_t>(Millis::max().count())) {
    problems.push_back(std::string(spelled) + quoted(raw) + ": not a number of milliseconds");
    return std::nullopt;
  }
  if (value == 0) {
    problems.push_back(std::string(spelled) + quoted(raw) + ": must be at least 1 millisecond");
    return std::nullopt;
  }
  return Millis(static_cast<Millis::rep>(value));
}

// etcd splits URL lists at ',' without trimming (types.NewURLs).
std::vector<std::string> split_commas(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto item = list.substr(0, comma);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

const EtcdKeyName* etcd_key_by_flag(std::string_view flag) {
  for (const auto& k : kEtcdKeys) {
    if (k.flag == flag) return &k;
  }
  return nullptr;
}

const EtcdKeyName* etcd_key_by_env(std::string_view env_name) {
  for (const auto& k : kEtcdKeys) {
    if (k.env == env_name) return &k;
  }
  return nullptr;
}

EtcdKey etcd_key_of(EtcdCert which) {
  return kCertKeys[static_cast<std::size_t>(which)];
}

std::optional<EtcdCert> etcd_cert_of(EtcdKey key) {
  for (const EtcdCert which : kEtcdCerts) {
    if (etcd_key_of(which) == key) return which;
  }
  return std::nullopt;
}

const EtcdKeyName& etcd_key_name(EtcdKey key) {
  for (const auto& k : kEtcdKeys) {
    if (k.key == key) return k;
  }
  return kEtcdKeys.front();  // unreachable: every key is in the table
}

void store_etcd_value(SourceValues& out, EtcdKey key, std::string_view raw,
                      std::string_view spelled) {
  switch (key) {
    case EtcdKey::heartbeat:
      out.heartbeat = parse_millis(raw, spelled, out.problems);
      break;
    case EtcdKey::election:
      out.election = parse_millis(raw, spelled, out.problems);
      break;
    case EtcdKey::data_dir:
      // An empty --data-dir means etcd's default ("<name>.etcd"), not "here".
      if (raw.empty()) {
        out.data_dir.reset();
      } else {
        out.data_dir = std::filesystem::path(raw);
      }
      break;
    case EtcdKey::client_urls:
      out.client_urls = split_commas(raw);
      break;
    case EtcdKey::config_file:
      if (raw.empty()) {
        out.config_file.reset();
      } else {
        out.config_file = std::filesystem::path(raw);
      }
      break;
    case EtcdKey::cert_file:
    case EtcdKey::peer_cert_file:
    case EtcdKey::trusted_ca_file:
    case EtcdKey::peer_trusted_ca_file: {
      auto& slot = out.certs[static_cast<std::size_t>(*etcd_cert_of(key))];
      if (raw.empty()) {
        slot.reset();  // etcd: no TLS on that side
      } else {
        slot = std::filesystem::path(raw);
      }
      break;
    }
  }
}

}  // namespace detail

using detail::EtcdKeyName;

std::string_view etcd_cert_flag(EtcdCert which) {
  return detail::etcd_key_name(detail::etcd_key_of(which)).flag;
}

std::vector<std::string> split_nul(std::string_view data) {
  std::vector<std::string> out;
  while (!data.empty()) {
    const auto nul = data.find('\0');
    out.emplace_back(data.substr(0, nul));
    if (nul == std::string_view::npos) break;  // no final NUL: a rewritten cmdline
    data.remove_prefix(nul + 1);
  }
  return out;
}

// Go's flag package, as etcd uses it: "-name" or "--name", the value after
// '=' or in the next argument; a repeated flag keeps its last value. Flags
// we do not read are skipped together with a following argument that does
// not look like a flag (their value), so "--name k8smaster0" does not end
// the scan the way a bare word would. A "--" ends the flags.
SourceValues from_arguments(const std::vector<std::string>& argv) {
  SourceValues out;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;  // etcd refuses bare words; not ours to judge
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const auto eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const EtcdKeyName* key = detail::etcd_key_by_flag(name);
    const bool next_is_value = eq == std::string_view::npos && i + 1 < argv.size();
    if (key == nullptr) {
      if (next_is_value && !argv[i + 1].starts_with("-")) ++i;
      continue;
    }
    std::string_view value;
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
    } else if (next_is_value) {
      value = argv[++i];  // Go takes the next argument whatever it looks like
    } else {
      out.problems.push_back("--" + std::string(key->flag) + " has no value");
      continue;
    }
    detail::store_etcd_value(out, key->key, value, "--" + std::string(key->flag) + "=");
  }
  return out;
}

// etcd applies ETCD_<FLAG> only for flags not given on the command line
// (the caller filters those out) and ignores empty values. With the same
// name twice, Go's os.Getenv sees the first, so the first wins here too.
SourceValues from_environment(const std::vector<std::string>& env) {
  SourceValues out;
  std::set<std::string_view> seen;
  for (const auto& entry : env) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    const std::string_view name = std::string_view(entry).substr(0, eq);
    if (!seen.insert(name).second) continue;
    const EtcdKeyName* key = detail::etcd_key_by_env(name);
    const std::string_view value = std::string_view(entry).substr(eq + 1);
    if (key == nullptr || value.empty()) continue;
    detail::store_etcd_value(out, key->key, value, std::string(name) + "=");
  }
  return out;
}

}  // namespace etcd_warden::tuning
