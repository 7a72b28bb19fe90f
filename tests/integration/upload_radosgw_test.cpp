// snapshot.upload against Ceph's radosgw (tests/scripts/radosgw.sh), a server
// that checks what s3rver does not: the SigV4 signature with the secret, the
// signed payload sha256 and Content-MD5 of every part, and that implements
// ListMultipartUploads and AbortMultipartUpload. So here: the round trip,
// a wrong secret, the abort of a failed multipart upload, and the clean-up
// of one a crash left.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <regex>
#include <string>

#include "etcd_warden/snapshot/sidecar.hpp"
#include "support/awscli.hpp"
#include "support/delay_proxy.hpp"
#include "support/etcd_cluster.hpp"
#include "support/etcd_data.hpp"
#include "support/process.hpp"
#include "support/radosgw.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

const std::string kBucket = "backups";

fs::path write_credentials(const fs::path& dir, const std::string& key_id,
                           const std::string& secret) {
  return write_credentials_file(dir / "rgw.credentials", key_id, secret,
                                CredentialsFormat::key_value);
}

std::string rgw_yaml(const EtcdCluster& cluster, const fs::path& dir, const fs::path& credentials,
                     const std::string& endpoint, const std::string& extra = "") {
  return etcd_config_yaml(cluster, 0) + "snapshot:\n  dir: \"" + dir.string() +
         "\"\n  upload:\n    - name: ceph\n      s3:\n        endpoint: \"" + endpoint +
         "\"\n        bucket: " + kBucket + "\n        prefix: etcd\n        credentials_file: \"" +
         credentials.string() + "\"\n      part_size: 5MiB\n" + extra;
}

CommandResult warden(const TempDir& dir, const std::string& yaml, std::vector<std::string> args) {
  write_file(dir / "config.yaml", yaml);
  std::vector<std::string> argv{"-c", (dir / "config.yaml").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_cli(argv, 120s);
}

fs::path the_snapshot(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (std::regex_match(e.path().filename().string(), std::regex(R"(etcd-.*\.db\.zst)")))
      out.push_back(e.path());
  }
  REQUIRE(out.size() == 1);
  return out[0];
}

std::vector<std::string> keys(const AwsCli& aws) {
  std::vector<std::string> out;
  for (const auto& o : aws.list_objects(kBucket, "etcd/")) out.push_back(o.key);
  return out;
}

}  // namespace

TEST_CASE("radosgw: a multipart upload the server verified, read back and fetched",
          "[s3][radosgw][upload][integration]") {
  RadosGw rgw(kBucket);
  AwsCli aws(rgw.endpoint(),
             {.access_key_id = rgw.access_key(), .secret_access_key = rgw.secret_key()});
  EtcdCluster cluster({.members = 1});
  put_values(cluster.member(0).client_url, "/secret/", 64, 200 << 10, 3);
  TempDir work("rgw");
  const auto creds = write_credentials(work.path(), rgw.access_key(), rgw.secret_key());
  const std::string yaml = rgw_yaml(cluster, work / "snapshots", creds, rgw.endpoint());

  auto r = warden(work, yaml, {"job", "snapshot"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("parts=3"));
  const fs::path snap = the_snapshot(work / "snapshots");
  const std::string key = "etcd/" + snap.filename().string();
  CHECK(keys(aws) == std::vector<std::string>{key, key + ".json"});
  const auto info = etcd_warden::snapshot::read_sidecar(snap.string() + ".json");
  REQUIRE(info.ok());
  const auto head = aws.head_object(kBucket, key);
  CHECK(head.at("ContentLength").get<std::uint64_t>() == fs::file_size(snap));
  CHECK(head.at("Metadata").value("etcd-sha256", "") == info->sha256);
  // A real multipart ETag: the MD5 of the parts' MD5s, "-3".
  CHECK(head.at("ETag").get<std::string>().ends_with("-3\""));
  aws.cp_down(kBucket, key, work / "down.db.zst");
  CHECK(read_file(work / "down.db.zst") == read_file(snap));

  fs::create_directories(work / "fetched");
  auto fetched =
      warden(work, yaml,
             {"snapshot", "fetch", "ceph", snap.filename().string(), (work / "fetched").string()});
  INFO(fetched.output);
  REQUIRE(fetched.exit_code == 0);
  CHECK(run_cli({"snapshot", "verify", (work / "fetched" / snap.filename()).string()}).exit_code ==
        0);
  // radosgw lists unfinished uploads: there are none, and nothing was noted.
  CHECK(aws.list_multipart_uploads(kBucket).empty());
  CHECK(r.output.find("cannot list unfinished multipart uploads") == std::string::npos);
}

TEST_CASE("radosgw: a wrong secret is refused by the signature check, and never shown",
          "[s3][radosgw][upload][integration]") {
  RadosGw rgw(kBucket);
  EtcdCluster cluster({.members = 1});
  cluster.put("/k", "v");
  TempDir work("rgw-secret");
  const std::string wrong = "not-the-secret-but-still-secret-0123456789";
  const auto creds = write_credentials(work.path(), rgw.access_key(), wrong);
  auto r = warden(work, rgw_yaml(cluster, work / "snapshots", creds, rgw.endpoint()),
                  {"job", "snapshot"});
  INFO(r.output);
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.output, Contains("local snapshot ok, but upload to ceph failed"));
  CHECK_THAT(r.output, Contains("403 SignatureDoesNotMatch"));
  CHECK(r.output.find(wrong) == std::string::npos);
  CHECK(run_cli({"snapshot", "verify", the_snapshot(work / "snapshots").string()}).exit_code == 0);
}

TEST_CASE(
    "radosgw: a multipart upload that runs out of time is aborted, a crashed one at the "
    "next run",
    "[s3][radosgw][upload][integration]") {
  RadosGw rgw(kBucket);
  AwsCli aws(rgw.endpoint(),
             {.access_key_id = rgw.access_key(), .secret_access_key = rgw.secret_key()});
  EtcdCluster cluster({.members = 1});
  put_values(cluster.member(0).client_url, "/secret/", 64, 200 << 10, 5);
  TempDir work("rgw-abort");
  const auto creds = write_credentials(work.path(), rgw.access_key(), rgw.secret_key());

  SECTION("the deadline passes while a part is in flight: the upload is aborted") {
    // Each connection's first answer comes 4 s late; the deadline is 6 s:
    // the listing (4 s) and CreateMultipartUpload fit, the first part's
    // answer on a new connection does not. The abort has time of its own.
    DelayProxy proxy(rgw.port(), 4s);
    auto r = warden(work,
                    rgw_yaml(cluster, work / "snapshots", creds, proxy.url(),
                             "      parts_in_flight: 1\n      timeout: 6s\n"),
                    {"job", "snapshot"});
    INFO(r.output);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.output, Contains("local snapshot ok, but upload to ceph failed"));
    CHECK_THAT(r.output, Contains("(upload aborted)"));
    CHECK(aws.list_multipart_uploads(kBucket).empty());
    CHECK(keys(aws).empty());
  }
  SECTION("an upload a crash left behind is aborted by the next run") {
    const std::string left = "etcd/etcd-m1-r000000000001-20261201T000000Z.db.zst";
    const std::string id = aws.create_multipart_upload(kBucket, left);
    write_file(work / "part", std::string(1 << 20, 'p'));
    aws.upload_part(kBucket, left, id, 1, work / "part");
    // Another tool's unfinished upload is not ours to abort.
    aws.create_multipart_upload(kBucket, "etcd/other-tool.bin");
    REQUIRE(aws.list_multipart_uploads(kBucket).size() == 2);
    // Older than the target's timeout (2 s here): no upload of ours lives past it.
    const auto begun = std::chrono::steady_clock::now();
    REQUIRE(wait_until([&] { return std::chrono::steady_clock::now() - begun > 3s; }, 5s));
    auto r = warden(
        work, rgw_yaml(cluster, work / "snapshots", creds, rgw.endpoint(), "      timeout: 2s\n"),
        {"job", "snapshot"});
    INFO(r.output);
    // The upload itself may or may not fit in 2 s; the clean-up comes first.
    CHECK_THAT(r.output, Contains("aborted an unfinished upload of " + left));
    const auto pending = aws.list_multipart_uploads(kBucket);
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].key == "etcd/other-tool.bin");
  }
}
