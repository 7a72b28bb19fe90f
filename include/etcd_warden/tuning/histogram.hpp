// Latency quantiles from etcd's Prometheus histograms. etcd's counters grow
// from its start; what matters is the interval since the previous scrape, so
// the quantile is taken over bucket deltas, as Prometheus' histogram_quantile
// over rate() would. Pure: tests feed text, the tuning job feeds scrapes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_warden/net/prom_text.hpp"

namespace etcd_warden::tuning {

struct Bucket {
  double upper_bound = 0;  // `le`; +Inf for the last bucket
  double count = 0;        // cumulative, as exposed
};

struct Histogram {
  std::vector<Bucket> buckets;  // sorted by upper_bound, cumulative counts
  double count = 0;
  double sum = 0;
};

using LabelSet = std::map<std::string, std::string>;

// Every series of the histogram `name` (without "_bucket"), keyed by its
// labels other than `le`. Missing when etcd does not export it.
std::map<LabelSet, Histogram> histograms(const net::ParsedMetrics& metrics, std::string_view name);

// What was observed between two scrapes. When any count went down (etcd
// restarted, or the series was recreated), `now` alone is the interval.
Histogram delta(const Histogram& before, const Histogram& now);

// The q-quantile (0 < q < 1) with Prometheus' histogram_quantile rules:
// linear interpolation inside the bucket, the highest finite bound when the
// rank falls into +Inf. nullopt when nothing was observed.
std::optional<double> quantile(const Histogram& h, double q);

// A quantile over several series between two scrapes (e.g. peer RTT, one
// series per peer): the worst series' quantile. Series absent from `before`
// count from zero. nullopt when no series observed anything; `observations`
// gets the number of observations in the worst series.
struct SeriesQuantile {
  double value = 0;
  double observations = 0;
  LabelSet labels;
};
std::optional<SeriesQuantile> worst_quantile(const std::map<LabelSet, Histogram>& before,
                                             const std::map<LabelSet, Histogram>& now, double q);

}  // namespace etcd_warden::tuning
