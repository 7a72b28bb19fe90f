#include "etcd_warden/tuning/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace etcd_warden::tuning {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

LabelSet without_le(const LabelSet& labels) {
  LabelSet out = labels;
  out.erase("le");
  return out;
}

bool went_down(const Histogram& before, const Histogram& now) {
  if (now.count < before.count || now.buckets.size() != before.buckets.size()) return true;
  for (std::size_t i = 0; i < now.buckets.size(); ++i) {
    if (now.buckets[i].upper_bound != before.buckets[i].upper_bound ||
        now.buckets[i].count < before.buckets[i].count) {
      return true;
    }
  }
  return false;
}

// The lower bound of bucket i. Latencies are never negative, so the first
// bucket starts at 0, as in Prometheus' histogram_quantile.
double lower_bound(const std::vector<Bucket>& b, std::size_t i) {
  return i == 0 ? 0.0 : b[i - 1].upper_bound;
}

// The mean of the interval's observations, from _sum / _count; nullopt when
// the sum cannot be trusted: missing, +Inf or NaN (a broken exporter is not a
// fast disk), negative (latencies are not), or belonging to other counts.
std::optional<double> interval_mean(const Histogram& h, double total) {
  if (!h.sum || !std::isfinite(*h.sum) || *h.sum < 0) return std::nullopt;
  const double count = h.count > 0 ? h.count : total;
  // etcd's _count and +Inf bucket are the same number; a scrape racing an
  // observation may see them one apart (client_golang updates them one after
  // the other). Further apart, the sum is not the buckets' sum.
  if (!std::isfinite(count) || std::abs(count - total) > std::max(1.0, 0.01 * total)) {
    return std::nullopt;
  }
  return *h.sum / count;
}

// Whether sorted buckets make a latency histogram: bounds at least 0 (the
// first bucket starts at 0) and each once, counts finite, at least 0 and
// never falling as the bound grows, and a +Inf bucket (without it the total
// is unknown). Anything else is a broken exposition, and its quantile
// unknown: Prometheus would patch the counts up, but a latency read from a
// patched histogram could look fine when nothing is known.
bool is_cumulative(const std::vector<Bucket>& buckets) {
  if (buckets.empty() || !std::isinf(buckets.back().upper_bound)) return false;
  if (buckets.front().upper_bound < 0) return false;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const double count = buckets[i].count;
    if (!std::isfinite(count) || count < 0) return false;
    if (i > 0 &&
        (buckets[i].upper_bound == buckets[i - 1].upper_bound || count < buckets[i - 1].count)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::map<LabelSet, Histogram> histograms(const net::ParsedMetrics& metrics, std::string_view name) {
  const std::string bucket_name = std::string(name) + "_bucket";
  const std::string count_name = std::string(name) + "_count";
  const std::string sum_name = std::string(name) + "_sum";
  std::map<LabelSet, Histogram> out;
  for (const auto& s : metrics.samples) {
    if (s.name == bucket_name) {
      const auto le = s.labels.find("le");
      if (le == s.labels.end()) continue;
      double bound = 0;
      if (le->second == "+Inf") {
        bound = kInf;
      } else {
        char* end = nullptr;
        bound = std::strtod(le->second.c_str(), &end);
        if (end == le->second.c_str() || *end != '\0' || std::isnan(bound)) continue;
      }
      out[without_le(s.labels)].buckets.push_back({bound, s.value});
    } else if (s.name == count_name) {
      out[s.labels].count = s.value;
    } else if (s.name == sum_name) {
      out[s.labels].sum = s.value;
    }
  }
  for (auto it = out.begin(); it != out.end();) {
    auto& buckets = it->second.buckets;
    std::sort(buckets.begin(), buckets.end(),
              [](const Bucket& a, const Bucket& b) { return a.upper_bound < b.upper_bound; });
    if (is_cumulative(buckets)) {
      ++it;
    } else {
      it = out.erase(it);
    }
  }
  return out;
}

Histogram delta(const Histogram& before, const Histogram& now) {
  if (went_down(before, now)) return now;
  Histogram out = now;
  out.count -= before.count;
  out.sum.reset();
  if (before.sum && now.sum) {
    const double d = *now.sum - *before.sum;
    // A sum that went down while no count did is not this interval's sum (a
    // reset of _sum alone, or a broken exporter): unknown, not "zero".
    // Non-finite values pass through; estimate_quantile() rejects them.
    if (!(d < 0)) out.sum = d;
  }
  for (std::size_t i = 0; i < out.buckets.size(); ++i)
    out.buckets[i].count -= before.buckets[i].count;
  return out;
}

std::optional<double> quantile(const Histogram& h, double q) {
  if (h.buckets.empty() || q <= 0 || q >= 1) return std::nullopt;
  const double total = h.buckets.back().count;
  if (!(total > 0)) return std::nullopt;
  const double rank = q * total;
  double previous_bound = 0;
  double previous_count = 0;
  for (std::size_t i = 0; i < h.buckets.size(); ++i) {
    const Bucket& b = h.buckets[i];
    if (b.count >= rank) {
      if (std::isinf(b.upper_bound)) {
        // Prometheus answers with the highest finite bound: all we know.
        return i == 0 ? std::nullopt : std::optional<double>(h.buckets[i - 1].upper_bound);
      }
      const double in_bucket = b.count - previous_count;
      const double start = i == 0 && b.upper_bound <= 0 ? b.upper_bound : previous_bound;
      if (!(in_bucket > 0)) return b.upper_bound;
      return start + (b.upper_bound - start) * ((rank - previous_count) / in_bucket);
    }
    previous_bound = b.upper_bound;
    previous_count = b.count;
  }
  return h.buckets.back().upper_bound;
}

// Placing the quantile inside its bucket with the sum (docs/tuning.md,
// "Reading the p99 from etcd's histogram", says the same for users).
//
// Let the rank fall in bucket k = (l, u] (etcd's WAL fsync buckets double
// from 1ms, so u = 2l above the first one), which holds n of the interval's
// N observations, and let the p99 be X, the observation of nearest rank
// ceil(0.99 N) (what the fsync probe reports for its own syncs).
// Prometheus' histogram_quantile assumes the n observations are spread
// evenly over (l, u] and interpolates; for identical syncs of 1.04s in
// (1.024, 2.048] that reads ~2.04s, twice the truth. The interval's sum S
// (the _sum delta; S/N is the interval's mean) is exact, and with the
// buckets it proves things about X, since every observation lies within its
// bucket's bounds:
//
//  - Bucket k's observations average at most m_hi = (S - every other bucket
//    at its lower bounds)/n, and at least m_lo = (S - every other bucket at
//    its upper bounds)/n.
//  - Upper bound (Markov): the a observations of bucket k at or above X are
//    each >= X, the other n - a are > l, so n·m_hi >= (n - a)·l + a·X, i.e.
//    X <= l + (m_hi - l)·n/a. Tight when k is a small slow tail (98 syncs at
//    1ms and 2 at 1.04s: X <= 1.089s, where the interpolation reads 1.54s).
//  - Lower bound: the n - a observations below X are <= X, the a others
//    <= u, so X >= (n·m_lo - a·u)/(n - a). Tight when k holds nearly all
//    (1000 syncs of 1.04s: X >= 1.029s), and it corrects the interpolation
//    where that reads low (1000 syncs of 2.04s interpolate to 2.028s).
//
// The estimate never leaves [proven_low, proven_high]. Inside it:
//
//  - Spread across buckets (k holds at most 90% of the interval): the
//    interpolation, clamped into the proven bounds. It keeps Prometheus'
//    upper reading of a spread-out tail and is only lowered where the sum
//    proves it too high, so it is never below the truth where the
//    interpolation was not. (90%, not "half": a lognormal disk whose p99 is
//    twice its median puts up to 75% of its syncs in one bucket, and the
//    bucket's mean would read such a p99 as half of itself.) In the +Inf
//    bucket, where Prometheus answers the last finite bound, below every
//    observation there: the most those observations can average.
//  - In one bucket (k holds >= 99%: nothing but the tail beyond the p99 is
//    outside it): bucket k's mean, m_hi (the interval's mean when k holds
//    all). The histogram shows no spread at its resolution, and a constant
//    latency reads as itself. What this can miss is a tail hidden inside
//    the bucket (97 syncs at 1.03s and 3 at 1.9s have the buckets and
//    nearly the sum of 100 at 1.056s). It still reads >= l > X/2 (the
//    buckets double), so the tuning rule's recommendation (election =
//    10 × 1.5 × estimate > 7.5 × X) keeps followers far from an election
//    (critical is X >= election / 2); the fsync probe, below, catches the
//    tail when it sees it, and the rule takes the probe's p99 as well.
//  - Between 90% and 99%, a linear blend on the share of the bucket: no
//    cliff at which a share hovering at a threshold would flip the
//    recommendation between runs.
//  - The probe timed each of its own syncs on the data-dir filesystem. When
//    its median is in bucket k (or slower) and its p99 more than 10% above
//    bucket k's mean, the disk does spread inside the bucket: the
//    interpolation's side is used whatever the share. The probe only ever
//    takes the bucket's-mean reading away, never grants it: its few syncs
//    (two, at 1s each, in its 2s budget), at another moment, are evidence of
//    a tail when they show one, not proof that there is none.
std::optional<QuantileEstimate> estimate_quantile(const Histogram& h, double q,
                                                  const std::optional<ExactFigures>& same) {
  constexpr double kSpreadShare = 0.9;  // at or below: the interpolation
  constexpr double kOneBucket = 0.99;   // at or above: the bucket's mean
  constexpr double kProbeSpread = 0.1;  // probe p99 this much above the mean: spread
  constexpr double kTolerance = 1e-6;   // relative: sums are floating-point

  const auto prometheus = quantile(h, q);
  if (!prometheus) return std::nullopt;
  const auto& b = h.buckets;
  const double total = b.back().count;
  const double rank = q * total;
  const double eps = 1e-9 * std::max(1.0, total);
  std::size_t k = 0;
  while (k + 1 < b.size() && b[k].count < rank - eps) ++k;
  const double below = k == 0 ? 0.0 : b[k - 1].count;
  const double n = b[k].count - below;
  const double l = lower_bound(b, k);
  const double u = b[k].upper_bound;

  QuantileEstimate e;
  e.value = *prometheus;
  e.bucket_low = l;
  e.bucket_high = u;
  e.proven_low = l;
  e.proven_high = u;
  e.share = n / total;

  const auto mean = interval_mean(h, total);
  if (!mean || !(n > 0) || !(b.front().upper_bound > 0)) return e;
  const double sum = *mean * total;

  // The sum must fit the buckets, or it belongs to another interval.
  double all_low = 0, all_high = 0, others_low = 0, others_high = 0;
  for (std::size_t j = 0; j < b.size(); ++j) {
    const double nj = b[j].count - (j == 0 ? 0.0 : b[j - 1].count);
    if (!(nj > 0)) continue;
    const double lo = nj * lower_bound(b, j);
    const double hi = std::isinf(b[j].upper_bound) ? kInf : nj * b[j].upper_bound;
    all_low += lo;
    all_high += hi;
    if (j != k) {
      others_low += lo;
      others_high += hi;
    }
  }
  if (sum < all_low * (1 - kTolerance) - 1e-12 || sum > all_high * (1 + kTolerance) + 1e-12) {
    return e;
  }

  const double m_hi = std::clamp((sum - others_low) / n, l, u);
  const double m_lo = std::isinf(others_high) ? l : std::clamp((sum - others_high) / n, l, m_hi);
  // Bucket k's observations at or above X (nearest rank), at least 1.
  const double x_rank =
      std::clamp(std::ceil(rank - eps), std::min(below + 1, b[k].count), b[k].count);
  const double a = std::clamp(b[k].count - x_rank + 1, std::min(1.0, n), n);
  const double proven_high = std::min(u, l + (m_hi - l) * n / a);
  const double proven_low =
      a >= n || std::isinf(u) ? l : std::clamp((n * m_lo - a * u) / (n - a), l, m_hi);

  // In the +Inf bucket Prometheus can only answer l, below every observation
  // there; the most those observations can average is not.
  const double interpolated =
      std::isinf(u) ? m_hi : l + (u - l) * std::clamp((rank - below) / n, 0.0, 1.0);
  const double spread = std::clamp(interpolated, proven_low, proven_high);
  const double one_bucket = std::clamp(m_hi, proven_low, proven_high);
  double w = std::clamp((e.share - kSpreadShare) / (kOneBucket - kSpreadShare), 0.0, 1.0);
  // The probe timed each of its syncs. When its typical sync is in this
  // bucket (or slower) and its p99 is well above the bucket's mean, the disk
  // does spread inside the bucket: the mean would hide that tail.
  if (same && std::isfinite(same->p50) && std::isfinite(same->p99) && same->p50 > l &&
      same->p99 > m_hi * (1 + kProbeSpread)) {
    w = 0;
  }
  e.value = spread + w * (one_bucket - spread);
  e.proven_low = proven_low;
  e.proven_high = proven_high;
  e.concentration = w;
  e.used_sum = true;
  return e;
}

std::optional<SeriesQuantile> worst_quantile(const std::map<LabelSet, Histogram>& before,
                                             const std::map<LabelSet, Histogram>& now, double q,
                                             const std::optional<ExactFigures>& same) {
  std::optional<SeriesQuantile> worst;
  for (const auto& [labels, current] : now) {
    const auto old = before.find(labels);
    const Histogram d = old == before.end() ? current : delta(old->second, current);
    const auto estimate = estimate_quantile(d, q, same);
    if (!estimate) continue;
    if (!worst || estimate->value > worst->value) {
      worst = SeriesQuantile{estimate->value, d.buckets.back().count, labels, *estimate};
    }
  }
  return worst;
}

}  // namespace etcd_warden::tuning
