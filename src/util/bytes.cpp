#include "etcd_warden/util/bytes.hpp"

#include <array>
#include <cmath>
#include <cstdio>

namespace etcd_warden {

std::string to_string(Bytes b) {
  static constexpr std::array<const char*, 6> kUnits{"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = b.as_double();
  std::size_t unit = 0;
  while (v >= 1024.0 && unit + 1 < kUnits.size()) {
    v /= 1024.0;
    ++unit;
  }
  char buf[32];
  if (unit == 0 || std::fmod(v, 1.0) < 0.05 || v >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f%s", v, kUnits[unit]);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f%s", v, kUnits[unit]);
  }
  return buf;
}

}  // namespace etcd_warden
