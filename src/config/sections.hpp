// Internal to src/config: the YAML document read section by section into a
// Config, with every range and cross-field rule checked where the value is.
#pragma once

#include <yaml-cpp/yaml.h>

#include "etcd_warden/config/config.hpp"
#include "yaml_reader.hpp"

namespace etcd_warden::config::detail {

// Reads `root` (a map, or null for an empty file) over the defaults. Every
// problem goes to `errors`; the result is only meaningful if there are none.
Config read_config(const YAML::Node& root, ErrorSink& errors);

}  // namespace etcd_warden::config::detail
