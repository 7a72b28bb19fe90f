// Durations ("1h30m", "500ms"), sizes ("512MiB", "2GB") and daily windows
// ("01:00-05:00") as people write
// them in the YAML config, in logs and on the `ctl` command line. Parsing is
// strict and exact; formatting gives the one canonical spelling of a value,
// and that spelling parses back to the same value.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/util/bytes.hpp"

namespace etcd_warden::config {

// The longest duration accepted (36500d, about 100 years). Anything longer
// would overflow when added to a wall-clock time point counted in nanoseconds.
inline constexpr Duration kMaxDuration = std::chrono::hours(24 * 36500);

// Groups of a decimal number and a unit, largest unit first, each unit at most
// once: "500ms", "30s", "1h30m", "1.5s", "7d". Units: ms, s, m, h, d.
// "0" is the only bare number accepted. nullopt for anything else: negative,
// junk, a value that is not a whole number of milliseconds, or more than
// kMaxDuration.
std::optional<Duration> parse_duration(std::string_view text);

// Canonical form: "1m30s", "500ms", "1d6h", "0s". Negative values get a '-'.
std::string format_duration(Duration d);

// A decimal number and a unit: binary KiB MiB GiB TiB PiB, SI KB MB GB TB PB
// (powers of 1000), or B. A plain integer is a count of bytes. The result must
// be a whole number of bytes that fits in 64 bits ("1.5GiB" is fine, "0.3KiB"
// is not).
std::optional<Bytes> parse_size(std::string_view text);

// Canonical exact form: the unit that gives the smallest whole number
// ("256MiB", "8GB", "1500B", "0B"). Unlike to_string(Bytes) it never rounds.
std::string format_size(Bytes b);

// "HH:MM-HH:MM" with two-digit hours 00-23 and minutes 00-59, start != end.
std::optional<TimeWindow> parse_time_window(std::string_view text);
// "01:00-05:00"
std::string format_time_window(const TimeWindow& w);

}  // namespace etcd_warden::config
