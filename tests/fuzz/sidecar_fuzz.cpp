// The sidecar reader on any text: a sidecar is trusted for "verified" and by
// retention, so it must either be refused with one line naming the key, or
// read into fields that write back (to_json, as `snapshot verify` refreshes
// a sidecar) and read again to the same fields. The time is the exception:
// the reader accepts fractional seconds and the writer prints whole ones.
#include <chrono>
#include <cstdint>

#include "etcd_warden/snapshot/sidecar.hpp"
#include "fuzz_check.hpp"

using namespace etcd_warden;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parsed = snapshot::parse_sidecar(fuzz::as_text(data, size));
  if (!parsed) {
    fuzz::require(!parsed.error().empty(), "refused without an error");
    fuzz::require(parsed.error().find('\n') == std::string::npos, "an error of more than one line");
    return 0;
  }
  const auto& info = *parsed;
  fuzz::require(info.sha256.size() == 64, "a sha256 that is not 64 digits");
  fuzz::require(info.db_bytes.value > 0 && info.file_bytes.value > 0, "a size of 0 accepted");

  const std::string written = snapshot::to_json(info);
  const auto again = snapshot::parse_sidecar(written);
  if (!again) fuzz::finding("to_json() wrote a sidecar that does not read back: " + again.error());
  auto expected = info;
  expected.taken_at = std::chrono::floor<std::chrono::seconds>(info.taken_at);
  expected.verified_at = std::chrono::floor<std::chrono::seconds>(info.verified_at);
  fuzz::require(*again == expected, "to_json() wrote a sidecar that reads back differently");
  return 0;
}
