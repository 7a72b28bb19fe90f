// The snapshot writer and verifier against etcd's own tools: a file that
// `etcdctl snapshot save` wrote verifies, and the same stream through our
// writer (plain and zstd) is read by `snapshot status` and restored by
// `snapshot restore`, which checks the trailer itself.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <string>

#include "etcd_warden/snapshot/snapshot_writer.hpp"
#include "etcd_warden/snapshot/verify.hpp"
#include "support/etcd_cluster.hpp"
#include "support/etcd_tools.hpp"
#include "support/process.hpp"
#include "support/result_printing.hpp"
#include "support/temp_dir.hpp"

using namespace etcd_warden;
using namespace etcd_warden::testing;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// `stream` through a SnapshotWriter in etcd's 32 KiB messages.
snapshot::WriteResult write_through(const fs::path& dir, const std::string& name,
                                    config::Compression compression, const std::string& stream,
                                    Bytes announced) {
  snapshot::SnapshotWriter w(dir, name, compression, 3);
  REQUIRE(w.open());
  const auto bytes = std::as_bytes(std::span(stream));
  for (std::size_t off = 0; off < bytes.size(); off += 32 * 1024) {
    REQUIRE(w.write(bytes.subspan(off, std::min<std::size_t>(32 * 1024, bytes.size() - off))));
  }
  return w.finish(announced);
}

}  // namespace

TEST_CASE("snapshot files carry etcd's trailer and pass etcdctl", "[snapshot]") {
  EtcdCluster cluster;
  for (int i = 0; i < 20; ++i) {
    cluster.put("key" + std::to_string(i), std::string(4000, static_cast<char>('a' + i % 26)));
  }
  const fs::path dir = cluster.dir() / "files";
  fs::create_directories(dir);

  // etcdctl keeps the stream as it came: database + sha256 trailer.
  const fs::path saved = dir / "saved.db";
  const auto save = cluster.etcdctl({"snapshot", "save", saved.string()});
  INFO(save.output);
  REQUIRE(save.exit_code == 0);
  const auto size = fs::file_size(saved);
  CHECK(size % 512 == 32);
  const auto v = snapshot::verify_file(saved);
  REQUIRE(v);
  CHECK(v->db_bytes.value == size - 32);

  const std::string stream = read_file(saved);
  const auto plain = write_through(dir / "ours", "etcd-m1-r000000000021-20261123T120102Z.db",
                                   config::Compression::none, stream, v->db_bytes);
  const auto zst = write_through(dir / "ours", "etcd-m1-r000000000021-20261123T120102Z.db.zst",
                                 config::Compression::zstd, stream, v->db_bytes);
  REQUIRE(plain);
  REQUIRE(zst);
  CHECK(plain->sha256 == v->sha256);
  CHECK(zst->file_bytes < plain->file_bytes);
  const fs::path unpacked = dir / "unpacked.db";
  REQUIRE(snapshot::decompress_to(zst->path, unpacked));

  for (const fs::path& f : {plain->path, unpacked}) {
    const auto status = run_command(
        {etcd_snapshot_tool().string(), "snapshot", "status", f.string(), "--write-out=json"},
        {.env = etcd_tools_env()});
    INFO(status.output);
    CHECK(status.exit_code == 0);
    CHECK_THAT(status.output, Contains("\"revision\":21"));
  }
  const auto& m = cluster.member(0);
  const auto restore =
      run_command({etcd_snapshot_tool().string(), "snapshot", "restore", unpacked.string(),
                   "--data-dir=" + (dir / "restored").string(), "--name=" + m.name,
                   "--initial-cluster=" + m.name + "=" + m.peer_url,
                   "--initial-advertise-peer-urls=" + m.peer_url},
                  {.env = etcd_tools_env()});
  INFO(restore.output);
  CHECK(restore.exit_code == 0);
}
