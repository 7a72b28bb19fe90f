// Debian's aws-cli 2 (/usr/bin/aws, whatever `aws` is first on PATH) against
// an S3Server, as the tests' independent S3 client: it checks what the
// daemon uploaded and sets up what the daemon should find. Each call runs
// with an environment of its own: s3rver's credentials, region us-east-1,
// a private config file (path-style addressing, one attempt, no retries
// that hide a failure), no shared credentials file and no other AWS_*
// variable from the test's environment.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/s3_server.hpp"
#include "support/temp_dir.hpp"

namespace etcd_warden::testing {

struct AwsCliOptions {
  std::filesystem::path binary = "/usr/bin/aws";
  // The credentials sent; another key id or secret shows what s3rver checks.
  std::string access_key_id = S3Server::kAccessKeyId;
  std::string secret_access_key = S3Server::kSecretAccessKey;
  // --cli-connect-timeout and --cli-read-timeout (whole seconds, >= 1).
  std::chrono::seconds connect_timeout = std::chrono::seconds(10);
  std::chrono::seconds read_timeout = std::chrono::seconds(30);
  int max_attempts = 1;  // the config's max_attempts (retry_mode standard)
  // Kills a command still running after this long.
  std::chrono::milliseconds command_timeout = std::chrono::seconds(120);
};

struct S3Listed {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // with its quotes, as S3 sends it
};

struct S3ListedUpload {
  std::string key;
  std::string upload_id;
};

class AwsCli {
 public:
  // The server must outlive this object.
  explicit AwsCli(const S3Server& server, AwsCliOptions options = {});
  // Any other S3 server (radosgw): its endpoint, and its keys in `options`.
  AwsCli(std::string endpoint, AwsCliOptions options);

  // `aws --endpoint-url E --no-cli-pager --output json ARGS...`; stdout in
  // output, stderr in error. Never throws for a failing command.
  CommandResult run(std::vector<std::string> args) const;
  // The same for a step that must succeed: its stdout, or std::runtime_error
  // with the command line, exit status, stdout and stderr.
  std::string run_checked(std::vector<std::string> args) const;
  // run_checked, parsed as JSON ({} for no output).
  nlohmann::json run_json(std::vector<std::string> args) const;

  // s3api head-object: {"ContentLength", "ETag", "Metadata": {...}, ...}.
  nlohmann::json head_object(const std::string& bucket, const std::string& key) const;
  // s3api list-objects-v2 (the CLI follows continuation tokens), by key.
  std::vector<S3Listed> list_objects(const std::string& bucket,
                                     const std::string& prefix = "") const;
  // s3 cp s3://BUCKET/KEY LOCAL.
  void cp_down(const std::string& bucket, const std::string& key,
               const std::filesystem::path& local) const;
  // s3api put-object with x-amz-meta-* user metadata; returns the ETag.
  std::string put_object(const std::string& bucket, const std::string& key,
                         const std::filesystem::path& local,
                         const std::map<std::string, std::string>& metadata = {}) const;
  // s3api list-multipart-uploads. s3rver 3.7.1 answers NotImplemented, so
  // this throws there; S3Server::pending_uploads reads its store instead.
  std::vector<S3ListedUpload> list_multipart_uploads(const std::string& bucket,
                                                     const std::string& prefix = "") const;
  // s3api create-multipart-upload; returns the upload id.
  std::string create_multipart_upload(
      const std::string& bucket, const std::string& key,
      const std::map<std::string, std::string>& metadata = {}) const;
  // s3api upload-part; returns the part's ETag.
  std::string upload_part(const std::string& bucket, const std::string& key,
                          const std::string& upload_id, int part_number,
                          const std::filesystem::path& local) const;
  void create_bucket(const std::string& bucket) const;
  void delete_object(const std::string& bucket, const std::string& key) const;

  const std::filesystem::path& config_path() const { return config_; }

  // What run() runs, for a caller that spawns the command itself (e.g. to
  // measure it): the full command line `aws --endpoint-url E ... ARGS...`,
  // and the environment (env added, unset_env dropped) and timeout it runs with.
  std::vector<std::string> argv(std::vector<std::string> args) const;
  CommandOptions command_options() const;

 private:
  std::string endpoint_;
  AwsCliOptions options_;
  TempDir dir_{"etcd-warden-awscli"};
  std::filesystem::path config_;
};

// Writes an S3 credentials file for the warden (mode 0600): an AWS
// shared-credentials file ([default]) or KEY=VALUE lines.
enum class CredentialsFormat { aws_ini, key_value };
std::filesystem::path write_credentials_file(const std::filesystem::path& path,
                                             const std::string& access_key_id,
                                             const std::string& secret_access_key,
                                             CredentialsFormat format = CredentialsFormat::aws_ini);

}  // namespace etcd_warden::testing
