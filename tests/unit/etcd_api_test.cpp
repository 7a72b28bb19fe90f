// Our proto subset against the wire: messages as etcd 3.6 sends them, with
// the fields 3.4 and 3.5 do not have, built byte by byte from the field
// numbers in etcd's api/etcdserverpb/rpc.proto (no 3.6 build runs here), and
// as 3.4 sends them (the fields absent). Then what the warden makes of them.
#include <catch2/catch.hpp>

#include <string>

#include "etcd/etcdserverpb/rpc.pb.h"
#include "etcd_warden/jobs/status_job.hpp"

using namespace etcd_warden;

namespace {

void varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}
// Wire type 0 (varint) and 2 (length-delimited) fields.
void field_varint(std::string& out, int number, std::uint64_t v) {
  varint(out, static_cast<std::uint64_t>(number) << 3);
  varint(out, v);
}
void field_bytes(std::string& out, int number, const std::string& v) {
  varint(out, (static_cast<std::uint64_t>(number) << 3) | 2);
  varint(out, v.size());
  out += v;
}

}  // namespace

TEST_CASE("etcd 3.6 Status: storageVersion (11) and dbSizeQuota (12) are read", "[etcd][api]") {
  std::string wire;
  field_bytes(wire, 2, "3.6.0");              // version
  field_varint(wire, 3, 4096);                // dbSize
  field_varint(wire, 4, 0x8e9e05c52164694d);  // leader
  field_varint(wire, 9, 2048);                // dbSizeInUse
  field_bytes(wire, 11, "3.6.0");             // storageVersion
  field_varint(wire, 12, 2147483648);         // dbSizeQuota: 2 GiB
  etcdserverpb::StatusResponse st;
  REQUIRE(st.ParseFromString(wire));
  CHECK(st.version() == "3.6.0");
  CHECK(st.dbsize() == 4096);
  CHECK(st.dbsizeinuse() == 2048);
  CHECK(st.leader() == 0x8e9e05c52164694dULL);
  CHECK(st.storageversion() == "3.6.0");
  CHECK(st.dbsizequota() == 2147483648);

  // The quota comes from Status, no /metrics scrape; the config still wins.
  config::Etcd cfg;
  auto q = jobs::known_quota(cfg, st);
  REQUIRE(q);
  CHECK(q->first == Bytes::gib(2));
  CHECK(q->second == status::QuotaSource::etcd_status);
  cfg.quota = Bytes::gib(8);
  q = jobs::known_quota(cfg, st);
  REQUIRE(q);
  CHECK(q->first == Bytes::gib(8));
  CHECK(q->second == status::QuotaSource::config);
}

TEST_CASE("etcd 3.4/3.5 Status: no quota field, so /metrics is needed", "[etcd][api]") {
  std::string wire;
  field_bytes(wire, 2, "3.4.23");
  field_varint(wire, 3, 4096);
  field_varint(wire, 10, 1);  // isLearner
  etcdserverpb::StatusResponse st;
  REQUIRE(st.ParseFromString(wire));
  CHECK(st.islearner());
  CHECK(st.dbsizequota() == 0);
  CHECK(st.storageversion().empty());
  CHECK_FALSE(jobs::known_quota(config::Etcd{}, st));
}

TEST_CASE("etcd 3.6 Snapshot and HashKV: version (4) and hash_revision (4)", "[etcd][api]") {
  std::string snap;
  field_varint(snap, 2, 7);  // remaining_bytes
  field_bytes(snap, 3, "blob");
  field_bytes(snap, 4, "3.6.1");
  etcdserverpb::SnapshotResponse s;
  REQUIRE(s.ParseFromString(snap));
  CHECK(s.remaining_bytes() == 7);
  CHECK(s.blob() == "blob");
  CHECK(s.version() == "3.6.1");

  std::string hash;
  field_varint(hash, 2, 0xdeadbeef);  // hash
  field_varint(hash, 3, 100);         // compact_revision
  field_varint(hash, 4, 250);         // hash_revision
  etcdserverpb::HashKVResponse h;
  REQUIRE(h.ParseFromString(hash));
  CHECK(h.hash() == 0xdeadbeefu);
  CHECK(h.compact_revision() == 100);
  CHECK(h.hash_revision() == 250);
}
