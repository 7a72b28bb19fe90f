// Snapshot verification on any file, plain or zstd (the same file as the
// daemon reads it: a mutated zstd frame takes the decompressing path). A
// verdict of OK must be one etcd would agree with: the trailer is the sha256
// of exactly the database before it, and the database is whole bbolt pages.
// A compressed file that verifies decompresses (decompress_to, the restore
// plan's first step) to a plain file that verifies with the same hash.
#include <cstdint>
#include <filesystem>

#include "etcd_warden/snapshot/verify.hpp"
#include "fuzz_check.hpp"
#include "scratch_file.hpp"
#include "snapshot/file_io.hpp"

using namespace etcd_warden;

namespace {

void check_verified(const snapshot::VerifiedSnapshot& v, std::span<const std::byte> file) {
  fuzz::require(v.file_bytes.value == file.size(), "file_bytes is not the file's size");
  fuzz::require(v.page_size >= 512 && (v.page_size & (v.page_size - 1)) == 0,
                "verified with a page size that is not a power of two >= 512");
  fuzz::require(v.pages >= 2 && v.pages * v.page_size == v.db_bytes.value,
                "verified a database that is not whole pages");
  fuzz::require(v.sha256.size() == 64, "a sha256 that is not 64 hex digits");
  if (v.compressed) return;
  fuzz::require(v.db_bytes.value + 32 == file.size(), "a plain file longer than db + trailer");
  const auto trailer = file.last(32);
  fuzz::require(
      v.sha256 == snapshot::detail::hex(
                      {reinterpret_cast<const unsigned char*>(trailer.data()), trailer.size()}),
      "the hash reported is not the file's trailer");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = fuzz::as_bytes(data, size);
  const auto file = fuzz::scratch().write("snapshot.db", bytes);
  const auto verified = snapshot::verify_file(file);
  if (!verified) {
    const std::string& e = verified.error();
    fuzz::require(e.starts_with(file.string() + ": "),
                  "an error that does not start with the path");
    fuzz::require(e.find('\n') == std::string::npos, "an error of more than one line");
    return 0;
  }
  check_verified(*verified, bytes);
  if (!verified->compressed) return 0;

  const auto plain = fuzz::scratch().path() / "snapshot.plain";
  std::filesystem::remove(plain);
  const auto decompressed = snapshot::decompress_to(file, plain);
  if (!decompressed) fuzz::finding("verified but does not decompress: " + decompressed.error());
  const auto again = snapshot::verify_file(plain);
  if (!again) fuzz::finding("verified but its decompressed copy does not: " + again.error());
  fuzz::require(!again->compressed && again->sha256 == verified->sha256 &&
                    again->db_bytes == verified->db_bytes,
                "the decompressed copy verifies differently");
  return 0;
}
