#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "etcd_warden/snapshot/restore_plan.hpp"
#include "etcd_warden/util/shell_quote.hpp"
#include "support/process.hpp"
#include "support/result_printing.hpp"
#include "support/temp_dir.hpp"

using namespace etcd_warden::snapshot;
using etcd_warden::testing::run_command;
using etcd_warden::testing::TempDir;
using etcd_warden::testing::write_file;

namespace {

PlanInput three_members(std::string version) {
  PlanInput in;
  in.members = {{"m1",
                 {"https://10.0.0.1:2380"},
                 {"https://10.0.0.1:2379"},
                 "/var/lib/etcd",
                 "etcd.data_dir of this warden's config"},
                {"m2",
                 {"https://10.0.0.2:2380"},
                 {"https://10.0.0.2:2379"},
                 "/var/lib/etcd",
                 "reported by m2's warden"},
                {"m3",
                 {"https://10.0.0.3:2380"},
                 {"https://10.0.0.3:2379"},
                 "/var/lib/etcd",
                 "reported by m3's warden"}};
  in.snapshot = "/var/lib/etcd-warden/snapshots/etcd-m1-r000000000042-20261123T120000Z.db.zst";
  in.compressed = true;
  in.revision = 42;
  in.etcd_version = std::move(version);
  in.cluster_token = "etcd-restored-20261123T120000Z";
  in.stamp = "20261123T120000Z";
  return in;
}

}  // namespace

TEST_CASE("restore plan: each member restores the same snapshot with its own name and peer URL",
          "[restore]") {
  const auto in = three_members("3.4.23");
  CHECK(restore_command(in, in.members[1]).value() ==
        "ETCDCTL_API=3 etcdctl snapshot restore "
        "/var/lib/etcd-warden/snapshots/etcd-m1-r000000000042-20261123T120000Z.db --name m2 "
        "--initial-cluster "
        "m1=https://10.0.0.1:2380,m2=https://10.0.0.2:2380,m3=https://10.0.0.3:2380 "
        "--initial-cluster-token "
        "etcd-restored-20261123T120000Z --initial-advertise-peer-urls https://10.0.0.2:2380 "
        "--data-dir /var/lib/etcd");
}

TEST_CASE("restore plan: etcdutl from etcd 3.5 on", "[restore]") {
  CHECK(restore_command(three_members("3.5.9"), three_members("3.5.9").members[0])
            ->starts_with("etcdutl snapshot restore "));
  CHECK(restore_command(three_members("3.6.0"), three_members("3.6.0").members[0])
            ->starts_with("etcdutl snapshot restore "));
  CHECK(restore_command(three_members("garbage"), three_members("garbage").members[0])
            ->starts_with("ETCDCTL_API=3 etcdctl"));
}

TEST_CASE("restore plan: stop, move aside, verify, decompress, restore per member, start, check",
          "[restore]") {
  auto in = three_members("3.4.23");
  in.etcdctl_flags = {"--cacert", "/etc/etcd/ca.crt"};
  const std::string plan = build_restore_plan(in).value();
  const auto at = [&](const std::string& s) { return plan.find(s); };
  REQUIRE(at("systemctl stop etcd") != std::string::npos);
  REQUIRE(at("mv /var/lib/etcd /var/lib/etcd.before-restore-20261123T120000Z") !=
          std::string::npos);
  REQUIRE(at("etcd-warden snapshot verify ") != std::string::npos);
  REQUIRE(at("zstd -d -f ") != std::string::npos);
  REQUIRE(at("--name m3 ") != std::string::npos);
  REQUIRE(at("systemctl start etcd") != std::string::npos);
  REQUIRE(at("etcdctl --cacert /etc/etcd/ca.crt --endpoints "
             "https://10.0.0.1:2379,https://10.0.0.2:2379,"
             "https://10.0.0.3:2379 endpoint health") != std::string::npos);
  // In that order.
  CHECK(at("systemctl stop etcd") < at("mv /var/lib/etcd"));
  CHECK(at("mv /var/lib/etcd") < at("zstd -d"));
  CHECK(at("zstd -d") < at("--name m1 "));
  CHECK(at("--name m3 ") < at("systemctl start etcd"));
  CHECK(at("systemctl start etcd") < at("endpoint health"));
  // Each restore is followed by the chown from the moved-aside data dir.
  const std::string chown =
      "chown -R --reference=/var/lib/etcd.before-restore-20261123T120000Z /var/lib/etcd";
  CHECK(ownership_command(in, in.members[1]).value() == chown);
  CHECK(at(restore_command(in, in.members[1]).value() + "\n" + chown + "\n") != std::string::npos);
  CHECK(at(chown) < at("systemctl start etcd"));
  // Every line is a command or a comment.
  std::istringstream lines(plan);
  std::string line;
  int commands = 0;
  while (std::getline(lines, line)) commands += !line.starts_with("#");
  CHECK(commands == 15);  // stop, 3 mv, verify, zstd, 3 x (restore, chown), start, health, status
}

TEST_CASE("restore plan: each member's own data dir, with where it came from", "[restore]") {
  auto in = three_members("3.5.16");
  in.members[1].data_dir = "/srv/etcd/m2";
  in.members[2].data_dir = "/var/lib/etcd/default";
  in.members[2].data_dir_source = "--data-dir on the command line";
  const std::string plan = build_restore_plan(in).value();
  INFO(plan);
  CHECK_THAT(plan, Catch::Contains("#    on m2: data dir /srv/etcd/m2 (reported by m2's warden)\n"
                                   "mv /srv/etcd/m2 /srv/etcd/m2.before-restore-20261123T120000Z"));
  CHECK_THAT(plan, Catch::Contains("/var/lib/etcd/default (--data-dir on the command line)"));
  CHECK_THAT(restore_command(in, in.members[1]).value(),
             Catch::EndsWith("--data-dir /srv/etcd/m2"));
  CHECK_THAT(restore_command(in, in.members[0]).value(),
             Catch::EndsWith("--data-dir /var/lib/etcd"));
  CHECK_THAT(plan, Catch::Contains("etcd-warden restore-plan --data-dir NAME=PATH"));
}

namespace {

// A plan whose values a shell would otherwise run, glob or split.
PlanInput hostile_members(const std::filesystem::path& dir) {
  auto in = three_members("3.5.16");
  in.members[0].data_dir = (dir / "my data;touch ").string() + (dir / "INJECTED").string();
  in.members[1].name = "$(touch " + (dir / "X").string() + ")";
  in.members[2].name = "o'brien";
  in.cluster_token = "etcd restored now";
  in.snapshot = dir / "snap shots" / "etcd `id` *.db.zst";
  in.etcdctl_flags = {"--cacert", "/etc/etcd/my ca.crt"};
  return in;
}

// One line per command the plan runs: the program's name and each argument
// after a tab (no value can hold a tab: it would have been refused).
std::string line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : "\t") + a;
  return out + "\n";
}

// What each command of `plan` receives, run by /bin/sh with every program it
// names replaced by a stub that records its arguments.
std::string run_with_stubs(const TempDir& dir, const std::string& plan) {
  write_file(dir / "bin" / "stub",
             "#!/bin/sh\n"
             "{ printf '%s' \"${0##*/}\"; for a in \"$@\"; do printf '\\t%s' \"$a\"; done; "
             "printf '\\n'; } >> \"$STUB_LOG\"\n");
  std::filesystem::permissions(dir / "bin" / "stub", std::filesystem::perms::owner_all);
  for (const char* program :
       {"systemctl", "mv", "etcd-warden", "zstd", "etcdutl", "etcdctl", "chown"})
    std::filesystem::create_symlink("stub", dir / "bin" / program);
  write_file(dir / "plan.sh", plan);
  const auto r = run_command({"/bin/sh", (dir / "plan.sh").string()},
                             {.env = {{"PATH", (dir / "bin").string() + ":/usr/bin:/bin"},
                                      {"STUB_LOG", (dir / "log").string()}}});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return etcd_warden::testing::read_file(dir / "log");
}

}  // namespace

TEST_CASE("restore plan: a shell runs each command with exactly the values, and nothing else",
          "[restore]") {
  TempDir dir("restore-plan");
  const auto in = hostile_members(dir.path());
  const auto plan = build_restore_plan(in);
  REQUIRE(plan);
  INFO(*plan);
  write_file(dir / "syntax.sh", *plan);
  CHECK(run_command({"/bin/sh", "-n", (dir / "syntax.sh").string()}).exit_code == 0);

  const std::string snapshot = in.snapshot.string();
  const std::string plain = snapshot.substr(0, snapshot.size() - 4);
  const std::string initial_cluster = "m1=https://10.0.0.1:2380," + in.members[1].name +
                                      "=https://10.0.0.2:2380,o'brien=https://10.0.0.3:2380";
  std::string expected = line({"systemctl", "stop", "etcd"});
  for (const auto& m : in.members)
    expected += line({"mv", m.data_dir.string(), moved_aside(in, m)});
  expected += line({"etcd-warden", "snapshot", "verify", snapshot}) +
              line({"zstd", "-d", "-f", snapshot, "-o", plain});
  for (const auto& m : in.members) {
    expected +=
        line({"etcdutl", "snapshot", "restore", plain, "--name", m.name, "--initial-cluster",
              initial_cluster, "--initial-cluster-token", "etcd restored now",
              "--initial-advertise-peer-urls", m.peer_urls[0], "--data-dir", m.data_dir.string()}) +
        line({"chown", "-R", "--reference=" + moved_aside(in, m), m.data_dir.string()});
  }
  const std::string endpoints = "https://10.0.0.1:2379,https://10.0.0.2:2379,https://10.0.0.3:2379";
  expected += line({"systemctl", "start", "etcd"}) +
              line({"etcdctl", "--cacert", "/etc/etcd/my ca.crt", "--endpoints", endpoints,
                    "endpoint", "health"}) +
              line({"etcdctl", "--cacert", "/etc/etcd/my ca.crt", "--endpoints", endpoints,
                    "endpoint", "status", "-w", "table"});
  CHECK(run_with_stubs(dir, *plan) == expected);
  CHECK_FALSE(std::filesystem::exists(dir / "INJECTED"));
  CHECK_FALSE(std::filesystem::exists(dir / "X"));
}

TEST_CASE("restore plan: a composed argument is quoted once, as a whole", "[restore]") {
  TempDir dir("restore-plan");
  const auto in = hostile_members(dir.path());
  const std::string data_dir = in.members[0].data_dir.string();
  CHECK(ownership_command(in, in.members[0]).value() == "chown -R '--reference=" + data_dir +
                                                            ".before-restore-20261123T120000Z' '" +
                                                            data_dir + "'");
  CHECK_THAT(restore_command(in, in.members[2]).value(),
             Catch::Contains(" --name 'o'\\''brien' --initial-cluster 'm1=https://10.0.0.1:2380,"
                             "$(touch " +
                             (dir / "X").string() +
                             ")=https://10.0.0.2:2380,o'\\''brien=https://10.0.0.3:2380' "
                             "--initial-cluster-token 'etcd restored now' "));
  // Values split no line: still 15 commands, every other line a comment.
  const std::string plan = build_restore_plan(in).value();
  std::istringstream lines(plan);
  std::string text;
  int commands = 0;
  while (std::getline(lines, text)) commands += !text.starts_with("#");
  CHECK(commands == 15);
  CHECK_THAT(plan, Catch::Contains("#    on o'brien: data dir /var/lib/etcd (reported by m3's "
                                   "warden)\n"));
}

TEST_CASE("restore plan: a value that cannot be pasted refuses the plan, naming it escaped",
          "[restore]") {
  const struct {
    const char* what;
    void (*change)(PlanInput&);
    std::string error;
  } cases[] = {
      {"a newline in a name", [](PlanInput& in) { in.members[1].name = "a\nb"; },
       "member 2's name \"a\\nb\" contains a newline; start that member with a plain --name"},
      {"a NUL in a name",
       [](PlanInput& in) {
         in.members[0].name = std::string(
             "m\0"
             "1",
             3);
       },
       "member 1's name \"m\\x001\" contains a NUL byte; "},
      {"ESC in a name", [](PlanInput& in) { in.members[2].name = "\x1b]0;pwned\x07"; },
       "member 3's name \"\\x1b]0;pwned\\x07\" contains the control character \\x1b; "},
      {"ill-formed UTF-8 in a name", [](PlanInput& in) { in.members[1].name = "m\xff"; },
       "member 2's name \"m\\xff\" is not valid UTF-8 (byte \\xff); "},
      {"a newline in a data dir",
       [](PlanInput& in) { in.members[2].data_dir = "/var/lib/etcd\nrm -rf /"; },
       "member m3's data dir \"/var/lib/etcd\\nrm -rf /\" contains a newline; pass the right "
       "one: etcd-warden restore-plan --data-dir NAME=PATH"},
      {"a NUL in a data dir",
       [](PlanInput& in) { in.members[0].data_dir = std::string("/var/lib/\0etcd", 14); },
       "member m1's data dir \"/var/lib/\\x00etcd\" contains a NUL byte; "},
      {"ESC in a data dir", [](PlanInput& in) { in.members[0].data_dir = "/var/\x1b[2Jetcd"; },
       "member m1's data dir \"/var/\\x1b[2Jetcd\" contains the control character \\x1b; "},
      {"ill-formed UTF-8 in a data dir",
       [](PlanInput& in) { in.members[0].data_dir = "/var/lib/\xc3(etcd"; },
       "member m1's data dir \"/var/lib/\\xc3(etcd\" is not valid UTF-8 (byte \\xc3); "},
      {"ill-formed UTF-8 in the snapshot's path",
       [](PlanInput& in) { in.snapshot = "/snap\xff.db"; },
       "the snapshot's path \"/snap\\xff.db\" is not valid UTF-8 (byte \\xff); rename the file"},
      {"a carriage return in a peer URL",
       [](PlanInput& in) { in.members[1].peer_urls[0] = "https://10.0.0.2:2380\r"; },
       "member m2's peer URL \"https://10.0.0.2:2380\\r\" contains a carriage return; "},
      {"a newline in a client URL",
       [](PlanInput& in) { in.members[1].client_urls[0] = "https://x\n"; },
       "member m2's client URL \"https://x\\n\" contains a newline; "},
      {"a newline in a TLS flag",
       [](PlanInput& in) {
         in.etcdctl_flags = {"--cacert", "/etc/ca\n.crt"};
       },
       "the etcdctl flag \"/etc/ca\\n.crt\" contains a newline; correct etcd.tls in the config"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto in = three_members("3.5.16");
    c.change(in);
    const auto plan = build_restore_plan(in);
    REQUIRE_FALSE(plan);
    CHECK_THAT(plan.error(), Catch::StartsWith(c.error));
    // One printable line: the bad value is shown escaped, never raw.
    CHECK(etcd_warden::util::paste_hazard(plan.error()) == std::nullopt);
    CHECK_FALSE(restore_command(in, in.members[0]));
    CHECK_FALSE(ownership_command(in, in.members[0]));
  }
}
