// Ceph's S3 gateway for integration tests: a throwaway single-node cluster
// (one monitor, one memstore OSD, radosgw) on 127.0.0.1, started and stopped
// by tests/scripts/radosgw.sh in a TempDir. Unlike s3rver it checks what AWS
// checks: SigV4 signatures with the secret, the signed payload sha256 and
// Content-MD5; and it implements ListMultipartUploads and
// AbortMultipartUpload. Debian 12's ceph-mon, ceph-osd and radosgw packages
// (scripts/install-deps); ~3 s to start, ~130 MB of RAM.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "support/temp_dir.hpp"

namespace etcd_warden::testing {

class RadosGw {
 public:
  // "" when the Ceph binaries are installed; else what is missing.
  static std::string missing();

  // Starts the cluster and creates `bucket`. Throws std::runtime_error with
  // the script's output on failure.
  explicit RadosGw(const std::string& bucket);
  ~RadosGw();  // stops the daemons and removes their directory
  RadosGw(const RadosGw&) = delete;
  RadosGw& operator=(const RadosGw&) = delete;

  const std::string& endpoint() const { return endpoint_; }  // http://127.0.0.1:PORT
  std::uint16_t port() const;
  const std::string& access_key() const { return access_key_; }
  const std::string& secret_key() const { return secret_key_; }

 private:
  TempDir dir_{"etcd-warden-rgw"};
  std::filesystem::path state_;  // the script's DIR, inside dir_
  std::string endpoint_, access_key_, secret_key_;
};

}  // namespace etcd_warden::testing
