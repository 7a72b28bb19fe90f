// The Prometheus text reader and the histogram maths on any /metrics answer
// (etcd's, or whatever answers at metrics_url): no crash, and every quantile
// either unknown or inside what the buckets prove. A NaN or an infinity must
// never come out as a latency: the tuning rule would read it as "fine".
#include <cmath>
#include <cstdint>
#include <set>

#include "etcd_warden/net/prom_text.hpp"
#include "etcd_warden/tuning/histogram.hpp"
#include "fuzz_check.hpp"

using namespace etcd_warden;

namespace {

void check_estimate(const tuning::Histogram& h, double q) {
  const auto plain = tuning::quantile(h, q);
  if (plain) fuzz::require(!std::isnan(*plain), "quantile() returned NaN");
  const auto estimate = tuning::estimate_quantile(h, q);
  if (!estimate) return;
  const auto& e = *estimate;
  fuzz::require(!std::isnan(e.value), "estimate_quantile() returned NaN");
  fuzz::require(e.share >= 0 && e.share <= 1, "a bucket share outside [0, 1]");
  fuzz::require(e.concentration >= 0 && e.concentration <= 1, "a concentration outside [0, 1]");
  if (std::isfinite(e.proven_low) && std::isfinite(e.proven_high)) {
    fuzz::require(e.proven_low <= e.proven_high, "proven bounds the wrong way round");
    const double slack = 1e-9 * std::max(1.0, std::fabs(e.proven_high));
    fuzz::require(e.value >= e.proven_low - slack && e.value <= e.proven_high + slack,
                  "an estimate outside the bounds it claims to prove");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const auto parsed = net::parse_prometheus_text(text);
  std::set<std::string> histogram_names;
  for (const auto& s : parsed.samples) {
    fuzz::require(!s.name.empty(), "a sample without a name");
    if (s.name.ends_with("_bucket")) histogram_names.insert(s.name.substr(0, s.name.size() - 7));
  }
  for (const auto& name : histogram_names) {
    const auto series = tuning::histograms(parsed, name);
    for (const auto& [labels, h] : series) {
      for (std::size_t i = 1; i < h.buckets.size(); ++i)
        fuzz::require(!(h.buckets[i].upper_bound < h.buckets[i - 1].upper_bound),
                      "buckets out of order");
      for (double q : {0.5, 0.99}) {
        check_estimate(h, q);
        check_estimate(tuning::delta(h, h), q);
      }
    }
    const auto worst = tuning::worst_quantile({}, series, 0.99);
    if (worst) fuzz::require(!std::isnan(worst->value), "worst_quantile() returned NaN");
  }
  return 0;
}
