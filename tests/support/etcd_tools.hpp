// Which etcd the tests run: the directory in $ETCD_BIN_DIR (etcd, etcdctl,
// and etcdutl from 3.5 on), or Debian 12's own etcd 3.4 in /usr/bin when it
// is unset. Every place in tests/, bench/ and tools/ that runs an etcd binary
// asks here, so one variable switches the whole suite to another version
// (scripts/test runs it once per version; scripts/etcd-versions lists them).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "support/process.hpp"

namespace etcd_warden::testing {

// $ETCD_BIN_DIR, or /usr/bin when it is unset or empty.
std::filesystem::path etcd_bin_dir();

// etcd_bin_dir() / name, e.g. etcd_tool("etcdctl"); whether it exists is the
// caller's business (has_etcd_tool).
std::filesystem::path etcd_tool(std::string_view name);
bool has_etcd_tool(std::string_view name);

// The tool for offline snapshot commands (`snapshot status`, `snapshot
// restore`): etcdutl where the build has it (3.5 moved them there and
// deprecated etcdctl's), else etcdctl.
std::filesystem::path etcd_snapshot_tool();

// "3.4.23": what `etcd --version` of etcd_tool("etcd") says (asked once);
// "" if it does not run.
const std::string& etcd_version();

// For shell lines written for a host with etcd installed (restore plans):
// PATH with etcd_bin_dir() first, so `etcdctl` and `etcdutl` are ours, and
// ETCDCTL_API=3.
EnvVars etcd_tools_env();

}  // namespace etcd_warden::testing
