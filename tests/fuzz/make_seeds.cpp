// Writes the fuzz targets' binary seeds: small bbolt snapshots as etcd sends
// them (tests/support/fake_bbolt), plain and one zstd frame each, and a
// truncated and a junk one, so that the fuzzer starts inside the checks
// rather than at the first byte. Run: fuzz_make_seeds tests/fuzz/corpus
#include <zstd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "support/fake_bbolt.hpp"

namespace fs = std::filesystem;
using etcd_warden::testing::Blob;
using etcd_warden::testing::fake_bbolt_snapshot;
using etcd_warden::testing::FakeBbolt;

namespace {

void write(const fs::path& file, const Blob& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

Blob zstd(const Blob& plain) {
  Blob out(ZSTD_compressBound(plain.size()));
  const auto n = ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), 3);
  if (ZSTD_isError(n)) throw std::runtime_error(ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds CORPUS_DIR\n");
    return 2;
  }
  const fs::path corpus = argv[1];
  const fs::path plain_dir = corpus / "snapshot_verify_zstd";  // plain content
  const fs::path file_dir = corpus / "snapshot_verify";        // whole files
  fs::create_directories(plain_dir);
  fs::create_directories(file_dir);
  const struct {
    const char* name;
    FakeBbolt options;
  } shapes[] = {
      {"p512-4", {.page_size = 512, .pages = 4}},
      {"p512-6", {.page_size = 512, .pages = 6, .txid = 7, .seed = 2}},
      {"p1024-5", {.page_size = 1024, .pages = 5, .txid = 3, .seed = 3}},
      {"p4096-4", {.page_size = 4096, .pages = 4}},
  };
  for (const auto& shape : shapes) {
    const Blob snapshot = fake_bbolt_snapshot(shape.options);
    const std::string name = shape.name;
    write(plain_dir / (name + ".db"), snapshot);
    write(file_dir / (name + ".db"), snapshot);
    write(file_dir / (name + ".db.zst"), zstd(snapshot));
  }
  Blob truncated = fake_bbolt_snapshot({.page_size = 512, .pages = 4});
  truncated.resize(truncated.size() - 600);
  write(file_dir / "truncated.db", truncated);
  write(file_dir / "junk.db", Blob(544, std::byte{0x5a}));
  return 0;
}
