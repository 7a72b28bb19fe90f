// The keys of an S3 upload target, read from its credentials_file: never from
// the main YAML, never logged. Two formats, told apart by their first
// meaningful line:
//
//   [default]                         AWS_ACCESS_KEY_ID=AKIA...
//   aws_access_key_id = AKIA...       AWS_SECRET_ACCESS_KEY=...
//   aws_secret_access_key = ...       AWS_SESSION_TOKEN=...   (optional)
//   aws_session_token = ...
//
// (an AWS shared-credentials file, profile [default] or its only profile; or
// KEY=VALUE lines as in an EnvironmentFile=). "$CREDENTIALS_DIRECTORY/NAME"
// names a credential that systemd's LoadCredential= put in that directory.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "etcd_warden/util/result.hpp"

namespace etcd_warden::config {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" unless temporary credentials
};

// Parses the text of a credentials file; `source` names it in errors, which
// give a line number and a key but never a value.
util::Result<Credentials> parse_credentials(std::string_view text, const std::string& source);

// The file a credentials_file setting names: "$CREDENTIALS_DIRECTORY/NAME"
// resolved against the environment (an error when it is unset), other paths
// as they are.
util::Result<std::filesystem::path> credentials_path(const std::filesystem::path& setting);

// Reads and parses the file. `warning` is set when the file is readable by
// group or others (it should be 0600 or 0400) — a warning, not an error,
// because a credential from LoadCredential= or a root-only directory may be
// safe anyway.
util::Result<Credentials> read_credentials(const std::filesystem::path& setting,
                                           std::string* warning = nullptr);

}  // namespace etcd_warden::config
