#include "etcd_warden/app/cli.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "etcd_warden/app/daemon.hpp"
#include "etcd_warden/app/job_output.hpp"
#include "etcd_warden/app/snapshot_commands.hpp"
#include "etcd_warden/config/loader.hpp"
#include "etcd_warden/control/ctl.hpp"
#include "etcd_warden/systemd/logging.hpp"
#include "etcd_warden/util/build_info.hpp"

namespace etcd_warden::app {

namespace {

constexpr const char* kDefaultConfig = "/etc/etcd-warden/config.yaml";

struct Args {
  std::string config = kDefaultConfig;
  bool help = false;
  std::vector<std::string> words;  // the command and its arguments, options included
};

struct Command {
  std::string name;
  std::string usage;
  std::string summary;
  std::function<int(const Args&)> handler;
};

std::optional<Args> parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-c" || a == "--config") {
      if (i + 1 >= argc) {
        std::cerr << "etcd-warden: " << a << " needs a file name\n";
        return std::nullopt;
      }
      args.config = argv[++i];
    } else if (a.starts_with("--config=")) {
      args.config = a.substr(9);
    } else if (a == "-h" || a == "--help") {
      args.help = true;
    } else {
      args.words.push_back(std::move(a));
    }
  }
  return args;
}

// Loads and validates the config; prints every error as FILE:LINE:COL: message.
std::shared_ptr<const config::Config> load_or_report(
    const std::string& path,
    config::ReferencedFiles referenced = config::ReferencedFiles::unchecked) {
  auto loaded = config::load_file(path, referenced);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    return nullptr;
  }
  return std::make_shared<const config::Config>(std::move(*loaded.config));
}

int cmd_version(const Args&) {
  std::cout << "etcd-warden " << build::kVersion << "\n"
            << "build: " << build::kBuildType << ", " << build::kCompiler << "\n";
  return 0;
}

int cmd_check_config(const Args& args) {
  // The same checks `run` makes before it starts: the TLS and password files
  // must be readable now, not at 3 a.m.
  auto cfg = load_or_report(args.config, config::ReferencedFiles::checked);
  if (!cfg) return 1;
  asio::io_context io;
  auto client = etcd::Client::create(cfg->etcd, io.get_executor());
  if (!client) {
    std::cerr << args.config << ": " << client.error() << "\n";
    return 1;
  }
  std::cout << config::render(*cfg);
  return 0;
}

int cmd_run(const Args& args) {
  // Log first: everything after this, including config errors, goes to the journal.
  systemd::setup_logging(config::LogLevel::info);
  auto loaded = config::load_file(args.config, config::ReferencedFiles::checked);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) spdlog::error("{}", e.to_string());
    return 1;
  }
  auto cfg = std::make_shared<const config::Config>(std::move(*loaded.config));
  systemd::set_log_level(cfg->log.level);
  try {
    Daemon daemon(cfg, args.config);
    return daemon.run();
  } catch (const std::exception& e) {
    spdlog::error("{}: {}", args.config, e.what());
    return 1;
  }
}

int cmd_job(const Args& args) {
  if (args.words.size() != 2) {
    std::cerr << "usage: etcd-warden job NAME   (see etcd-warden job --help)\n";
    return 2;
  }
  auto cfg = load_or_report(args.config);
  if (!cfg) return 1;
  systemd::setup_logging(cfg->log.level);
  try {
    Runtime runtime(cfg);
    const JobSpec* spec = runtime.jobs.find(args.words[1]);
    if (spec == nullptr) {
      std::cerr << "etcd-warden: unknown job '" << args.words[1]
                << "' (one of: " << runtime.jobs.names() << ")\n";
      return 2;
    }
    return run_job_in_foreground(runtime, *spec, std::cout);
  } catch (const std::exception& e) {
    std::cerr << args.config << ": " << e.what() << "\n";
    return 1;
  }
}

std::vector<Command> commands() {
  return {
      {"run", "run", "run the daemon (systemd's ExecStart); logs to stderr or the journal",
       cmd_run},
      {"check-config", "check-config",
       "validate the config and print the effective one; exit 1 on errors", cmd_check_config},
      {"job", "job NAME",
       "run one job now in the foreground and print its result (status, compact, defrag, snapshot, "
       "tuning, ...)",
       cmd_job},
      {"ctl", control::kCtlUsage, "talk to the running daemon over D-Bus (status table, -o json)",
       [](const Args& a) { return control::run_ctl(a.words, a.config); }},
      {"snapshot", "snapshot verify FILE | list | fetch TARGET NAME [DEST] | upload TARGET FILE",
       "check a snapshot file's integrity / list kept snapshots, local and on upload targets / "
       "download one from a target, checked / upload one by hand",
       [](const Args& a) { return snapshot_command(a.words, a.config, std::cout, std::cerr); }},
      {"restore-plan", "restore-plan [--data-dir NAME=PATH ...] [SNAPSHOT | TARGET:NAME]",
       "print the exact per-member restore steps for this cluster (each member's data dir: "
       "this warden's etcd.data_dir, the one its own warden reported, or --data-dir)",
       [](const Args& a) { return restore_plan_command(a.words, a.config, std::cout, std::cerr); }},
      {"version", "version", "print version and build information", cmd_version},
  };
}

void print_help(const std::vector<Command>& cmds) {
  std::cout << "usage: etcd-warden [-c FILE] COMMAND [ARGS]\n\n"
            << "Keeps an etcd member compacted, defragmented, backed up and correctly tuned.\n\n"
            << "commands:\n";
  for (const auto& c : cmds) {
    std::printf("  %-22s %s\n", c.usage.c_str(), c.summary.c_str());
  }
  std::cout << "\noptions:\n"
            << "  -c, --config FILE      config file (default " << kDefaultConfig << ")\n"
            << "  -h, --help             this help; `etcd-warden COMMAND --help` for one command\n";
}

}  // namespace

int run_cli(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (!args) return 2;
  const auto cmds = commands();
  if (args->words.empty()) {
    print_help(cmds);
    return args->help ? 0 : 2;
  }
  for (const auto& c : cmds) {
    if (c.name != args->words.front()) continue;
    if (args->help) {
      std::cout << "usage: etcd-warden [-c FILE] " << c.usage << "\n\n" << c.summary << "\n";
      return 0;
    }
    return c.handler(*args);
  }
  std::cerr << "etcd-warden: unknown command '" << args->words.front()
            << "'; see etcd-warden --help\n";
  return 2;
}

}  // namespace etcd_warden::app
