// snapshot.upload in the config: what is read, what is refused (with the
// position), that credentials stay out of it, and the credentials files.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "etcd_warden/config/credentials.hpp"
#include "etcd_warden/config/loader.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using namespace etcd_warden::config;
using Catch::Matchers::Contains;
using etcd_warden::testing::TempDir;
using etcd_warden::testing::write_file;
namespace fs = std::filesystem;

namespace {

const std::string kTarget =
    "snapshot:\n"
    "  upload:\n"
    "    - name: offsite\n"
    "      s3:\n"
    "        endpoint: https://minio.example.com:9000\n"
    "        bucket: etcd-backups\n"
    "        prefix: prod/etcd\n"
    "        credentials_file: /etc/etcd-warden/s3.credentials\n";

std::vector<std::string> errors_of(const std::string& yaml) {
  const auto r = load_string(yaml, "test.yaml");
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.to_string());
  return out;
}

std::string only_error(const std::string& yaml) {
  const auto errors = errors_of(yaml);
  for (const auto& e : errors) UNSCOPED_INFO(e);
  REQUIRE(errors.size() == 1);
  return errors.front();
}

}  // namespace

TEST_CASE("snapshot.upload: a target with its defaults", "[config][upload]") {
  const auto r = load_string(kTarget, "test.yaml");
  for (const auto& e : r.errors) UNSCOPED_INFO(e.to_string());
  REQUIRE(r.ok());
  REQUIRE(r.config->snapshot.upload.size() == 1);
  const UploadTarget& t = r.config->snapshot.upload[0];
  CHECK(t.name == "offsite");
  CHECK(t.s3.endpoint == "https://minio.example.com:9000");
  CHECK(t.s3.bucket == "etcd-backups");
  CHECK(t.s3.prefix == "prod/etcd/");  // a folder: the slash is added
  CHECK(t.s3.region == "us-east-1");
  CHECK(t.s3.path_style == PathStyle::automatic);
  CHECK(t.keep_last == 14);
  CHECK(t.part_size.value == 16u << 20);
  CHECK(t.parts_in_flight == 4);
  CHECK(t.timeout == 30min);

  // render() writes it back so that it loads to the same config.
  const auto again = load_string(render(*r.config), "rendered.yaml");
  for (const auto& e : again.errors) UNSCOPED_INFO(e.to_string());
  REQUIRE(again.ok());
  CHECK(again.config->snapshot.upload == r.config->snapshot.upload);
  CHECK_THAT(render(*r.config), Contains("credentials_file: \"/etc/etcd-warden/s3.credentials\""));
}

TEST_CASE("snapshot.upload: every key read, path_style in all three spellings",
          "[config][upload]") {
  const auto r = load_string(kTarget +
                                 "        region: eu-central-1\n"
                                 "        path_style: false\n"
                                 "        tls:\n          ca: /etc/ssl/minio-ca.pem\n"
                                 "      keep_last: 3\n      max_age: 30d\n      part_size: 64MiB\n"
                                 "      parts_in_flight: 2\n      timeout: 10m\n",
                             "test.yaml");
  for (const auto& e : r.errors) UNSCOPED_INFO(e.to_string());
  REQUIRE(r.ok());
  const UploadTarget& t = r.config->snapshot.upload[0];
  CHECK(t.s3.region == "eu-central-1");
  CHECK(t.s3.path_style == PathStyle::virtual_host);
  CHECK(t.s3.ca == "/etc/ssl/minio-ca.pem");
  CHECK(t.keep_last == 3);
  REQUIRE(t.max_age.has_value());
  CHECK(*t.max_age == std::chrono::hours(24 * 30));
  CHECK(t.part_size.value == 64u << 20);
  CHECK(t.parts_in_flight == 2);
  CHECK(t.timeout == 10min);
  CHECK(load_string(kTarget + "        path_style: true\n", "t.yaml")
            .config->snapshot.upload[0]
            .s3.path_style == PathStyle::path);
}

TEST_CASE("snapshot.upload: bad targets are refused at their position", "[config][upload]") {
  CHECK_THAT(only_error(kTarget + "      part_size: 1MiB\n"),
             Contains("test.yaml:9:18: snapshot.upload[0].part_size: must be between 5MiB"));
  CHECK_THAT(only_error(kTarget + "      parts_in_flight: 0\n"),
             Contains("snapshot.upload[0].parts_in_flight: must be between 1 and 16"));
  CHECK_THAT(only_error(kTarget + "      keep_last: 0\n"),
             Contains("snapshot.upload[0].keep_last: must be at least 1"));
  CHECK_THAT(only_error(kTarget + "        path_style: maybe\n"),
             Contains("path_style: expected auto, true or false"));
  CHECK_THAT(only_error(kTarget + "        secret_access_key: abc\n"),
             Contains("secret_access_key"));
  CHECK_THAT(only_error("snapshot:\n  upload:\n    - name: x\n      s3:\n        bucket: bkt\n"),
             Contains("credentials_file: is required"));
  CHECK_THAT(only_error("snapshot:\n  upload:\n    - name: x\n"), Contains("s3: is required"));
  CHECK_THAT(only_error("snapshot:\n  upload:\n    - s3:\n        bucket: bkt\n"
                        "        credentials_file: /c\n"),
             Contains("name: is required"));
  CHECK_THAT(only_error("snapshot:\n  upload: offsite\n"), Contains("expected a list of targets"));
  CHECK_THAT(only_error(kTarget + "    - name: offsite\n      s3:\n        bucket: other\n"
                                  "        credentials_file: /c\n"),
             Contains("is used twice"));
  // No keys in URLs, and the bucket must be a bucket name.
  std::string with_user = kTarget;
  with_user.replace(with_user.find("https://"), 8, "https://AKIA:secret@");
  const std::string user_error = only_error(with_user);
  CHECK_THAT(user_error, Contains("must not hold a user name or password"));
  CHECK(user_error.find("secret") == std::string::npos);
  std::string bad_bucket = kTarget;
  bad_bucket.replace(bad_bucket.find("etcd-backups"), 12, "Etcd_Backups");
  CHECK_THAT(only_error(bad_bucket), Contains("bucket: expected 3 to 63 lower-case"));
}

TEST_CASE("check-config reads the credentials file and names its problems", "[config][upload]") {
  TempDir dir("creds");
  const fs::path creds = dir / "s3.credentials";
  const fs::path config = dir / "config.yaml";
  std::string yaml = kTarget;
  yaml.replace(yaml.find("/etc/etcd-warden/s3.credentials"), 31, "s3.credentials");
  write_file(config, yaml);

  auto r = load_file(config, ReferencedFiles::checked);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.errors.at(0).to_string(), Contains("snapshot.upload[0].s3.credentials_file"));

  write_file(creds, "[default]\naws_access_key_id = AKIAEXAMPLE\n");
  r = load_file(config, ReferencedFiles::checked);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.errors.at(0).to_string(), Contains("aws_secret_access_key"));

  write_file(creds, "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cr3t\n");
  r = load_file(config, ReferencedFiles::checked);
  for (const auto& e : r.errors) UNSCOPED_INFO(e.to_string());
  CHECK(r.ok());
  // Relative to the config file's directory, like every other path.
  CHECK(r.config->snapshot.upload[0].s3.credentials_file == creds);
}

TEST_CASE("credentials: both file formats, errors without values", "[config][credentials]") {
  const auto ini = parse_credentials(
      "# comment\n[default]\naws_access_key_id = AKIA1\naws_secret_access_key=se=cret\n"
      "aws_session_token = tok\n",
      "f");
  REQUIRE(ini.ok());
  CHECK(ini->access_key_id == "AKIA1");
  CHECK(ini->secret_access_key == "se=cret");
  CHECK(ini->session_token == "tok");

  const auto env =
      parse_credentials("export AWS_ACCESS_KEY_ID=\"AKIA2\"\nAWS_SECRET_ACCESS_KEY='x y'\n", "f");
  REQUIRE(env.ok());
  CHECK(env->access_key_id == "AKIA2");
  CHECK(env->secret_access_key == "x y");
  CHECK(env->session_token.empty());

  // Only one profile may be meant: [default], or the file's only one.
  const auto other =
      parse_credentials("[backup]\naws_access_key_id=A\naws_secret_access_key=B\n", "f");
  REQUIRE(other.ok());
  CHECK(other->access_key_id == "A");
  const auto two = parse_credentials(
      "[a]\naws_access_key_id=A\naws_secret_access_key=B\n[b]\naws_access_key_id=C\n"
      "aws_secret_access_key=D\n",
      "f");
  CHECK_FALSE(two.ok());

  const auto bad =
      parse_credentials("AWS_ACCESS_KEY_ID=AKIA3\nthis line is the-secret-xyz\n", "/x/c");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error(), Contains("/x/c:2"));
  CHECK(bad.error().find("the-secret-xyz") == std::string::npos);
  CHECK_FALSE(parse_credentials("", "f").ok());
}

TEST_CASE("credentials: $CREDENTIALS_DIRECTORY names systemd's LoadCredential=",
          "[config][credentials]") {
  TempDir dir("credsdir");
  write_file(dir / "s3", "AWS_ACCESS_KEY_ID=K\nAWS_SECRET_ACCESS_KEY=S\n");
  fs::permissions(dir / "s3", fs::perms::owner_read);
  ::setenv("CREDENTIALS_DIRECTORY", dir.path().c_str(), 1);
  const auto path = credentials_path("$CREDENTIALS_DIRECTORY/s3");
  REQUIRE(path.ok());
  CHECK(*path == dir / "s3");
  std::string warning;
  const auto read = read_credentials("$CREDENTIALS_DIRECTORY/s3", &warning);
  REQUIRE(read.ok());
  CHECK(read->access_key_id == "K");
  CHECK(warning.empty());
  ::unsetenv("CREDENTIALS_DIRECTORY");
  const auto unset = credentials_path("$CREDENTIALS_DIRECTORY/s3");
  REQUIRE_FALSE(unset.ok());
  CHECK_THAT(unset.error(), Contains("CREDENTIALS_DIRECTORY"));

  // Readable by others: read, with a warning that names the file.
  write_file(dir / "open", "AWS_ACCESS_KEY_ID=K\nAWS_SECRET_ACCESS_KEY=S\n");
  fs::permissions(dir / "open", fs::perms::owner_read | fs::perms::others_read);
  const auto open = read_credentials(dir / "open", &warning);
  REQUIRE(open.ok());
  CHECK_THAT(warning, Contains((dir / "open").string()));
  CHECK_THAT(warning, Contains("chmod 0600"));
}
