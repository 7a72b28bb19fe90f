// The pure YAML parsers of discovery: etcd's --config-file and a kubeadm
// static pod manifest. No I/O here.
#include <yaml-cpp/yaml.h>

#include "etcd_keys.hpp"
#include "etcd_warden/tuning/discovery.hpp"

namespace etcd_warden::tuning {

namespace {

using detail::EtcdKey;

// yaml-cpp's own message and position; never the document's text.
std::string yaml_error(const YAML::Exception& e) {
  if (e.mark.is_null()) return "not valid YAML (" + e.msg + ")";
  return "not valid YAML (line " + std::to_string(e.mark.line + 1) + ", column " +
         std::to_string(e.mark.column + 1) + ": " + e.msg + ")";
}

// etcd reads its config file through sigs.k8s.io/yaml into `uint` fields, so
// `heartbeat-interval: "250"` (a string) stops etcd from starting although
// it looks harmless; it is reported, like any other unusable value.
void read_config_key(const YAML::Node& root, EtcdKey key, SourceValues& out) {
  const auto& name = detail::etcd_key_name(key);
  const std::string spelled = std::string(name.flag) + ": ";
  const YAML::Node node = root[std::string(name.flag)];
  if (!node || node.IsNull()) return;
  if (!node.IsScalar()) {
    out.problems.push_back(spelled + "expected a single value");
    return;
  }
  const bool is_number_key = key == EtcdKey::heartbeat || key == EtcdKey::election;
  if (is_number_key && node.Tag() == "!") {
    out.problems.push_back(spelled + "'" + node.Scalar() +
                           "': quoted, but etcd wants a plain number of milliseconds");
    return;
  }
  detail::store_etcd_value(out, key, node.Scalar(), spelled);
}

// etcd's config file keeps its TLS files in two maps,
// client-transport-security and peer-transport-security, each with
// cert-file and trusted-ca-file (etcd's securityConfig).
void read_transport_security(const YAML::Node& root, const std::string& section, EtcdCert cert,
                             EtcdCert ca, SourceValues& out) {
  const YAML::Node node = root[section];
  if (!node || node.IsNull()) return;
  if (!node.IsMap()) {
    out.problems.push_back(section + ": expected a mapping");
    return;
  }
  for (const auto& [which, key] :
       {std::pair{cert, "cert-file"}, std::pair{ca, "trusted-ca-file"}}) {
    const YAML::Node value = node[key];
    if (!value || value.IsNull()) continue;
    const std::string spelled = section + "." + key + ": ";
    if (!value.IsScalar()) {
      out.problems.push_back(spelled + "expected a single value");
      continue;
    }
    detail::store_etcd_value(out, detail::etcd_key_of(which), value.Scalar(), spelled);
  }
}

std::optional<std::vector<std::string>> string_list(const YAML::Node& node) {
  if (!node || node.IsNull()) return std::vector<std::string>{};
  if (!node.IsSequence()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& item : node) {
    if (!item.IsScalar()) return std::nullopt;
    out.push_back(item.Scalar());
  }
  return out;
}

bool is_etcd_container(const YAML::Node& container) {
  const YAML::Node name = container["name"];
  if (name && name.IsScalar() && name.Scalar() == "etcd") return true;
  const YAML::Node command = container["command"];
  return command && command.IsSequence() && command.size() > 0 && command[0].IsScalar() &&
         std::filesystem::path(command[0].Scalar()).filename() == "etcd";
}

}  // namespace

SourceValues from_etcd_config_file(std::string_view yaml) {
  SourceValues out;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (!root || root.IsNull()) return out;  // an empty file: etcd's defaults
    if (!root.IsMap()) {
      out.problems.emplace_back("not a YAML mapping of etcd settings");
      return out;
    }
    for (const auto key :
         {EtcdKey::heartbeat, EtcdKey::election, EtcdKey::data_dir, EtcdKey::client_urls}) {
      read_config_key(root, key, out);
    }
    read_transport_security(root, "client-transport-security", EtcdCert::cert, EtcdCert::trusted_ca,
                            out);
    read_transport_security(root, "peer-transport-security", EtcdCert::peer_cert,
                            EtcdCert::peer_trusted_ca, out);
  } catch (const YAML::Exception& e) {
    out.problems.push_back(yaml_error(e));
  }
  return out;
}

// kubeadm writes `command: [etcd, --flag=value, ...]` and no `args`; a
// hand-edited manifest may use `args` with the image's entrypoint instead.
util::Result<std::vector<std::string>> kubeadm_etcd_command(std::string_view yaml) {
  using util::fail;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsMap() || !root["spec"].IsMap() || !root["spec"]["containers"].IsSequence()) {
      return fail("no spec.containers list (not a pod manifest)");
    }
    for (const auto& container : root["spec"]["containers"]) {
      if (!container.IsMap() || !is_etcd_container(container)) continue;
      auto command = string_list(container["command"]);
      const auto args = string_list(container["args"]);
      if (!command || !args)
        return fail("the etcd container's command or args is not a list of strings");
      if (command->empty()) command->push_back("etcd");  // the image's entrypoint
      command->insert(command->end(), args->begin(), args->end());
      return std::move(*command);
    }
    return fail("no container named etcd");
  } catch (const YAML::Exception& e) {
    return fail(yaml_error(e));
  }
}

}  // namespace etcd_warden::tuning
