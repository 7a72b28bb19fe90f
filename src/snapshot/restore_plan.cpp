#include "etcd_warden/snapshot/restore_plan.hpp"

#include <cstdio>
#include <sstream>

#include "etcd_warden/util/shell_quote.hpp"

namespace etcd_warden::snapshot {

namespace {

using util::escaped;
using util::shell_quote;

bool uses_etcdutl(const std::string& version) {
  // etcdutl took over offline snapshot restore in 3.5; 3.4 has only etcdctl.
  int major = 0, minor = 0;
  if (std::sscanf(version.c_str(), "%d.%d", &major, &minor) != 2) return false;
  return major > 3 || (major == 3 && minor >= 5);
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string initial_cluster(const PlanInput& in) {
  std::string out;
  for (const auto& m : in.members) {
    for (const auto& url : m.peer_urls) out += (out.empty() ? "" : ",") + m.name + "=" + url;
  }
  return out;
}

std::filesystem::path plain_snapshot(const PlanInput& in) {
  if (!in.compressed) return in.snapshot;
  std::string s = in.snapshot.string();
  if (s.size() > 4 && s.ends_with(".zst")) s.resize(s.size() - 4);
  return s;
}

// `value`, in the role `role`, refused when it cannot be pasted; `fix` says
// what the operator can do about it.
util::Status pasteable(std::string_view value, const std::string& role, std::string_view fix) {
  if (auto hazard = util::paste_hazard(value))
    return util::fail(role + " \"" + escaped(value) + "\" " + *hazard + "; " + std::string(fix));
  return util::ok();
}

util::Status check_member(const PlanMember& m, std::size_t position) {
  // Until the name is known to be printable, the member is named by position.
  if (auto s = pasteable(m.name, "member " + std::to_string(position) + "'s name",
                         "start that member with a plain --name before planning a restore");
      !s)
    return s;
  const std::string member = "member " + m.name + "'s ";
  for (const auto& url : m.peer_urls) {
    if (auto s = pasteable(url, member + "peer URL",
                           "correct it with `etcdctl member update ID --peer-urls=...`");
        !s)
      return s;
  }
  for (const auto& url : m.client_urls) {
    if (auto s = pasteable(url, member + "client URL", "correct its --advertise-client-urls"); !s)
      return s;
  }
  return pasteable(m.data_dir.string(), member + "data dir",
                   "pass the right one: etcd-warden restore-plan --data-dir NAME=PATH");
}

std::string restore_line(const PlanInput& in, const PlanMember& m) {
  std::string tool = uses_etcdutl(in.etcd_version) ? "etcdutl" : "ETCDCTL_API=3 etcdctl";
  return tool + " snapshot restore " + shell_quote(plain_snapshot(in).string()) + " --name " +
         shell_quote(m.name) + " --initial-cluster " + shell_quote(initial_cluster(in)) +
         " --initial-cluster-token " + shell_quote(in.cluster_token) +
         " --initial-advertise-peer-urls " + shell_quote(join(m.peer_urls, ",")) + " --data-dir " +
         shell_quote(m.data_dir.string());
}

std::string ownership_line(const PlanInput& in, const PlanMember& m) {
  // The whole --reference=PATH argument is one word, quoted as one.
  return "chown -R " + shell_quote("--reference=" + moved_aside(in, m)) + " " +
         shell_quote(m.data_dir.string());
}

std::string etcdctl_line(const PlanInput& in, const std::string& clients, const char* what) {
  std::string line = "ETCDCTL_API=3 etcdctl ";
  for (const auto& flag : in.etcdctl_flags) line += shell_quote(flag) + " ";
  return line + "--endpoints " + shell_quote(clients) + " " + what;
}

}  // namespace

util::Status check_plan_input(const PlanInput& in) {
  for (std::size_t i = 0; i < in.members.size(); ++i) {
    if (auto s = check_member(in.members[i], i + 1); !s) return s;
  }
  if (auto s = pasteable(in.snapshot.string(), "the snapshot's path",
                         "rename the file, or name another: etcd-warden restore-plan FILE");
      !s)
    return s;
  for (const auto& flag : in.etcdctl_flags) {
    if (auto s = pasteable(flag, "the etcdctl flag", "correct etcd.tls in the config"); !s)
      return s;
  }
  if (auto s = pasteable(in.fetch_target, "the upload target's name", "rename the target"); !s)
    return s;
  // Made by restore-plan itself, checked all the same.
  if (auto s = pasteable(in.cluster_token, "the cluster token", "a bug: report it"); !s) return s;
  return pasteable(in.stamp, "the stamp", "a bug: report it");
}

util::Result<std::string> restore_command(const PlanInput& in, const PlanMember& m) {
  if (auto s = check_plan_input(in); !s) return util::fail(s.error());
  return restore_line(in, m);
}

std::string moved_aside(const PlanInput& in, const PlanMember& m) {
  return m.data_dir.string() + ".before-restore-" + in.stamp;
}

util::Result<std::string> ownership_command(const PlanInput& in, const PlanMember& m) {
  if (auto s = check_plan_input(in); !s) return util::fail(s.error());
  return ownership_line(in, m);
}

util::Result<std::string> build_restore_plan(const PlanInput& in) {
  if (auto s = check_plan_input(in); !s) return util::fail(s.error());
  // Commands hold values only through shell_quote; comments only through
  // escaped, so no value can end a comment line early.
  std::ostringstream out;
  std::vector<std::string> clients;
  for (const auto& m : in.members)
    clients.insert(clients.end(), m.client_urls.begin(), m.client_urls.end());
  out << "# Restore plan: " << in.members.size() << " members from "
      << escaped(in.snapshot.string()) << " (revision " << in.revision << ", etcd "
      << escaped(in.etcd_version) << ")\n"
      << "# Every member restores the SAME snapshot. Keys written after revision " << in.revision
      << " are lost.\n"
      << "# Each member's data dir is named below with its source; correct one with\n"
      << "# `etcd-warden restore-plan --data-dir NAME=PATH`.\n#\n";
  if (!in.fetch_target.empty()) {
    out << "# 0. Fetch the snapshot from upload target " << escaped(in.fetch_target)
        << " (checks its sha256 and etcd's trailer, writes it 0600 beside its sidecar).\n"
        << "mkdir -p -m 0700 " << shell_quote(in.snapshot.parent_path().string()) << "\n"
        << "etcd-warden snapshot fetch " << shell_quote(in.fetch_target) << " "
        << shell_quote(in.fetch_name) << " " << shell_quote(in.snapshot.parent_path().string())
        << "\n#\n";
  }
  out << "# 1. On EVERY member host: stop etcd (on kubeadm control planes move the static pod\n"
      << "#    manifest away instead, and stop kube-apiserver the same way).\n"
      << "systemctl stop etcd\n"
      << "#\n# 2. On EVERY member host: keep the old data until the restore is proven.\n";
  for (const auto& m : in.members) {
    out << "#    on " << escaped(m.name) << ": data dir " << escaped(m.data_dir.string()) << " ("
        << escaped(m.data_dir_source) << ")\n"
        << "mv " << shell_quote(m.data_dir.string()) << " " << shell_quote(moved_aside(in, m))
        << "\n";
  }
  out << "#\n# 3. Copy the snapshot to every member host, then check it there.\n"
      << "etcd-warden snapshot verify " << shell_quote(in.snapshot.string()) << "\n";
  if (in.compressed) {
    out << "zstd -d -f " << shell_quote(in.snapshot.string()) << " -o "
        << shell_quote(plain_snapshot(in).string()) << "\n";
  }
  out << "#\n# 4. Restore, on each member's own host, then give the new data dir the owner\n"
      << "#    of the old one: the restore writes it as root, and an etcd that runs as its own\n"
      << "#    user (Debian's runs as etcd) refuses a data dir it cannot read. (If the old\n"
      << "#    data dir is gone, chown -R to the user in etcd's unit, User=, instead.)\n";
  for (const auto& m : in.members) {
    out << "#    member " << escaped(m.name) << " (" << escaped(join(m.client_urls, ",")) << ")\n"
        << restore_line(in, m) << "\n"
        << ownership_line(in, m) << "\n";
  }
  const std::string endpoints = join(clients, ",");
  out << "#\n# 5. On EVERY member host: start etcd with its usual flags (they must match the "
         "names\n"
      << "#    and peer URLs above; the new cluster token is only read when a data dir is empty).\n"
      << "systemctl start etcd\n"
      << "#\n# 6. Check that all members are healthy and agree on the revision.\n"
      << etcdctl_line(in, endpoints, "endpoint health") << "\n"
      << etcdctl_line(in, endpoints, "endpoint status -w table") << "\n";
  return out.str();
}

}  // namespace etcd_warden::snapshot
