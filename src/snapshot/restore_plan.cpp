#include "etcd_warden/snapshot/restore_plan.hpp"

#include <sstream>

namespace etcd_warden::snapshot {

namespace {

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

}  // namespace

std::string restore_command(const PlanInput& in, const PlanMember& m) {
  std::string tool = uses_etcdutl(in.etcd_version) ? "etcdutl" : "ETCDCTL_API=3 etcdctl";
  return tool + " snapshot restore " + plain_snapshot(in).string() + " --name " + m.name +
         " --initial-cluster " + initial_cluster(in) + " --initial-cluster-token " +
         in.cluster_token + " --initial-advertise-peer-urls " + join(m.peer_urls, ",") +
         " --data-dir " + m.data_dir.string();
}

std::string moved_aside(const PlanInput& in, const PlanMember& m) {
  return m.data_dir.string() + ".before-restore-" + in.stamp;
}

std::string ownership_command(const PlanInput& in, const PlanMember& m) {
  return "chown -R --reference=" + moved_aside(in, m) + " " + m.data_dir.string();
}

std::string build_restore_plan(const PlanInput& in) {
  std::ostringstream out;
  std::vector<std::string> clients;
  for (const auto& m : in.members)
    clients.insert(clients.end(), m.client_urls.begin(), m.client_urls.end());
  out << "# Restore plan: " << in.members.size() << " members from " << in.snapshot.string()
      << " (revision " << in.revision << ", etcd " << in.etcd_version << ")\n"
      << "# Every member restores the SAME snapshot. Keys written after revision " << in.revision
      << " are lost.\n"
      << "# Each member's data dir is named below with its source; correct one with\n"
      << "# `etcd-warden restore-plan --data-dir NAME=PATH`.\n#\n"
      << "# 1. On EVERY member host: stop etcd (on kubeadm control planes move the static pod\n"
      << "#    manifest away instead, and stop kube-apiserver the same way).\n"
      << "systemctl stop etcd\n"
      << "#\n# 2. On EVERY member host: keep the old data until the restore is proven.\n";
  for (const auto& m : in.members) {
    out << "#    on " << m.name << ": data dir " << m.data_dir.string() << " (" << m.data_dir_source
        << ")\n"
        << "mv " << m.data_dir.string() << " " << moved_aside(in, m) << "\n";
  }
  out << "#\n# 3. Copy the snapshot to every member host, then check it there.\n"
      << "etcd-warden snapshot verify " << in.snapshot.string() << "\n";
  if (in.compressed) {
    out << "zstd -d -f " << in.snapshot.string() << " -o " << plain_snapshot(in).string() << "\n";
  }
  out << "#\n# 4. Restore, on each member's own host, then give the new data dir the owner\n"
      << "#    of the old one: the restore writes it as root, and an etcd that runs as its own\n"
      << "#    user (Debian's runs as etcd) refuses a data dir it cannot read. (If the old\n"
      << "#    data dir is gone, chown -R to the user in etcd's unit, User=, instead.)\n";
  for (const auto& m : in.members) {
    out << "#    member " << m.name << " (" << join(m.client_urls, ",") << ")\n"
        << restore_command(in, m) << "\n"
        << ownership_command(in, m) << "\n";
  }
  out << "#\n# 5. On EVERY member host: start etcd with its usual flags (they must match the "
         "names\n"
      << "#    and peer URLs above; the new cluster token is only read when a data dir is empty).\n"
      << "systemctl start etcd\n"
      << "#\n# 6. Check that all members are healthy and agree on the revision.\n"
      << "ETCDCTL_API=3 etcdctl " << in.etcdctl_flags << (in.etcdctl_flags.empty() ? "" : " ")
      << "--endpoints " << join(clients, ",") << " endpoint health\n"
      << "ETCDCTL_API=3 etcdctl " << in.etcdctl_flags << (in.etcdctl_flags.empty() ? "" : " ")
      << "--endpoints " << join(clients, ",") << " endpoint status -w table\n";
  return out.str();
}

}  // namespace etcd_warden::snapshot
