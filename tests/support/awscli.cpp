#include "support/awscli.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace etcd_warden::testing {

namespace {

std::string metadata_json(const std::map<std::string, std::string>& metadata) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : metadata) j[k] = v;
  return j.dump();
}

}  // namespace

AwsCli::AwsCli(const S3Server& server, AwsCliOptions options)
    : AwsCli(server.endpoint(), std::move(options)) {}

AwsCli::AwsCli(std::string endpoint, AwsCliOptions options)
    : endpoint_(std::move(endpoint)), options_(std::move(options)) {
  config_ = dir_ / "config";
  // aws-cli 2.9 has no environment variable for the addressing style: the
  // config's s3 section sets it (path style, as s3rver on an IP needs).
  write_file(config_, std::string("[default]\n") + "region = " + S3Server::kRegion +
                          "\n"
                          "output = json\n"
                          "retry_mode = standard\n"
                          "max_attempts = " +
                          std::to_string(options_.max_attempts) +
                          "\n"
                          "s3 =\n"
                          "  addressing_style = path\n");
}

std::vector<std::string> AwsCli::argv(std::vector<std::string> args) const {
  std::vector<std::string> out = {options_.binary.string(),
                                  "--endpoint-url",
                                  endpoint_,
                                  "--no-cli-pager",
                                  "--output",
                                  "json",
                                  "--cli-connect-timeout",
                                  std::to_string(options_.connect_timeout.count()),
                                  "--cli-read-timeout",
                                  std::to_string(options_.read_timeout.count())};
  out.insert(out.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
  return out;
}

CommandOptions AwsCli::command_options() const {
  CommandOptions o;
  o.unset_env = {"AWS_*"};
  o.env = {
      {"AWS_ACCESS_KEY_ID", options_.access_key_id},
      {"AWS_SECRET_ACCESS_KEY", options_.secret_access_key},
      {"AWS_DEFAULT_REGION", S3Server::kRegion},
      {"AWS_CONFIG_FILE", config_.string()},
      {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
      {"AWS_EC2_METADATA_DISABLED", "true"},
      {"AWS_PAGER", ""},
  };
  o.timeout = options_.command_timeout;
  o.separate_stderr = true;
  return o;
}

CommandResult AwsCli::run(std::vector<std::string> args) const {
  return run_command(argv(std::move(args)), command_options());
}

std::string AwsCli::run_checked(std::vector<std::string> args) const {
  return testing::run_checked(argv(std::move(args)), "aws", command_options());
}

nlohmann::json AwsCli::run_json(std::vector<std::string> args) const {
  const std::string out = run_checked(std::move(args));
  if (out.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(out);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("aws: output is not JSON (") + e.what() + "):\n" + out);
  }
}

nlohmann::json AwsCli::head_object(const std::string& bucket, const std::string& key) const {
  return run_json({"s3api", "head-object", "--bucket", bucket, "--key", key});
}

std::vector<S3Listed> AwsCli::list_objects(const std::string& bucket,
                                           const std::string& prefix) const {
  std::vector<std::string> args = {"s3api", "list-objects-v2", "--bucket", bucket};
  if (!prefix.empty()) args.insert(args.end(), {"--prefix", prefix});
  const auto j = run_json(std::move(args));
  std::vector<S3Listed> out;
  if (j.contains("Contents")) {
    for (const auto& o : j.at("Contents")) {
      out.push_back({o.at("Key").get<std::string>(), o.at("Size").get<std::uint64_t>(),
                     o.value("ETag", std::string())});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

void AwsCli::cp_down(const std::string& bucket, const std::string& key,
                     const std::filesystem::path& local) const {
  run_checked({"s3", "cp", "--only-show-errors", "s3://" + bucket + "/" + key, local.string()});
}

std::string AwsCli::put_object(const std::string& bucket, const std::string& key,
                               const std::filesystem::path& local,
                               const std::map<std::string, std::string>& metadata) const {
  std::vector<std::string> args = {"s3api", "put-object", "--bucket", bucket,
                                   "--key", key,          "--body",   local.string()};
  // JSON, not the shorthand k=v,...: values may hold commas and '='.
  if (!metadata.empty()) args.insert(args.end(), {"--metadata", metadata_json(metadata)});
  return run_json(std::move(args)).value("ETag", std::string());
}

std::vector<S3ListedUpload> AwsCli::list_multipart_uploads(const std::string& bucket,
                                                           const std::string& prefix) const {
  std::vector<std::string> args = {"s3api", "list-multipart-uploads", "--bucket", bucket};
  if (!prefix.empty()) args.insert(args.end(), {"--prefix", prefix});
  const auto j = run_json(std::move(args));
  std::vector<S3ListedUpload> out;
  if (j.contains("Uploads")) {
    for (const auto& u : j.at("Uploads")) {
      out.push_back({u.at("Key").get<std::string>(), u.at("UploadId").get<std::string>()});
    }
  }
  return out;
}

std::string AwsCli::create_multipart_upload(
    const std::string& bucket, const std::string& key,
    const std::map<std::string, std::string>& metadata) const {
  std::vector<std::string> args = {"s3api", "create-multipart-upload", "--bucket", bucket, "--key",
                                   key};
  if (!metadata.empty()) args.insert(args.end(), {"--metadata", metadata_json(metadata)});
  const auto j = run_json(std::move(args));
  if (!j.contains("UploadId")) {
    throw std::runtime_error("aws: create-multipart-upload gave no UploadId: " + j.dump());
  }
  return j.at("UploadId").get<std::string>();
}

std::string AwsCli::upload_part(const std::string& bucket, const std::string& key,
                                const std::string& upload_id, int part_number,
                                const std::filesystem::path& local) const {
  return run_json({"s3api", "upload-part", "--bucket", bucket, "--key", key, "--upload-id",
                   upload_id, "--part-number", std::to_string(part_number), "--body",
                   local.string()})
      .value("ETag", std::string());
}

void AwsCli::create_bucket(const std::string& bucket) const {
  run_checked({"s3api", "create-bucket", "--bucket", bucket});
}

void AwsCli::delete_object(const std::string& bucket, const std::string& key) const {
  run_checked({"s3api", "delete-object", "--bucket", bucket, "--key", key});
}

std::filesystem::path write_credentials_file(const std::filesystem::path& path,
                                             const std::string& access_key_id,
                                             const std::string& secret_access_key,
                                             CredentialsFormat format) {
  write_file(path, format == CredentialsFormat::aws_ini
                       ? "[default]\naws_access_key_id = " + access_key_id +
                             "\naws_secret_access_key = " + secret_access_key + "\n"
                       : "AWS_ACCESS_KEY_ID=" + access_key_id +
                             "\nAWS_SECRET_ACCESS_KEY=" + secret_access_key + "\n");
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path;
}

}  // namespace etcd_warden::testing
