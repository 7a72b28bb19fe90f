// Self-tests of the S3 test support: s3rver (support/s3_server.hpp) and
// Debian's aws-cli 2 against it (support/awscli.hpp). They also pin down
// where s3rver 3.7.1 differs from AWS S3, which the upload client's tests
// have to allow for: no ListMultipartUploads, no AbortMultipartUpload, a
// multipart ETag without "-N", and SigV4 signatures never checked.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <map>
#include <string>

#include "support/awscli.hpp"
#include "support/process.hpp"
#include "support/s3_server.hpp"
#include "support/temp_dir.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

const std::string kBucket = "backups";

}  // namespace

TEST_CASE("support: node, s3rver and aws-cli 2 are installed", "[s3][integration]") {
  INFO("S3Server::missing(): " << S3Server::missing());
  REQUIRE(S3Server::available());
  const auto version = run_command({"/usr/bin/aws", "--version"});
  INFO(version.output);
  REQUIRE(version.exit_code == 0);
  CHECK_THAT(version.output, Catch::Matchers::StartsWith("aws-cli/2."));
}

TEST_CASE("support: s3rver serves aws-cli: put with metadata, head, list, cp down, delete",
          "[s3][integration]") {
  S3Server server({.buckets = {kBucket}});
  CHECK(server.endpoint() == "http://127.0.0.1:" + std::to_string(server.port()));
  CHECK(server.answering());
  AwsCli aws(server);
  TempDir dir("etcd-warden-s3-test");

  const std::string content = "snapshot bytes\n";
  write_file(dir / "up.db", content);
  const std::string etag = aws.put_object(kBucket, "etcd/m1/snap-1.db", dir / "up.db",
                                          {{"sha256", "abc123"}, {"revision", "42"}});
  // The ETag is the body's MD5 in quotes.
  const std::string md5 = run_checked({"md5sum", (dir / "up.db").string()}, "md5sum").substr(0, 32);
  CHECK(etag == "\"" + md5 + "\"");
  write_file(dir / "other.db", "elsewhere");
  aws.put_object(kBucket, "other/x.db", dir / "other.db");

  const auto head = aws.head_object(kBucket, "etcd/m1/snap-1.db");
  CHECK(head.at("ContentLength").get<std::uint64_t>() == content.size());
  CHECK(head.at("ETag").get<std::string>() == etag);
  REQUIRE(head.contains("Metadata"));
  CHECK(head.at("Metadata").value("sha256", "") == "abc123");
  CHECK(head.at("Metadata").value("revision", "") == "42");

  const auto listed = aws.list_objects(kBucket, "etcd/");
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].key == "etcd/m1/snap-1.db");
  CHECK(listed[0].size == content.size());
  CHECK(listed[0].etag == etag);
  CHECK(aws.list_objects(kBucket).size() == 2);
  CHECK(aws.list_objects(kBucket, "nothing/").empty());

  aws.cp_down(kBucket, "etcd/m1/snap-1.db", dir / "down.db");
  CHECK(read_file(dir / "down.db") == content);

  aws.delete_object(kBucket, "etcd/m1/snap-1.db");
  CHECK(aws.list_objects(kBucket, "etcd/").empty());
  const auto gone = aws.run({"s3api", "head-object", "--bucket", kBucket, "--key", "etcd/m1/x"});
  CHECK(gone.exit_code != 0);
  CHECK_THAT(gone.error, Contains("404"));

  // A bucket that does not exist: NoSuchBucket (404).
  const auto no_bucket = aws.run({"s3api", "list-objects-v2", "--bucket", "absent"});
  CHECK(no_bucket.exit_code != 0);
  CHECK_THAT(no_bucket.error, Contains("NoSuchBucket"));
  CHECK_THROWS_WITH(aws.head_object("absent", "k"), Contains("head-object"));

  aws.create_bucket("second");
  aws.put_object("second", "k", dir / "other.db");
  CHECK(aws.list_objects("second").size() == 1);
}

TEST_CASE("support: s3rver checks the access key id but not the SigV4 signature",
          "[s3][integration]") {
  S3Server server({.buckets = {kBucket}, .log = false});
  // A wrong secret signs differently: s3rver never computes SigV4, so it passes.
  AwsCli wrong_secret(server, {.secret_access_key = "not-the-secret"});
  CHECK(wrong_secret.list_objects(kBucket).empty());
  AwsCli wrong_key(server, {.access_key_id = "AKIANOBODY"});
  const auto r = wrong_key.run({"s3api", "list-objects-v2", "--bucket", kBucket});
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.error, Contains("InvalidAccessKeyId"));
}

TEST_CASE("support: a paused s3rver accepts connections and answers nothing until resumed",
          "[s3][integration]") {
  S3Server server({.buckets = {kBucket}});
  AwsCli aws(server, {.connect_timeout = 2s, .read_timeout = 2s});
  TempDir dir("etcd-warden-s3-test");
  write_file(dir / "f", "data");
  aws.put_object(kBucket, "k", dir / "f");

  server.pause();
  CHECK_FALSE(server.answering(500ms));
  const auto timed_out = aws.run({"s3api", "head-object", "--bucket", kBucket, "--key", "k"});
  CHECK(timed_out.exit_code != 0);
  CHECK_FALSE(timed_out.timed_out);  // the CLI's own read timeout, not ours
  // The connection was accepted (a read timeout, not a connect error).
  CHECK_THAT(timed_out.error, Contains("Read timeout"));

  server.resume();
  CHECK(server.answering());
  CHECK(aws.head_object(kBucket, "k").at("ContentLength") == 4);
}

TEST_CASE("support: a restarted s3rver keeps its port, buckets and objects", "[s3][integration]") {
  S3Server server({.buckets = {kBucket}});
  AwsCli aws(server);
  TempDir dir("etcd-warden-s3-test");
  write_file(dir / "f", "persisted");
  aws.put_object(kBucket, "a/b", dir / "f", {{"k", "v"}});
  const auto port = server.port();

  server.restart();
  CHECK(server.port() == port);
  CHECK(aws.head_object(kBucket, "a/b").at("Metadata").value("k", "") == "v");

  // After a SIGKILL too: s3rver writes each object before it answers.
  server.kill();
  CHECK_FALSE(server.running());
  CHECK_FALSE(server.answering(200ms));
  server.restart();
  CHECK(server.running());
  aws.cp_down(kBucket, "a/b", dir / "down");
  CHECK(read_file(dir / "down") == "persisted");

  // node has no SIGTERM handler: it dies of the signal, at once.
  CHECK(server.stop(5s) == -SIGTERM);
  CHECK_FALSE(server.running());
}

TEST_CASE(
    "support: a multipart upload shows in pending_uploads, but s3rver cannot list or abort it",
    "[s3][integration]") {
  S3Server server({.buckets = {kBucket}});
  AwsCli aws(server);
  TempDir dir("etcd-warden-s3-test");

  const std::string id = aws.create_multipart_upload(kBucket, "snap/big.db", {{"sha256", "f00"}});
  CHECK_FALSE(id.empty());
  write_file(dir / "p1", std::string(1024, 'a'));
  write_file(dir / "p2", std::string(10, 'b'));
  // s3rver takes parts under 5 MiB (AWS refuses all but the last at completion).
  const std::string etag1 = aws.upload_part(kBucket, "snap/big.db", id, 1, dir / "p1");
  const std::string etag2 = aws.upload_part(kBucket, "snap/big.db", id, 2, dir / "p2");
  CHECK(etag1.size() == 34);

  auto pending = server.pending_uploads(kBucket);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].key == "snap/big.db");
  CHECK(pending[0].upload_id == id);
  CHECK(pending[0].parts == std::vector<int>{1, 2});
  // Not an object yet.
  CHECK(aws.list_objects(kBucket).empty());

  // s3rver 3.7.1: GET ?uploads is NotImplemented, DELETE ?uploadId= MethodNotAllowed.
  CHECK_THROWS_WITH(aws.list_multipart_uploads(kBucket), Contains("NotImplemented"));
  const auto abort = aws.run({"s3api", "abort-multipart-upload", "--bucket", kBucket, "--key",
                              "snap/big.db", "--upload-id", id});
  CHECK(abort.exit_code != 0);
  CHECK_THAT(abort.error, Contains("MethodNotAllowed"));
  CHECK(server.pending_uploads(kBucket).size() == 1);

  write_file(dir / "parts.json", R"({"Parts":[{"PartNumber":1,"ETag":)" +
                                     nlohmann::json(etag1).dump() + R"(},{"PartNumber":2,"ETag":)" +
                                     nlohmann::json(etag2).dump() + "}]}");
  aws.run_checked({"s3api", "complete-multipart-upload", "--bucket", kBucket, "--key",
                   "snap/big.db", "--upload-id", id, "--multipart-upload",
                   "file://" + (dir / "parts.json").string()});
  CHECK(server.pending_uploads(kBucket).empty());
  const auto head = aws.head_object(kBucket, "snap/big.db");
  CHECK(head.at("ContentLength") == 1034);
  // The MD5 of the whole object: no "-2" as AWS would give.
  CHECK(head.at("ETag").get<std::string>().find('-') == std::string::npos);
  CHECK(head.at("Metadata").value("sha256", "") == "f00");
  aws.cp_down(kBucket, "snap/big.db", dir / "down");
  CHECK(read_file(dir / "down") == std::string(1024, 'a') + std::string(10, 'b'));
}
