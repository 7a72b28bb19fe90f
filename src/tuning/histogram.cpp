#include "etcd_warden/tuning/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace etcd_warden::tuning {

namespace {

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
        bound = std::numeric_limits<double>::infinity();
      } else {
        char* end = nullptr;
        bound = std::strtod(le->second.c_str(), &end);
        if (end == le->second.c_str() || *end != '\0') continue;
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
    // Without its +Inf bucket a histogram is malformed: the total is unknown.
    if (buckets.empty() || !std::isinf(buckets.back().upper_bound)) {
      it = out.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

Histogram delta(const Histogram& before, const Histogram& now) {
  if (went_down(before, now)) return now;
  Histogram out = now;
  out.count -= before.count;
  out.sum -= before.sum;
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

std::optional<SeriesQuantile> worst_quantile(const std::map<LabelSet, Histogram>& before,
                                             const std::map<LabelSet, Histogram>& now, double q) {
  std::optional<SeriesQuantile> worst;
  for (const auto& [labels, current] : now) {
    const auto old = before.find(labels);
    const Histogram d = old == before.end() ? current : delta(old->second, current);
    const auto value = quantile(d, q);
    if (!value) continue;
    if (!worst || *value > worst->value) {
      worst = SeriesQuantile{*value, d.buckets.back().count, labels};
    }
  }
  return worst;
}

}  // namespace etcd_warden::tuning
