// etcd's names for the settings discovery reads (flag, ETCD_* variable,
// config-file key) and how one raw value becomes a SourceValues field, so
// that flags, environments and config files all judge values alike.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "etcd_warden/tuning/discovery.hpp"

namespace etcd_warden::tuning::detail {

enum class EtcdKey {
  heartbeat,
  election,
  data_dir,
  client_urls,
  config_file,
  cert_file,
  peer_cert_file,
  trusted_ca_file,
  peer_trusted_ca_file,
};

// The key of one of etcd's certificate files, and back.
EtcdKey etcd_key_of(EtcdCert which);
std::optional<EtcdCert> etcd_cert_of(EtcdKey key);

struct EtcdKeyName {
  EtcdKey key;
  std::string_view flag;  // also the key in etcd's --config-file YAML
  std::string_view env;   // etcd's flags.FlagToEnv("ETCD", flag)
};

const EtcdKeyName* etcd_key_by_flag(std::string_view flag);
const EtcdKeyName* etcd_key_by_env(std::string_view env_name);
const EtcdKeyName& etcd_key_name(EtcdKey key);

// Stores `raw` in `out` as etcd would read it. `spelled` is how the place
// writes the key, with its separator ("--heartbeat-interval=",
// "ETCD_HEARTBEAT_INTERVAL=", "heartbeat-interval: "); it starts the problem
// line when the value is unusable.
void store_etcd_value(SourceValues& out, EtcdKey key, std::string_view raw,
                      std::string_view spelled);

}  // namespace etcd_warden::tuning::detail
