// The records wardens keep in etcd under coordination.prefix, read from any
// text: any etcd client allowed to write there (or a damaged value) decides
// what the wardens read, and the consistency record's summary goes into
// every warden's STATUS=. Each parser either refuses the text or returns a
// record that encodes and reads back to the same record.
#include <cstdint>

#include "etcd_warden/jobs/consistency_rule.hpp"
#include "etcd_warden/jobs/defrag_records.hpp"
#include "fuzz_check.hpp"

using namespace etcd_warden;

namespace {

void consistency(std::string_view text) {
  const auto r = jobs::parse_consistency(text);
  if (!r) return;
  const auto back = jobs::parse_consistency(jobs::encode(*r));
  if (!back) fuzz::finding("a consistency record does not read back");
  fuzz::require(back->checked_unix == r->checked_unix && back->revision == r->revision &&
                    back->mismatch == r->mismatch && back->odd == r->odd &&
                    back->summary == r->summary && (r->by.empty() || back->by == r->by),
                "a consistency record reads back differently");
  const auto alert = jobs::consistency_alert(r);
  fuzz::require(alert.empty() == !r->mismatch, "a mismatch without an alert, or the reverse");
}

void disk_report(std::string_view text) {
  const auto r = jobs::parse_disk_report(text);
  if (!r) return;
  const auto back = jobs::parse_disk_report(jobs::encode(*r));
  if (!back) fuzz::finding("a disk report does not read back");
  fuzz::require(back->free == r->free && back->at_unix == r->at_unix &&
                    back->client_url == r->client_url && back->data_dir == r->data_dir,
                "a disk report reads back differently");
}

void round(std::string_view text) {
  const auto r = jobs::parse_round(text);
  if (!r) return;
  const auto back = jobs::parse_round(jobs::encode(*r));
  if (!back) fuzz::finding("a defrag round does not read back");
  fuzz::require(back->started_unix == r->started_unix && back->done == r->done,
                "a defrag round reads back differently");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  consistency(text);
  disk_report(text);
  round(text);
  (void)jobs::parse_marker(text);
  return 0;
}
