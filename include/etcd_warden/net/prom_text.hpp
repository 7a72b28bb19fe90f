// A reader for the Prometheus text exposition format, enough for etcd's
// /metrics: samples with labels, and histograms reassembled from their
// _bucket/_sum/_count series.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcd_warden::net {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Comment lines are skipped; a malformed line is skipped too (and counted),
// since one odd line must not blind the warden to the rest.
struct ParsedMetrics {
  std::vector<Sample> samples;
  std::size_t malformed_lines = 0;

  // The first sample of that name whose labels include `match`.
  std::optional<double> value(std::string_view name,
                              const std::map<std::string, std::string>& match = {}) const;
};

ParsedMetrics parse_prometheus_text(std::string_view text);

}  // namespace etcd_warden::net
