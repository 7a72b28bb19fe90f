#include "member_process.hpp"

#include <algorithm>
#include <cctype>
#include <system_error>

#include "etcd_warden/io/file.hpp"
#include "etcd_warden/util/url.hpp"

namespace etcd_warden::tuning::detail {

namespace {

namespace fs = std::filesystem;

struct Candidate {
  int pid = 0;
  LaunchSettings settings;
  std::string environ_problem;  // empty when /proc/PID/environ was read
};

std::optional<int> pid_of(const std::string& name) {
  if (name.empty() || name.size() > 9 || !std::all_of(name.begin(), name.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      })) {
    return std::nullopt;
  }
  return std::stoi(name);
}

std::string first_line(std::string text) {
  text.erase(std::min(text.find('\n'), text.size()));
  return text;
}

bool is_etcd(const fs::path& dir, const std::vector<std::string>& argv) {
  const auto comm = io::read_file(dir / "comm");
  if (comm && first_line(*comm) == "etcd") return true;
  return !argv.empty() && fs::path(argv[0]).filename() == "etcd";
}

// What the process was started with. A relative --config-file or data dir is
// relative to the process's working directory, which /proc/PID/cwd names
// where we may read it.
std::optional<Candidate> inspect(const fs::path& dir, int pid) {
  const auto cmdline = io::read_file(dir / "cmdline");
  if (!cmdline) return std::nullopt;  // gone, or not ours to see
  const auto argv = split_nul(*cmdline);
  if (argv.empty() || !is_etcd(dir, argv)) return std::nullopt;  // kernel threads, zombies

  Candidate out;
  out.pid = pid;
  Launch launch;
  launch.argv_place = (dir / "cmdline").string();
  launch.argv = argv;
  const auto environ = io::read_file(dir / "environ");
  if (environ) {
    launch.env.push_back({(dir / "environ").string(), "", split_nul(*environ)});
  } else {
    launch.env_complete = false;
    out.environ_problem = "cannot read " + (dir / "environ").string() + " (" +
                          environ.error().reason() +
                          "): values the command line does not set are taken from the unit and "
                          "files, as if etcd had been started from them";
  }
  std::error_code ec;
  launch.base_dir = fs::read_symlink(dir / "cwd", ec);
  if (ec) launch.base_dir.clear();
  out.settings = resolve_launch(launch);
  return out;
}

std::vector<Candidate> etcd_processes(const fs::path& proc_root, std::vector<std::string>& notes) {
  std::vector<Candidate> out;
  std::error_code ec;
  fs::directory_iterator it(proc_root, ec);
  if (ec) {
    notes.push_back("cannot list " + proc_root.string() + ": " + ec.message());
    return out;
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const auto pid = pid_of(it->path().filename().string());
    if (!pid) continue;
    if (auto candidate = inspect(it->path(), *pid)) out.push_back(std::move(*candidate));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  return out;
}

// "/var/lib/etcd/" and "/var/lib/etcd" are one directory; so are a symlink
// and its target where both exist.
fs::path normal(const fs::path& p) {
  fs::path n = p.lexically_normal();
  if (!n.has_filename() && n.has_parent_path() && n != n.root_path()) n = n.parent_path();
  return n;
}

bool same_dir(const fs::path& a, const fs::path& b) {
  if (normal(a) == normal(b)) return true;
  std::error_code ec;
  return fs::equivalent(a, b, ec) && !ec;
}

// The port of "scheme://host:port/...", also "[::1]:2379"; nullopt without one.
std::optional<int> port_of(std::string_view text) {
  // etcd's flags always carry a scheme; a bare "host:port" is read the same.
  const auto url =
      util::parse_url(text.find("://") == std::string_view::npos ? "tcp://" + std::string(text)
                                                                 : std::string(text));
  if (!url || url->port.empty()) return std::nullopt;
  return std::stoi(url->port);
}

bool listens_on(const LaunchSettings& s, std::optional<int> port) {
  return port && std::any_of(s.client_urls.begin(), s.client_urls.end(),
                             [&](const std::string& url) { return port_of(url) == port; });
}

std::string pids_of(const std::vector<const Candidate*>& list) {
  std::string out;
  for (const auto* c : list) out += (out.empty() ? "" : ", ") + std::to_string(c->pid);
  return out;
}

MemberProcess take(const Candidate& c, std::vector<std::string>& notes) {
  if (!c.environ_problem.empty()) notes.push_back(c.environ_problem);
  notes.insert(notes.end(), c.settings.notes.begin(), c.settings.notes.end());
  return {c.pid, c.settings};
}

// Several processes with the same claim (a restart in progress, a test
// harness): the oldest pid is most likely the serving one.
MemberProcess take_first(const std::vector<const Candidate*>& list, const std::string& why,
                         std::vector<std::string>& notes) {
  if (list.size() > 1) {
    notes.push_back("several etcd processes " + why + " (pids " + pids_of(list) + "); using pid " +
                    std::to_string(list.front()->pid));
  }
  return take(*list.front(), notes);
}

}  // namespace

ProcessSearch find_member_process(const config::Etcd& etcd, const fs::path& proc_root) {
  ProcessSearch out;
  const auto processes = etcd_processes(proc_root, out.notes);
  const std::optional<int> port =
      etcd.endpoints.empty() ? std::nullopt : port_of(etcd.endpoints.front());

  std::vector<const Candidate*> by_dir, by_port;
  for (const auto& c : processes) {
    if (c.settings.data_dir && same_dir(*c.settings.data_dir, etcd.data_dir)) {
      by_dir.push_back(&c);
    } else if (listens_on(c.settings, port)) {
      by_port.push_back(&c);
    }
  }
  if (!by_dir.empty()) {
    out.member = take_first(by_dir, "use data dir " + etcd.data_dir.string(), out.notes);
    return out;
  }
  if (!by_port.empty()) {
    out.member = take_first(by_port, "listen on client port " + std::to_string(*port), out.notes);
    return out;
  }

  const std::string wanted = "data dir " + etcd.data_dir.string() +
                             (port ? " or client port " + std::to_string(*port) : "");
  if (processes.empty()) {
    out.notes.push_back("no etcd process found in " + proc_root.string());
  } else if (processes.size() > 1) {
    out.notes.push_back(std::to_string(processes.size()) + " etcd processes, none with " + wanted);
  } else if (const auto& only = processes.front();
             only.settings.data_dir || !only.settings.client_urls.empty()) {
    out.notes.push_back("the only etcd process, pid " + std::to_string(only.pid) +
                        ", is not this member's: it does not use " + wanted);
  } else {
    out.notes.push_back("no etcd process with " + wanted + "; using the only one, pid " +
                        std::to_string(only.pid) + ", whose data dir and client URLs are unknown");
    out.member = take(only, out.notes);
  }
  return out;
}

}  // namespace etcd_warden::tuning::detail
