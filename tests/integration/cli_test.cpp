// Bad input at the command line: one clear line naming the place, exit 1,
// never a crash or a hang.
#include <catch2/catch.hpp>

#include "support/ports.hpp"
#include "support/temp_dir.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;

namespace {

CommandResult check_config(const TempDir& dir, const std::string& yaml) {
  write_file(dir / "config.yaml", yaml);
  return run_cli({"-c", (dir / "config.yaml").string(), "check-config"}, 10s);
}

std::size_t line_count(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

TEST_CASE("check-config: each kind of error is one line with file, line and column", "[cli]") {
  TempDir dir("cli");
  const std::string file = (dir / "config.yaml").string();
  struct Case {
    const char* yaml;
    std::string expected;
  };
  const Case cases[] = {
      {"etcd:\n  endpoints: [\"http://127.0.0.1:2379\"\n", file + ":3:1: "},  // syntax
      {"defrag:\n  enabled: maybe\n", file + ":2:12: "},                      // wrong type
      {"defrag:\n  min_fre: 1GiB\n",
       file + ":2:3: unknown key 'defrag.min_fre' (did you mean 'min_free'?)"},
      {"snapshot:\n  every: 6 hours\n", file + ":2:10: "},  // bad duration
      {"defrag:\n  min_free: lots\n", file + ":2:13: "},    // bad size
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    auto r = check_config(dir, c.yaml);
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.starts_with(c.expected));
    CHECK(line_count(r.output) == 1);
  }
}

TEST_CASE("check-config: a good file prints the effective config and exits 0", "[cli]") {
  TempDir dir("cli");
  auto r = check_config(dir, "snapshot:\n  every: 12h\n");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("every: 12h") != std::string::npos);
  CHECK(r.output.find("endpoints:") != std::string::npos);
}

TEST_CASE("the shipped example config is valid", "[cli]") {
  auto r = run_cli(
      {"-c", std::string(ETCD_WARDEN_SOURCE_DIR) + "/config/config.yaml", "check-config"}, 10s);
  INFO(r.output);
  CHECK(r.exit_code == 0);
}

TEST_CASE("missing config file: one line naming it", "[cli]") {
  for (const char* cmd : {"check-config", "run", "job"}) {
    std::vector<std::string> args{"-c", "/nonexistent/etcd-warden.yaml", cmd};
    if (std::string(cmd) == "job") args.push_back("status");
    auto r = run_cli(args, 10s);
    INFO(cmd << ": " << r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("/nonexistent/etcd-warden.yaml") != std::string::npos);
    CHECK(r.output.find("No such file or directory") != std::string::npos);
  }
}

TEST_CASE("an unreadable certificate is named, for check-config and run", "[cli]") {
  TempDir dir("cli");
  const std::string missing_cert = (dir / "missing.crt").string();
  for (const auto& [yaml, needle] : std::vector<std::pair<std::string, std::string>>{
           {"etcd:\n  endpoints: [\"https://127.0.0.1:2379\"]\n  tls: {ca: \"" + missing_cert +
                "\"}\n",
            // At the key's position (the loader reads the files the config names).
            "config.yaml:3:13: etcd.tls.ca: cannot read " + missing_cert +
                ": No such file or directory"},
       }) {
    for (const char* cmd : {"check-config", "run"}) {
      write_file(dir / "config.yaml",
                 yaml + "metrics: {listen: \"127.0.0.1:" + std::to_string(free_port()) + "\"}\n");
      auto r = run_cli({"-c", (dir / "config.yaml").string(), cmd}, 10s);
      INFO(cmd << ": " << r.output);
      CHECK(r.exit_code == 1);
      CHECK(r.output.find(needle) != std::string::npos);
    }
  }
}

TEST_CASE("unreachable endpoint: job status fails within its deadline with a clear line", "[cli]") {
  TempDir dir("cli");
  write_file(dir / "config.yaml", "etcd:\n  endpoints: [\"http://127.0.0.1:" +
                                      std::to_string(free_port()) + "\"]\n  request_timeout: 2s\n");
  const auto started = std::chrono::steady_clock::now();
  auto r = run_cli({"-c", (dir / "config.yaml").string(), "job", "status"}, 20s);
  INFO(r.output);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("unreachable") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - started < 10s);
}

TEST_CASE("help, version and unknown commands", "[cli]") {
  auto r = run_cli({"--help"}, 5s);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("check-config") != std::string::npos);
  for (const char* cmd : {"run", "check-config", "job", "version"}) {
    auto h = run_cli({cmd, "--help"}, 5s);
    INFO(cmd);
    CHECK(h.exit_code == 0);
    CHECK(h.output.find(std::string("usage: etcd-warden [-c FILE] ") + cmd) != std::string::npos);
  }
  auto v = run_cli({"version"}, 5s);
  CHECK(v.exit_code == 0);
  CHECK(v.output.starts_with("etcd-warden "));
  auto u = run_cli({"frobnicate"}, 5s);
  CHECK(u.exit_code == 2);
  CHECK(u.output.find("unknown command 'frobnicate'") != std::string::npos);
  auto j = run_cli({"-c", "/dev/null", "job", "nosuchjob"}, 5s);
  CHECK(j.exit_code == 2);
  CHECK(j.output.find("unknown job 'nosuchjob'") != std::string::npos);
}
