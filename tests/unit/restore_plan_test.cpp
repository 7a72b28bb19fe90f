#include <catch2/catch.hpp>

#include "etcd_warden/snapshot/restore_plan.hpp"

using namespace etcd_warden::snapshot;

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
  CHECK(restore_command(in, in.members[1]) ==
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
            .starts_with("etcdutl snapshot restore "));
  CHECK(restore_command(three_members("3.6.0"), three_members("3.6.0").members[0])
            .starts_with("etcdutl snapshot restore "));
  CHECK(restore_command(three_members("garbage"), three_members("garbage").members[0])
            .starts_with("ETCDCTL_API=3 etcdctl"));
}

TEST_CASE("restore plan: stop, move aside, verify, decompress, restore per member, start, check",
          "[restore]") {
  auto in = three_members("3.4.23");
  in.etcdctl_flags = "--cacert /etc/etcd/ca.crt";
  const std::string plan = build_restore_plan(in);
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
  CHECK(at(restore_command(in, in.members[1]) + "\n" + chown + "\n") != std::string::npos);
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
  const std::string plan = build_restore_plan(in);
  INFO(plan);
  CHECK_THAT(plan, Catch::Contains("#    on m2: data dir /srv/etcd/m2 (reported by m2's warden)\n"
                                   "mv /srv/etcd/m2 /srv/etcd/m2.before-restore-20261123T120000Z"));
  CHECK_THAT(plan, Catch::Contains("/var/lib/etcd/default (--data-dir on the command line)"));
  CHECK_THAT(restore_command(in, in.members[1]), Catch::EndsWith("--data-dir /srv/etcd/m2"));
  CHECK_THAT(restore_command(in, in.members[0]), Catch::EndsWith("--data-dir /var/lib/etcd"));
  CHECK_THAT(plan, Catch::Contains("etcd-warden restore-plan --data-dir NAME=PATH"));
}
