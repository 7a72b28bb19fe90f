#include "support/etcd_cluster.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "etcd_warden/util/hex_id.hpp"
#include "support/http_get.hpp"
#include "support/ports.hpp"
#include "support/wait.hpp"

namespace etcd_warden::testing {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string unique_token() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  char buf[24];
  std::snprintf(buf, sizeof buf, "%08x", rd());
  return "warden-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + "-" + buf;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string base64_decode(const std::string& in) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    const auto pos = kAlphabet.find(c);
    if (pos == std::string_view::npos) continue;  // '=' padding, whitespace
    acc = (acc << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

void append_marker(const fs::path& log, const std::string& text) {
  std::ofstream out(log, std::ios::app);
  out << "=== etcd-warden test fixture: " << text << " ===\n";
}

std::string describe_status(int status) {
  return status < 0 ? "signal " + std::to_string(-status) : "code " + std::to_string(status);
}

// Members and learners together; members_ never grows past it, so
// references from member() survive add_learner.
constexpr std::size_t kMaxMembers = 8;

}  // namespace

EtcdCluster::EtcdCluster(EtcdClusterOptions options)
    : options_(std::move(options)), token_(unique_token()) {
  if (options_.members < 1 || options_.members > 5) {
    throw std::invalid_argument("EtcdCluster: members must be 1..5, got " +
                                std::to_string(options_.members));
  }
  if (!options_.data_parents.empty() && options_.data_parents.size() != options_.members) {
    throw std::invalid_argument("EtcdCluster: data_parents needs one directory per member");
  }
  if (options_.tls) tls_ = make_tls(dir_ / "tls");
  members_.reserve(kMaxMembers);
  processes_.reserve(kMaxMembers);
  for (std::size_t i = 0; i < options_.members; ++i) {
    EtcdMember& m = new_member("m" + std::to_string(i + 1));
    if (!options_.data_parents.empty()) m.data_dir = options_.data_parents[i] / "data";
  }

  // Another process can grab one of our ports between free_port() and etcd's
  // bind; then start again on fresh ports (at most three times).
  const auto end = std::chrono::steady_clock::now() + options_.start_deadline;
  for (int attempt = 1;; ++attempt) {
    assign_ports();
    for (std::size_t i = 0; i < members_.size(); ++i) {
      fs::remove_all(members_[i].data_dir);
      spawn(i, false);
    }
    if (!options_.wait_healthy) return;
    try {
      for (std::size_t i = 0; i < members_.size(); ++i) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            end - std::chrono::steady_clock::now());
        wait_member(i, WaitFor::healthy, std::max(left, std::chrono::milliseconds(0)));
      }
      return;
    } catch (const std::runtime_error&) {
      bool port_clash = false;
      for (std::size_t i = 0; i < members_.size(); ++i) {
        port_clash =
            port_clash || member_log(i).find("address already in use") != std::string::npos;
      }
      if (!port_clash || attempt >= 3) throw;
      for (std::size_t i = 0; i < members_.size(); ++i) kill_member(i);
    }
  }
}

EtcdCluster::~EtcdCluster() {
  for (std::size_t i = 0; i < processes_.size(); ++i) kill_member(i);
}

void EtcdCluster::signal_etcd(std::size_t i, int sig) {
  auto& p = processes_.at(i);
  if (!p || !p->running()) return;
  if (!options_.wrapper.empty()) {
    // etcd is the wrapper's child: a killed strace detaches its tracee,
    // which would go on running without the wrapper. Signal etcd itself.
    const auto pid = std::to_string(p->pid());
    std::ifstream children("/proc/" + pid + "/task/" + pid + "/children");
    for (pid_t child = 0; children >> child;) ::kill(child, sig);
    return;  // the wrapper exits when etcd does
  }
  p->signal(sig);
}

EtcdMember& EtcdCluster::new_member(const std::string& name) {
  if (members_.size() >= kMaxMembers) {
    throw std::logic_error("EtcdCluster: at most " + std::to_string(kMaxMembers) + " members");
  }
  EtcdMember& m = members_.emplace_back();
  processes_.emplace_back();
  m.name = name;
  m.dir = dir_ / m.name;
  m.data_dir = m.dir / "data";
  m.log_path = m.dir / "etcd.log";
  fs::create_directories(m.dir);
  if (options_.run_as) {
    const auto [uid, gid] = *options_.run_as;
    fs::permissions(dir_.path(),
                    fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    if (::chown(m.dir.c_str(), uid, gid) != 0) {
      throw std::runtime_error("EtcdCluster: chown " + m.dir.string() + ": " +
                               std::strerror(errno));
    }
  }
  return m;
}

void EtcdCluster::assign_ports(EtcdMember& m) {
  const std::string scheme = tls_ ? "https" : "http";
  m.client_port = free_port();
  m.peer_port = free_port();
  m.metrics_port = free_port();
  m.client_url = scheme + "://127.0.0.1:" + std::to_string(m.client_port);
  m.peer_url = "http://127.0.0.1:" + std::to_string(m.peer_port);
  m.metrics_url = "http://127.0.0.1:" + std::to_string(m.metrics_port);
}

void EtcdCluster::assign_ports() {
  for (EtcdMember& m : members_) assign_ports(m);
}

std::vector<std::string> EtcdCluster::member_args(std::size_t i, bool existing) const {
  const EtcdMember& m = members_.at(i);
  // The cluster as it is now: at bootstrap the initial members; for a
  // learner joining later, everyone still in it (itself included). A
  // restarted member has its data dir and ignores the flag.
  std::vector<std::string> peers;
  for (const auto& other : members_) {
    if (!other.removed) peers.push_back(other.name + "=" + other.peer_url);
  }
  std::vector<std::string> args = {
      options_.etcd_binary.string(),
      "--name=" + m.name,
      "--data-dir=" + m.data_dir.string(),
      "--listen-client-urls=" + m.client_url,
      "--advertise-client-urls=" + m.client_url,
      "--listen-peer-urls=" + m.peer_url,
      "--initial-advertise-peer-urls=" + m.peer_url,
      "--listen-metrics-urls=" + m.metrics_url,
      "--initial-cluster=" + join(peers, ","),
      "--initial-cluster-token=" + token_,
      std::string("--initial-cluster-state=") + (existing ? "existing" : "new"),
  };
  if (tls_) {
    args.insert(args.end(), {"--cert-file=" + tls_->server_cert.string(),
                             "--key-file=" + tls_->server_key.string(),
                             "--trusted-ca-file=" + tls_->ca_cert.string(), "--client-cert-auth"});
  }
  args.insert(args.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  return args;
}

void EtcdCluster::spawn(std::size_t i, bool existing) {
  const EtcdMember& m = members_.at(i);
  // "joining": a member added to the running cluster, starting without a data dir.
  const char* how = !existing ? "" : fs::exists(m.data_dir) ? " (restart)" : " (joining)";
  append_marker(m.log_path, "starting " + m.name + how);
  ProcessOptions po;
  po.argv = options_.wrapper;
  if (options_.run_as) {
    const auto [uid, gid] = *options_.run_as;
    po.argv.insert(po.argv.end(), {"/usr/bin/setpriv", "--reuid=" + std::to_string(uid),
                                   "--regid=" + std::to_string(gid), "--clear-groups"});
  }
  const auto args = member_args(i, existing);
  po.argv.insert(po.argv.end(), args.begin(), args.end());
  po.unset_env = {"ETCD_*", "ETCDCTL_*"};  // etcd reads ETCD_* as flags
  po.env = options_.env;
  po.cwd = m.dir;
  po.log_path = m.log_path;
  processes_.at(i).emplace(std::move(po));
}

const TlsMaterial& EtcdCluster::tls_material() const {
  if (!tls_) throw std::logic_error("EtcdCluster: not a TLS cluster");
  return *tls_;
}

std::vector<std::string> EtcdCluster::endpoint_list() const {
  std::vector<std::string> out;
  for (const auto& m : members_) {
    if (!m.learner && !m.removed) out.push_back(m.client_url);
  }
  return out;
}

std::string EtcdCluster::all_endpoints() const {
  std::vector<std::string> out;
  for (const auto& m : members_) {
    if (!m.removed) out.push_back(m.client_url);
  }
  return join(out, ",");
}

std::string EtcdCluster::endpoints() const {
  return join(endpoint_list(), ",");
}

std::optional<int> EtcdCluster::stop_member(std::size_t i, std::chrono::milliseconds deadline) {
  auto& p = processes_.at(i);
  if (!p) return std::nullopt;
  signal_etcd(i, SIGTERM);
  if (auto status = p->wait_exit(deadline)) return status;
  signal_etcd(i, SIGKILL);
  return p->kill();
}

void EtcdCluster::kill_member(std::size_t i) {
  auto& p = processes_.at(i);
  if (!p) return;
  signal_etcd(i, SIGKILL);
  p->kill();
}

void EtcdCluster::start_member(std::size_t i, WaitFor wait, std::chrono::milliseconds deadline) {
  if (member_running(i)) {
    throw std::logic_error("EtcdCluster::start_member: " + members_.at(i).name + " is running");
  }
  spawn(i, true);
  wait_member(i, wait, deadline);
}

bool EtcdCluster::member_running(std::size_t i) {
  auto& p = processes_.at(i);
  return p && p->running();
}

Process* EtcdCluster::member_process(std::size_t i) {
  auto& p = processes_.at(i);
  return p ? &*p : nullptr;
}

std::string EtcdCluster::member_log(std::size_t i) const {
  return read_file(members_.at(i).log_path);
}

bool EtcdCluster::member_healthy(std::size_t i) const {
  const auto body =
      http_get_full("127.0.0.1", members_.at(i).metrics_port, "/health", std::chrono::seconds(2));
  return body && body->status == 200 && body->body.find("\"health\":\"true\"") != std::string::npos;
}

bool EtcdCluster::condition(std::size_t i, WaitFor wait) const {
  switch (wait) {
    case WaitFor::healthy:
      return member_healthy(i);
    case WaitFor::responding:
      return etcdctl_on(i, {"endpoint", "status", "--dial-timeout=1s", "--command-timeout=2s"},
                        std::chrono::seconds(5))
                 .exit_code == 0;
    case WaitFor::nothing:
      return true;
  }
  return true;
}

std::string EtcdCluster::failure(std::size_t i, const std::string& what) const {
  const EtcdMember& m = members_.at(i);
  return "etcd member " + m.name + " (" + m.client_url + ", log " + m.log_path.string() + ") " +
         what + "\n--- last 30 lines of its log ---\n" + tail_lines(member_log(i), 30);
}

void EtcdCluster::wait_member(std::size_t i, WaitFor wait, std::chrono::milliseconds deadline) {
  if (wait == WaitFor::nothing) return;
  auto& p = processes_.at(i);
  if (!p) throw std::logic_error("EtcdCluster::wait_member: member never started");
  bool exited = false;
  const bool ok = wait_until(
      [&] {
        if (!p->running()) {
          exited = true;
          return true;
        }
        return condition(i, wait);
      },
      deadline, std::chrono::milliseconds(50));
  if (exited) {
    throw std::runtime_error(failure(
        i,
        "exited with " + describe_status(p->exit_status().value_or(-1)) + " before it was ready"));
  }
  if (!ok) {
    throw std::runtime_error(
        failure(i, std::string(wait == WaitFor::healthy ? "not healthy" : "not responding") +
                       " within " + std::to_string(deadline.count()) + "ms"));
  }
}

std::vector<std::string> EtcdCluster::etcdctl_tls_flags() const {
  if (!tls_) return {};
  return {"--cacert=" + tls_->ca_cert.string(), "--cert=" + tls_->client_cert.string(),
          "--key=" + tls_->client_key.string()};
}

namespace {

CommandResult run_etcdctl(const fs::path& binary, const std::string& endpoints,
                          const std::vector<std::string>& tls_flags, std::vector<std::string> args,
                          std::chrono::milliseconds timeout, bool separate_stderr) {
  std::vector<std::string> argv = {binary.string(), "--endpoints=" + endpoints};
  argv.insert(argv.end(), tls_flags.begin(), tls_flags.end());
  argv.insert(argv.end(), std::make_move_iterator(args.begin()),
              std::make_move_iterator(args.end()));
  CommandOptions o;
  o.env = {{"ETCDCTL_API", "3"}};
  o.unset_env = {"ETCDCTL_*"};
  o.timeout = timeout;
  o.separate_stderr = separate_stderr;
  return run_command(std::move(argv), std::move(o));
}

}  // namespace

CommandResult EtcdCluster::etcdctl(std::vector<std::string> args,
                                   std::chrono::milliseconds timeout) const {
  return run_etcdctl(options_.etcdctl_binary, endpoints(), etcdctl_tls_flags(), std::move(args),
                     timeout, false);
}

CommandResult EtcdCluster::etcdctl_on(std::size_t i, std::vector<std::string> args,
                                      std::chrono::milliseconds timeout) const {
  return run_etcdctl(options_.etcdctl_binary, members_.at(i).client_url, etcdctl_tls_flags(),
                     std::move(args), timeout, false);
}

void EtcdCluster::put(const std::string& key, const std::string& value) const {
  const CommandResult r = etcdctl({"put", "--", key, value});
  if (r.exit_code != 0) {
    throw std::runtime_error("etcdctl put " + key + " failed (" + describe_status(r.exit_code) +
                             "): " + r.output);
  }
}

std::optional<std::string> EtcdCluster::get(const std::string& key) const {
  const CommandResult r =
      run_etcdctl(options_.etcdctl_binary, endpoints(), etcdctl_tls_flags(),
                  {"get", "-w", "json", "--", key}, std::chrono::seconds(15), true);
  if (r.exit_code != 0) {
    throw std::runtime_error("etcdctl get " + key + " failed (" + describe_status(r.exit_code) +
                             "): " + r.output + r.error);
  }
  const json j = json::parse(r.output, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error("etcdctl get " + key + ": bad JSON: " + r.output);
  if (!j.contains("kvs") || j["kvs"].empty()) return std::nullopt;
  return base64_decode(j["kvs"][0].value("value", std::string()));
}

bool EtcdCluster::same_revision() const {
  const auto all = status();
  if (all.empty() || !all.front()) return false;
  for (const auto& s : all) {
    if (!s || s->revision != all.front()->revision) return false;
  }
  return true;
}

std::vector<std::optional<EtcdMemberStatus>> EtcdCluster::status() const {
  std::vector<std::optional<EtcdMemberStatus>> out(members_.size());
  // One etcdctl for all members: it prints the members that answer on stdout
  // and complains about the others on stderr.
  const CommandResult r =
      run_etcdctl(options_.etcdctl_binary, all_endpoints(), etcdctl_tls_flags(),
                  {"endpoint", "status", "-w", "json", "--dial-timeout=1s", "--command-timeout=2s"},
                  std::chrono::seconds(15), true);
  const json j = json::parse(r.output, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return out;
  for (const auto& entry : j) {
    const std::string ep = entry.value("Endpoint", std::string());
    const auto it = std::find_if(members_.begin(), members_.end(), [&](const EtcdMember& m) {
      return !m.removed && m.client_url == ep;
    });
    if (it == members_.end() || !entry.contains("Status")) continue;
    const json& s = entry["Status"];
    EtcdMemberStatus st;
    if (s.contains("header")) {
      st.member_id = s["header"].value("member_id", std::uint64_t{0});
      st.revision = s["header"].value("revision", std::int64_t{0});
    }
    st.leader_id = s.value("leader", std::uint64_t{0});
    st.db_size = s.value("dbSize", std::uint64_t{0});
    st.db_size_in_use = s.value("dbSizeInUse", std::uint64_t{0});
    st.raft_index = s.value("raftIndex", std::uint64_t{0});
    st.raft_term = s.value("raftTerm", std::uint64_t{0});
    st.is_learner = s.value("isLearner", false);
    out[static_cast<std::size_t>(it - members_.begin())] = st;
  }
  return out;
}

int EtcdCluster::leader_index() const {
  const auto st = status();
  for (std::size_t i = 0; i < st.size(); ++i) {
    if (st[i] && st[i]->is_leader()) return static_cast<int>(i);
  }
  return -1;
}

int EtcdCluster::wait_for_leader(std::chrono::milliseconds deadline) const {
  int leader = -1;
  wait_until(
      [&] {
        leader = leader_index();
        return leader >= 0;
      },
      deadline, std::chrono::milliseconds(100));
  return leader;
}

std::vector<EtcdListedMember> EtcdCluster::member_list() const {
  const CommandResult r =
      run_etcdctl(options_.etcdctl_binary, endpoints(), etcdctl_tls_flags(),
                  {"member", "list", "-w", "json"}, std::chrono::seconds(15), true);
  const json j = json::parse(r.output, nullptr, false);
  if (r.exit_code != 0 || j.is_discarded() || !j.contains("members")) {
    throw std::runtime_error("etcdctl member list failed (" + describe_status(r.exit_code) +
                             "): " + r.output + r.error);
  }
  std::vector<EtcdListedMember> out;
  for (const auto& m : j["members"]) {
    EtcdListedMember e;
    e.id = m.value("ID", std::uint64_t{0});
    e.name = m.value("name", std::string());
    e.peer_urls = m.value("peerURLs", std::vector<std::string>{});
    e.client_urls = m.value("clientURLs", std::vector<std::string>{});
    e.is_learner = m.value("isLearner", false);
    out.push_back(std::move(e));
  }
  return out;
}

std::uint64_t EtcdCluster::member_id(std::size_t i) {
  EtcdMember& m = members_.at(i);
  if (m.id != 0 || m.removed) return m.id;
  for (const auto& listed : member_list()) {
    if (std::find(listed.peer_urls.begin(), listed.peer_urls.end(), m.peer_url) !=
        listed.peer_urls.end()) {
      m.id = listed.id;
    }
  }
  return m.id;
}

bool EtcdCluster::try_member_add(std::size_t i, std::string& error) {
  EtcdMember& m = members_.at(i);
  const CommandResult r =
      run_etcdctl(options_.etcdctl_binary, endpoints(), etcdctl_tls_flags(),
                  {"member", "add", m.name, "--learner", "--peer-urls=" + m.peer_url, "-w", "json"},
                  std::chrono::seconds(15), true);
  if (r.exit_code == 0) {
    const json j = json::parse(r.output, nullptr, false);
    if (!j.is_discarded() && j.contains("member")) m.id = j["member"].value("ID", std::uint64_t{0});
    return true;
  }
  error = r.output + r.error;
  // etcd refuses reconfiguration until the leader has been connected to
  // every member for a while (etcdserver's strict reconfig check), e.g. just
  // after the cluster started or leadership moved: try again then.
  if (error.find("unhealthy cluster") != std::string::npos) return false;
  throw std::runtime_error("etcdctl member add " + m.name + " --learner failed (" +
                           describe_status(r.exit_code) + "): " + error);
}

std::size_t EtcdCluster::add_learner(std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  const auto left = [&] {
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                        end - std::chrono::steady_clock::now()),
                    std::chrono::milliseconds(0));
  };
  const std::size_t i = members_.size();
  EtcdMember& m = new_member("m" + std::to_string(i + 1));
  m.learner = true;
  // As in the constructor: a port taken between free_port() and etcd's bind
  // means another attempt on fresh ones; the peer URL is part of the
  // membership, so the half-added member goes first.
  for (int attempt = 1;; ++attempt) {
    assign_ports(m);
    m.id = 0;
    std::string error;
    if (!wait_until([&] { return try_member_add(i, error); }, left(),
                    std::chrono::milliseconds(250))) {
      m.removed = true;
      throw std::runtime_error("etcdctl member add " + m.name + " --learner: still refused after " +
                               std::to_string(deadline.count()) + "ms: " + error);
    }
    fs::remove_all(m.data_dir);
    spawn(i, true);
    try {
      wait_member(i, WaitFor::responding, left());
      return i;
    } catch (const std::runtime_error&) {
      const bool port_clash = member_log(i).find("address already in use") != std::string::npos;
      if (!port_clash || attempt >= 3) {
        kill_member(i);
        throw;
      }
      kill_member(i);
      if (m.id != 0) etcdctl({"member", "remove", hex_id(m.id)});
    }
  }
}

void EtcdCluster::promote_member(std::size_t i, std::chrono::milliseconds deadline) {
  EtcdMember& m = members_.at(i);
  const std::uint64_t id = member_id(i);
  if (id == 0) throw std::runtime_error("EtcdCluster::promote_member: " + m.name + " has no ID");
  std::string error;
  const bool ok = wait_until(
      [&] {
        const CommandResult r = etcdctl({"member", "promote", hex_id(id)});
        if (r.exit_code == 0) return true;
        error = r.output;
        // A learner is promoted only once its log has caught up with the
        // leader's; anything else is final.
        if (error.find("not in sync") == std::string::npos) {
          throw std::runtime_error("etcdctl member promote " + m.name + " failed (" +
                                   describe_status(r.exit_code) + "): " + error);
        }
        return false;
      },
      deadline, std::chrono::milliseconds(250));
  if (!ok) {
    throw std::runtime_error(
        failure(i, "not promoted within " + std::to_string(deadline.count()) + "ms: " + error));
  }
  m.learner = false;
}

void EtcdCluster::remove_member(std::size_t i, std::chrono::milliseconds deadline) {
  EtcdMember& m = members_.at(i);
  const std::uint64_t id = member_id(i);
  if (id == 0) throw std::runtime_error("EtcdCluster::remove_member: " + m.name + " has no ID");
  // Ask the others: the member being removed may be the one a client reaches.
  m.removed = true;
  const CommandResult r = etcdctl({"member", "remove", hex_id(id)});
  if (r.exit_code != 0) {
    m.removed = false;
    throw std::runtime_error("etcdctl member remove " + m.name + " failed (" +
                             describe_status(r.exit_code) + "): " + r.output);
  }
  auto& p = processes_.at(i);
  if (p && !p->wait_exit(deadline)) {
    const std::string why =
        failure(i, "still running " + std::to_string(deadline.count()) + "ms after its removal");
    kill_member(i);
    throw std::runtime_error(why);
  }
}

}  // namespace etcd_warden::testing
