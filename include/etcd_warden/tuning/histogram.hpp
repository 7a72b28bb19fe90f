// Latency quantiles from etcd's Prometheus histograms. etcd's counters grow
// from its start; what matters is the interval since the previous scrape, so
// the quantile is taken over bucket deltas, as Prometheus' histogram_quantile
// over rate() would. Pure: tests feed text, the tuning job feeds scrapes.
//
// Two answers are offered. quantile() is Prometheus' histogram_quantile:
// linear interpolation inside the bucket the rank falls in. With etcd's
// doubling buckets (etcd_disk_wal_fsync_duration_seconds: 1ms, 2ms, 4ms, ...,
// 0.512s, 1.024s, 2.048s, ..., 8.192s) it reads a constant 1.04s sync as
// ~2.04s, and the tuning rule then recommends twice the timeouts it needs.
// estimate_quantile() also uses the histogram's _sum: it places the quantile
// inside its bucket within bounds the counts and the sum prove, and reads a
// latency that sits in one bucket as that bucket's mean (histogram.cpp says
// why that is sound).
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
  double count = 0;             // `_count`
  // `_sum`; absent when not exported, or when it cannot be the interval's
  // (it went down while the counts did not). May be non-finite as exposed
  // (+Inf, NaN): estimate_quantile() treats that as unknown.
  std::optional<double> sum;
};

using LabelSet = std::map<std::string, std::string>;

// Every series of the histogram `name` (without "_bucket"), keyed by its
// labels other than `le`. Missing when etcd does not export it, and when its
// buckets are not a latency histogram's: no +Inf bucket, a bound below 0,
// twice or NaN, a count that is negative, not finite, or smaller than a
// lower bucket's.
std::map<LabelSet, Histogram> histograms(const net::ParsedMetrics& metrics, std::string_view name);

// What was observed between two scrapes. When any count went down (etcd
// restarted, or the series was recreated), `now` alone is the interval. A
// sum that went down while the counts did not is no interval's sum: unknown.
Histogram delta(const Histogram& before, const Histogram& now);

// The q-quantile (0 < q < 1) with Prometheus' histogram_quantile rules:
// linear interpolation inside the bucket, the highest finite bound when the
// rank falls into +Inf. nullopt when nothing was observed.
std::optional<double> quantile(const Histogram& h, double q);

// Exact figures of the same latency measured one sync at a time (the
// warden's fsync probe on the data-dir filesystem), seconds.
struct ExactFigures {
  double p50 = 0, p99 = 0;
};

struct QuantileEstimate {
  double value = 0;  // the estimate, seconds
  // The bucket the rank falls in: (bucket_low, bucket_high]; high is +Inf
  // for the last bucket.
  double bucket_low = 0, bucket_high = 0;
  // What the counts and the sum prove about the quantile (the observation of
  // nearest rank ceil(q × count)): proven_low <= it <= proven_high. Without a
  // usable sum, the bucket's bounds.
  double proven_low = 0, proven_high = 0;
  double share = 0;          // fraction of the observations in that bucket
  double concentration = 0;  // 0: spread (interpolation) .. 1: one bucket (its mean)
  bool used_sum = false;     // false: the sum was missing, non-finite or inconsistent
};

// The q-quantile from the buckets and the sum, never outside what they
// prove: Prometheus' interpolation where the observations are spread across
// buckets (the quantile's bucket holds <= 90% of them), the bucket's mean
// where they sit in one bucket (>= 99%), a blend between. `same_quantity`,
// when given, are exact figures of the same latency (the fsync probe, for
// the WAL fsync histogram): when the probe's median is in the quantile's
// bucket (or slower) and its p99 more than 10% above the bucket's mean, the
// disk spreads inside the bucket and the interpolation's side is used.
// Without a usable sum (missing, +Inf, NaN, negative, not fitting the
// buckets): quantile(), today's rule.
std::optional<QuantileEstimate> estimate_quantile(
    const Histogram& h, double q, const std::optional<ExactFigures>& same_quantity = std::nullopt);

// A quantile over several series between two scrapes (e.g. peer RTT, one
// series per peer): the worst series' estimate_quantile(). Series absent
// from `before` count from zero. nullopt when no series observed anything;
// `observations` gets the number of observations in the worst series.
struct SeriesQuantile {
  double value = 0;
  double observations = 0;
  LabelSet labels;
  QuantileEstimate estimate;
};
std::optional<SeriesQuantile> worst_quantile(
    const std::map<LabelSet, Histogram>& before, const std::map<LabelSet, Histogram>& now, double q,
    const std::optional<ExactFigures>& same_quantity = std::nullopt);

}  // namespace etcd_warden::tuning
