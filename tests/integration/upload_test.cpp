// snapshot.upload against a real S3 server (s3rver on loopback) and checked by
// a client nobody here wrote (Debian's aws-cli 2): the round trip back to a
// snapshot etcd accepts, fetch and restore-plan, retention in the bucket per
// member, and the faults: wrong credentials, a missing bucket, a server that
// dies mid-upload and one that never answers.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <string>

#include "etcd_warden/snapshot/sidecar.hpp"
#include "support/awscli.hpp"
#include "support/delay_proxy.hpp"
#include "support/etcd_cluster.hpp"
#include "support/etcd_data.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/s3_server.hpp"
#include "support/temp_dir.hpp"
#include "support/tls.hpp"
#include "support/wait.hpp"
#include "support/warden.hpp"

using namespace etcd_warden::testing;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

const std::string kBucket = "backups";
const std::string kSecret = "S3RVER";  // s3rver checks the key id only

struct TargetOptions {
  std::string endpoint;
  std::string bucket = kBucket;
  std::string extra;  // more keys of the target, indented by 6
};

std::string target_yaml(const fs::path& credentials, const TargetOptions& t) {
  return "  upload:\n    - name: offsite\n      s3:\n        endpoint: \"" + t.endpoint +
         "\"\n        bucket: " + t.bucket +
         "\n        prefix: etcd\n        credentials_file: \"" + credentials.string() + "\"\n" +
         t.extra;
}

std::string upload_yaml(const EtcdCluster& cluster, std::size_t member, const fs::path& dir,
                        const fs::path& credentials, const TargetOptions& t,
                        const std::string& snapshot_extra = "") {
  return etcd_config_yaml(cluster, member) + "snapshot:\n  dir: \"" + dir.string() + "\"\n" +
         snapshot_extra + target_yaml(credentials, t);
}

fs::path write_credentials(const fs::path& dir, const std::string& key_id,
                           const std::string& secret = kSecret) {
  return write_credentials_file(dir / "s3.credentials", key_id, secret);
}

CommandResult warden(const TempDir& dir, const std::string& yaml, std::vector<std::string> args,
                     std::chrono::milliseconds timeout = 120s) {
  write_file(dir / "config.yaml", yaml);
  std::vector<std::string> argv{"-c", (dir / "config.yaml").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_cli(argv, timeout);
}

std::vector<fs::path> local_snapshots(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (std::regex_match(e.path().filename().string(), std::regex(R"(etcd-.*\.db(\.zst)?)")))
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> keys(const AwsCli& aws, const std::string& prefix = "etcd/") {
  std::vector<std::string> out;
  for (const auto& o : aws.list_objects(kBucket, prefix)) out.push_back(o.key);
  return out;
}

// Every snapshot object has its sidecar and every sidecar its object.
bool pairs_complete(const std::vector<std::string>& listed) {
  const auto has = [&](const std::string& k) {
    return std::find(listed.begin(), listed.end(), k) != listed.end();
  };
  for (const auto& k : listed) {
    if (k.ends_with(".json") ? !has(k.substr(0, k.size() - 5)) : !has(k + ".json")) return false;
  }
  return true;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

// Waits for the next wall-clock second: snapshot names have whole seconds.
void next_second() {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  REQUIRE(wait_until([&] { return std::chrono::system_clock::now() >= now + 1s; }, 3s));
}

}  // namespace

TEST_CASE("upload: multipart to S3, read back by aws-cli, fetched and planned",
          "[s3][upload][integration]") {
  S3Server server({.buckets = {kBucket}});
  AwsCli aws(server);
  EtcdCluster cluster({.members = 1});
  // Random values: a zstd file of ~13 MB, three 5 MiB parts.
  put_values(cluster.member(0).client_url, "/secret/", 64, 200 << 10, 7);
  TempDir work("upload");
  const fs::path dir = work / "snapshots";
  const auto creds = write_credentials(work.path(), S3Server::kAccessKeyId);
  const std::string yaml = upload_yaml(
      cluster, 0, dir, creds, {.endpoint = server.endpoint(), .extra = "      part_size: 5MiB\n"});

  auto r = warden(work, yaml, {"job", "snapshot"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("snapshot uploaded to offsite"));
  CHECK_THAT(r.output, Contains("parts=3"));
  const auto snaps = local_snapshots(dir);
  REQUIRE(snaps.size() == 1);
  const std::string name = snaps[0].filename().string();
  const auto info = etcd_warden::snapshot::read_sidecar(snaps[0].string() + ".json");
  REQUIRE(info.ok());

  const std::string key = "etcd/" + name;
  CHECK(keys(aws) == std::vector<std::string>{key, key + ".json"});
  const auto head = aws.head_object(kBucket, key);
  CHECK(head.at("ContentLength").get<std::uint64_t>() == fs::file_size(snaps[0]));
  CHECK(head.at("Metadata").value("etcd-sha256", "") == info->sha256);

  // aws-cli's copy is our file byte for byte, and etcd reads it.
  aws.cp_down(kBucket, key, work / "down.db.zst");
  CHECK(read_file(work / "down.db.zst") == read_file(snaps[0]));
  aws.cp_down(kBucket, key + ".json", work / "down.json");
  CHECK(read_file(work / "down.json") == read_file(snaps[0].string() + ".json"));
  REQUIRE(run_command({"zstd", "-q", "-d", (work / "down.db.zst").string(), "-o",
                       (work / "down.db").string()})
              .exit_code == 0);
  auto status = run_command(
      {cluster.etcdutl_binary().string(), "snapshot", "status", (work / "down.db").string()},
      {.env = {{"ETCDCTL_API", "3"}}});
  INFO(status.output);
  CHECK(status.exit_code == 0);

  // snapshot list shows it as verified, beside the local one.
  auto list = warden(work, yaml, {"snapshot", "list"});
  INFO(list.output);
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.output, Contains("upload target offsite (s3://backups/etcd/): 1 snapshot(s)"));
  CHECK(std::regex_search(list.output, std::regex(name + R"(.* yes, checked after upload)")));

  // fetch: into a directory, 0600, with a sidecar; `snapshot verify` agrees.
  fs::create_directories(work / "fetched");
  auto fetched =
      warden(work, yaml, {"snapshot", "fetch", "offsite", name, (work / "fetched").string()});
  INFO(fetched.output);
  REQUIRE(fetched.exit_code == 0);
  const fs::path got = work / "fetched" / name;
  CHECK(read_file(got) == read_file(snaps[0]));
  CHECK(mode_of(got) == 0600);
  CHECK(fs::exists(got.string() + ".json"));
  CHECK(run_cli({"snapshot", "verify", got.string()}).exit_code == 0);
  // Never over an existing file; a name that is not there is one clear line.
  auto again =
      warden(work, yaml, {"snapshot", "fetch", "offsite", name, (work / "fetched").string()});
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.output, Contains("already exists"));
  auto absent = warden(work, yaml,
                       {"snapshot", "fetch", "offsite", "etcd-m1-r000000000001-20200101T000000Z.db",
                        (work / "fetched").string()});
  CHECK(absent.exit_code == 1);
  CHECK_THAT(absent.output, Contains("has no sidecar"));

  // restore-plan from the bucket: the fetch is its first command.
  auto plan = warden(work, yaml, {"restore-plan", "offsite:" + name});
  INFO(plan.output);
  REQUIRE(plan.exit_code == 0);
  const auto fetch_at = plan.output.find("etcd-warden snapshot fetch offsite " + name);
  REQUIRE(fetch_at != std::string::npos);
  CHECK(fetch_at < plan.output.find("systemctl stop etcd"));
  CHECK_THAT(plan.output, Contains("zstd -d"));
}

TEST_CASE("upload: three members share a bucket, retention is per member and keeps the newest",
          "[s3][upload][integration]") {
  S3Server server({.buckets = {kBucket}});
  AwsCli aws(server);
  EtcdCluster cluster({.members = 3});
  cluster.put("/k", "v");
  TempDir work("upload3");
  const auto creds = write_credentials(work.path(), S3Server::kAccessKeyId);
  // Objects a crash or a person left: an older one without sidecar (gone
  // once superseded), a newer one without sidecar (left for a person), and
  // another tool's object (never touched).
  write_file(work / "junk", "junk");
  aws.put_object(kBucket, "etcd/etcd-m1-r000000000001-20200101T000000Z.db.zst", work / "junk");
  aws.put_object(kBucket, "etcd/etcd-m1-r000000000002-20990101T000000Z.db.zst", work / "junk");
  aws.put_object(kBucket, "etcd/notes.txt", work / "junk");

  for (std::size_t m = 0; m < 3; ++m) {
    const std::string yaml =
        upload_yaml(cluster, m, work / ("snap" + std::to_string(m)), creds,
                    {.endpoint = server.endpoint(), .extra = "      keep_last: 1\n"});
    auto r = warden(work, yaml, {"job", "snapshot"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.output, Contains("single PUT"));  // small: no multipart
  }
  auto listed = keys(aws);
  INFO(Catch::StringMaker<std::vector<std::string>>::convert(listed));
  CHECK(listed.size() == 3 * 2 + 2);  // a pair per member, the newer junk, notes.txt
  CHECK(std::count_if(listed.begin(), listed.end(), [](const std::string& k) {
          return k.find("20200101") != std::string::npos;
        }) == 0);
  CHECK(std::find(listed.begin(), listed.end(), "etcd/notes.txt") != listed.end());

  // m1 again, keep_last 1: its older pair goes, the others' stay.
  const auto before = local_snapshots(work / "snap0");
  REQUIRE(before.size() == 1);
  next_second();
  const std::string yaml0 =
      upload_yaml(cluster, 0, work / "snap0", creds,
                  {.endpoint = server.endpoint(), .extra = "      keep_last: 1\n"});
  auto r = warden(work, yaml0, {"job", "snapshot"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("retention deleted etcd/" + before[0].filename().string()));
  listed = keys(aws);
  CHECK(listed.size() == 3 * 2 + 2);
  CHECK(std::find(listed.begin(), listed.end(), "etcd/" + before[0].filename().string()) ==
        listed.end());
  for (const auto& m : {"m2", "m3"}) {
    CHECK(std::count_if(listed.begin(), listed.end(), [&](const std::string& k) {
            return k.starts_with(std::string("etcd/etcd-") + m + "-");
          }) == 2);
  }
}

TEST_CASE("upload: wrong credentials or a missing bucket fail the run in one line, local kept",
          "[s3][upload][integration]") {
  S3Server server({.buckets = {kBucket}});
  AwsCli aws(server);
  EtcdCluster cluster({.members = 1});
  cluster.put("/k", "v");
  TempDir work("upload-bad");
  const fs::path dir = work / "snapshots";

  SECTION("an access key the server does not know") {
    const std::string secret = "very-secret-value-0123456789";
    const auto creds = write_credentials(work.path(), "AKIAWRONGWRONGWRONG", secret);
    auto r = warden(work, upload_yaml(cluster, 0, dir, creds, {.endpoint = server.endpoint()}),
                    {"job", "snapshot"});
    INFO(r.output);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.output, Contains("local snapshot ok, but upload to offsite failed"));
    CHECK_THAT(r.output, Contains("403 InvalidAccessKeyId"));
    CHECK(r.output.find(secret) == std::string::npos);
  }
  SECTION("a bucket that does not exist") {
    const auto creds = write_credentials(work.path(), S3Server::kAccessKeyId);
    auto r = warden(work,
                    upload_yaml(cluster, 0, dir, creds,
                                {.endpoint = server.endpoint(), .bucket = "no-such-bucket"}),
                    {"job", "snapshot"});
    INFO(r.output);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.output, Contains("local snapshot ok, but upload to offsite failed"));
    CHECK_THAT(r.output, Contains("404 NoSuchBucket"));
  }
  SECTION("a credentials file readable by others: a warning, and the upload goes on") {
    const auto creds = write_credentials(work.path(), S3Server::kAccessKeyId);
    fs::permissions(creds, fs::perms::others_read, fs::perm_options::add);
    auto r = warden(work, upload_yaml(cluster, 0, dir, creds, {.endpoint = server.endpoint()}),
                    {"job", "snapshot"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Contains(creds.string()));
    CHECK(keys(aws).size() == 2);
  }
  // Whatever happened to the upload, the local snapshot is there and verified.
  const auto snaps = local_snapshots(dir);
  REQUIRE(snaps.size() == 1);
  CHECK(run_cli({"snapshot", "verify", snaps[0].string()}).exit_code == 0);
}

TEST_CASE("upload: a server killed mid-upload leaves no object without its sidecar",
          "[s3][upload][integration]") {
  S3Server server({.buckets = {kBucket}});
  AwsCli aws(server);
  // Each connection's first answer comes 3 s late: the first part is stored
  // and the warden waits for its answer while the test kills the server.
  DelayProxy proxy(server.port(), 3s);
  EtcdCluster cluster({.members = 1});
  put_values(cluster.member(0).client_url, "/secret/", 64, 200 << 10, 11);
  TempDir work("upload-kill");
  const fs::path dir = work / "snapshots";
  const auto creds = write_credentials(work.path(), S3Server::kAccessKeyId);
  const std::string yaml = upload_yaml(
      cluster, 0, dir, creds,
      {.endpoint = proxy.url(), .extra = "      part_size: 5MiB\n      parts_in_flight: 1\n"});
  write_file(work / "config.yaml", yaml);
  Process job(
      {.argv = {warden_binary().string(), "-c", (work / "config.yaml").string(), "job", "snapshot"},
       .log_path = work / "job.log"});
  REQUIRE_EVENTUALLY(
      !server.pending_uploads(kBucket).empty() && !server.pending_uploads(kBucket)[0].parts.empty(),
      60s);
  server.kill();
  const auto exit = job.wait_exit(90s);
  const std::string log = job.log();
  INFO(log);
  REQUIRE(exit.has_value());
  CHECK(*exit != 0);
  CHECK_THAT(log, Contains("local snapshot ok, but upload to offsite failed"));
  const auto snaps = local_snapshots(dir);
  REQUIRE(snaps.size() == 1);
  CHECK(run_cli({"snapshot", "verify", snaps[0].string()}).exit_code == 0);

  // Back up: no half object is visible, the next run uploads a whole pair.
  server.restart();
  CHECK(keys(aws).empty());
  next_second();
  auto r = warden(work, yaml, {"job", "snapshot"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto listed = keys(aws);
  CHECK(listed.size() == 2);
  CHECK(pairs_complete(listed));
  // s3rver can neither list nor abort multipart uploads; the warden says so
  // instead of pretending it cleaned up.
  CHECK_THAT(r.output, Contains("cannot list unfinished multipart uploads"));
}

TEST_CASE("upload: a server that never answers: the deadline holds, /metrics keeps serving",
          "[s3][upload][integration]") {
  S3Server server({.buckets = {kBucket}});
  EtcdCluster cluster({.members = 1});
  cluster.put("/k", "v");
  TempDir work("upload-hang");
  const auto creds = write_credentials(work.path(), S3Server::kAccessKeyId);
  server.pause();  // connections are accepted, nothing is answered
  MetricsWarden daemon(upload_yaml(cluster, 0, work / "snapshots", creds,
                                   {.endpoint = server.endpoint(), .extra = "      timeout: 4s\n"},
                                   "  every: 1h\n  jitter: 0s\n"));
  const auto started = std::chrono::steady_clock::now();
  // While the upload hangs, the loop answers /metrics and STATUS= says why.
  CHECK_EVENTUALLY(daemon.status_contains("uploading to offsite"), 20s);
  CHECK(daemon.has("etcd_warden_snapshot_upload_total"));
  REQUIRE_EVENTUALLY(
      daemon.metric_is(R"(etcd_warden_snapshot_upload_total{result="failure",target="offsite"} 1)"),
      30s);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(took < 20s);  // 4 s deadline, plus start-up and the snapshot itself
  CHECK(daemon.metric_is(
      R"(etcd_warden_snapshot_upload_total{result="success",target="offsite"} 0)"));
  CHECK_FALSE(daemon.has("etcd_warden_snapshot_upload_last_success_timestamp_seconds{"));
  CHECK_THAT(daemon.process->log(), Contains("upload to offsite failed"));
  // STATUS= leads with it, and the local snapshot is fine.
  CHECK_EVENTUALLY(daemon.status_contains("snapshot FAILED"), 5s);
  CHECK(daemon.status_contains("local snapshot ok, but upload to offsite failed"));
  CHECK(!daemon.metrics().empty());
  server.resume();
}

TEST_CASE("upload: five members and a learner: the learner's host lists and fetches the voters'",
          "[s3][upload][learner][integration]") {
  S3Server server({.buckets = {kBucket}});
  AwsCli aws(server);
  EtcdCluster cluster({.members = 5});
  cluster.put("/k", "v");
  REQUIRE(cluster.wait_for_leader() >= 0);
  const std::size_t learner = cluster.add_learner();
  REQUIRE(cluster.member(learner).learner);
  TempDir work("upload-learner");
  const auto creds = write_credentials(work.path(), S3Server::kAccessKeyId);
  const TargetOptions target{.endpoint = server.endpoint()};

  auto voter =
      warden(work, upload_yaml(cluster, 4, work / "snap-m5", creds, target), {"job", "snapshot"});
  INFO(voter.output);
  REQUIRE(voter.exit_code == 0);
  const auto voter_snaps = local_snapshots(work / "snap-m5");
  REQUIRE(voter_snaps.size() == 1);
  const std::string name = voter_snaps[0].filename().string();
  CHECK(keys(aws) == std::vector<std::string>{"etcd/" + name, "etcd/" + name + ".json"});

  // etcd 3.4 refuses Snapshot on a learner: nothing is taken there, so
  // nothing is uploaded. 3.5 serves it: the learner's snapshot goes up as its
  // own member's pair, and retention keeps the members apart.
  const std::string learner_yaml = upload_yaml(cluster, learner, work / "snap-l", creds, target);
  auto on_learner = warden(work, learner_yaml, {"job", "snapshot"});
  INFO(on_learner.output);
  const bool learner_uploaded = on_learner.exit_code == 0;
  if (learner_uploaded) {
    CHECK_THAT(on_learner.output, Contains("snapshot uploaded to offsite"));
  } else {
    CHECK(on_learner.output.find("uploaded to offsite") == std::string::npos);
  }
  const auto listed = keys(aws);
  CHECK(listed.size() == (learner_uploaded ? 4u : 2u));
  CHECK(pairs_complete(listed));
  CHECK(std::find(listed.begin(), listed.end(), "etcd/" + name + ".json") != listed.end());

  // The learner's host sees the voters' backups and can fetch one.
  auto list = warden(work, learner_yaml, {"snapshot", "list"});
  INFO(list.output);
  CHECK_THAT(list.output, Contains("upload target offsite (s3://backups/etcd/): " +
                                   std::string(learner_uploaded ? "2" : "1") + " snapshot(s)"));
  CHECK_THAT(list.output, Contains(name));
  fs::create_directories(work / "fetched");
  auto fetched = warden(work, learner_yaml,
                        {"snapshot", "fetch", "offsite", name, (work / "fetched").string()});
  INFO(fetched.output);
  REQUIRE(fetched.exit_code == 0);
  CHECK(read_file(work / "fetched" / name) == read_file(voter_snaps[0]));
}

TEST_CASE("upload: SIGTERM during a hung upload stops the daemon at once",
          "[s3][upload][integration]") {
  S3Server server({.buckets = {kBucket}});
  EtcdCluster cluster({.members = 1});
  cluster.put("/k", "v");
  TempDir work("upload-term");
  const auto creds = write_credentials(work.path(), S3Server::kAccessKeyId);
  server.pause();
  MetricsWarden daemon(upload_yaml(cluster, 0, work / "snapshots", creds,
                                   {.endpoint = server.endpoint()}, "  every: 1h\n  jitter: 0s\n"));
  REQUIRE_EVENTUALLY(daemon.status_contains("uploading to offsite"), 20s);
  // The upload would wait for its 30 min deadline; a stop must not.
  const auto asked = std::chrono::steady_clock::now();
  const auto status = daemon.process->stop(10s);
  INFO(daemon.process->log());
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  CHECK(std::chrono::steady_clock::now() - asked < 5s);
  server.resume();
}

TEST_CASE("upload: HTTPS with the target's own CA, without it one line naming the target",
          "[s3][upload][tls][integration]") {
  TempDir work("upload-tls");
  const TlsMaterial tls = make_tls(work / "tls");
  S3Server server({.buckets = {kBucket}, .tls_cert = tls.server_cert, .tls_key = tls.server_key});
  REQUIRE(server.endpoint().starts_with("https://127.0.0.1:"));
  EtcdCluster cluster({.members = 1});
  cluster.put("/k", "v");
  const auto creds = write_credentials(work.path(), S3Server::kAccessKeyId);

  auto trusted = warden(
      work,
      upload_yaml(cluster, 0, work / "snapshots", creds,
                  {.endpoint = server.endpoint(),
                   .extra = "        tls:\n          ca: \"" + tls.ca_cert.string() + "\"\n"}),
      {"job", "snapshot"});
  INFO(trusted.output);
  CHECK(trusted.exit_code == 0);
  CHECK_THAT(trusted.output, Contains("snapshot uploaded to offsite"));

  // The system's roots do not know the test CA; another CA does not either.
  for (const std::string& ca : {std::string(), tls.other_ca_cert.string()}) {
    const std::string extra = ca.empty() ? "" : "        tls:\n          ca: \"" + ca + "\"\n";
    next_second();  // a new snapshot name
    auto refused = warden(work,
                          upload_yaml(cluster, 0, work / "snapshots", creds,
                                      {.endpoint = server.endpoint(), .extra = extra}),
                          {"job", "snapshot"});
    INFO(refused.output);
    CHECK(refused.exit_code != 0);
    CHECK_THAT(refused.output, Contains("local snapshot ok, but upload to offsite failed"));
    CHECK_THAT(refused.output, Contains("certificate"));
  }
}
