// Shipping a verified local snapshot to an upload target (snapshot.upload),
// and keeping that target's retention. Blocking: runs on a thread of its own
// or the blocking pool, never on the loop.
//
// The order is what makes a listing trustworthy (remote_catalog.hpp):
//  1. multipart uploads a crash left (older than the target's timeout) are
//     aborted, so they stop costing storage;
//  2. the file is sent, one PUT up to part_size, else a multipart upload whose
//     parts are read one after another and sent by parts_in_flight threads
//     (memory: part_size x parts_in_flight, whatever the database's size);
//     each request carries the body's sha256 (signed) and MD5, which the
//     server checks; a failed multipart upload is aborted;
//  3. HEAD: the object's size, ETag and our sha256 (x-amz-meta-etcd-sha256)
//     must be what we sent;
//  4. only then the sidecar "<key>.json" (the local one's JSON);
//  5. retention over this member's objects, only after all of that worked,
//     never deleting the newest verified object.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/config/credentials.hpp"
#include "etcd_warden/objstore/s3_client.hpp"
#include "etcd_warden/sched/clock.hpp"
#include "etcd_warden/snapshot/sidecar.hpp"
#include "etcd_warden/util/bytes.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::remote {

// A target ready to use: endpoint resolved, credentials read.
struct Target {
  config::UploadTarget config;
  objstore::S3Endpoint endpoint;
  config::Credentials credentials;
  std::string credentials_warning;  // the file is readable by others (not an error)

  objstore::S3Client client(const std::atomic<bool>* stop) const;
};
// Errors name the target: "target 'offsite': credentials_file /x: ...".
util::Result<Target> open_target(const config::UploadTarget& target);

struct UploadReport {
  std::string key;
  Bytes bytes;
  std::chrono::duration<double> took{0};
  unsigned parts = 0;                 // 0: one PUT
  std::vector<std::string> notes;     // stale uploads aborted, objects retention deleted
  std::vector<std::string> warnings;  // clean-up or retention that failed (the upload is good)
};

// `file` is a verified local snapshot and `info` its sidecar. The error is
// one line naming the target and the request that failed.
util::Result<UploadReport> upload_snapshot(const Target& target, const std::filesystem::path& file,
                                           const snapshot::SnapshotInfo& info, sched::WallTime now,
                                           const std::atomic<bool>* stop);

// The part size actually used: part_size, raised for files that would need
// more than S3's 10000 parts.
Bytes effective_part_size(Bytes part_size, Bytes file_bytes);

}  // namespace etcd_warden::remote
