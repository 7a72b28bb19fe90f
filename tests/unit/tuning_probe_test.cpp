// The fsync probe: bounded by syncs and by time, leaves nothing behind,
// reports a clear error naming the directory.
#include <catch2/catch.hpp>

#include <filesystem>

#include "etcd_warden/tuning/fsync_probe.hpp"
#include "support/temp_dir.hpp"

using namespace etcd_warden::tuning;
using etcd_warden::testing::TempDir;
using namespace std::chrono_literals;

TEST_CASE("the probe stops at max_syncs, counts its bytes and removes its file",
          "[tuning][probe]") {
  TempDir dir("etcd-warden-probe");
  ProbeOptions o;
  o.dir = dir.path();
  o.max_syncs = 50;
  o.max_time = 30s;
  const auto r = probe_fsync(o);
  INFO(r.error);
  REQUIRE(r.ok());
  CHECK(r.syncs == 50);
  CHECK(r.bytes_written == 50 * 2300);
  CHECK(r.p50 > 0);
  CHECK(r.p50 <= r.p99);
  CHECK(r.p99 <= r.max);
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("the probe stops at max_time", "[tuning][probe]") {
  TempDir dir("etcd-warden-probe");
  ProbeOptions o;
  o.dir = dir.path();
  o.max_syncs = 100000000;  // never reached
  o.max_time = 300ms;
  const auto r = probe_fsync(o);
  REQUIRE(r.ok());
  CHECK(r.seconds < 2.0);  // the bound plus one slow sync at worst
  CHECK(r.syncs < 100000000);
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("the probe in a directory it cannot use says which and why", "[tuning][probe]") {
  ProbeOptions o;
  o.dir = "/nonexistent/etcd-data";
  const auto r = probe_fsync(o);
  CHECK_FALSE(r.ok());
  CHECK(r.error.find("/nonexistent/etcd-data") != std::string::npos);
  CHECK(r.error.find("No such file or directory") != std::string::npos);
}
