#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "etcd_warden/config/units.hpp"

using namespace std::chrono_literals;
using etcd_warden::Bytes;
using etcd_warden::config::Duration;
using etcd_warden::config::format_duration;
using etcd_warden::config::format_size;
using etcd_warden::config::kMaxDuration;
using etcd_warden::config::parse_duration;
using etcd_warden::config::parse_size;

namespace {

struct DurationCase {
  std::string text;
  std::optional<Duration> expected;
};

struct SizeCase {
  std::string text;
  std::optional<std::uint64_t> expected;
};

}  // namespace

TEST_CASE("parse_duration accepts every unit and combinations", "[config][units]") {
  const auto c = GENERATE(values<DurationCase>({
      {"0", 0ms},
      {"0s", 0ms},
      {"0ms", 0ms},
      {"500ms", 500ms},
      {"30s", 30s},
      {"10m", 10min},
      {"6h", 6h},
      {"7d", 7 * 24h},
      {"1h30m", 90min},
      {"1d2h3m4s5ms", 24h + 2h + 3min + 4s + 5ms},
      {"1.5s", 1500ms},
      {"0.5ms", std::nullopt},  // not a whole millisecond
      {"1.0005s", std::nullopt},
      {"1.25m", 75s},
      {"1.5h30m", 2h},
      {"1.50000000000000000000000s", 1500ms},  // trailing zeros do not count
      {"0001s", 1s},
      {"36500d", kMaxDuration},
  }));
  CAPTURE(c.text);
  CHECK(parse_duration(c.text) == c.expected);
}

TEST_CASE("parse_duration rejects junk, negatives, bare numbers and overflow", "[config][units]") {
  const auto text = GENERATE(
      as<std::string>{}, "", "30", "1.5", "-5s", "+5s", "5", "abc", "5x", "5 s", " 5s", "5s ", "5S",
      "1m30", "30s1m", "1h1h", "1msms", ".5s", "1.s", "s", "ms", "1us", "1ns", "1w", "1y", "1h-30m",
      "0x10s", "1e3ms", "36500d1ms", "36501d", "9223372036854775807ms", "18446744073709551616ms",
      "99999999999999999999999s", "1.0000000000000000001s");
  CAPTURE(text);
  CHECK_FALSE(parse_duration(text).has_value());
}

TEST_CASE("format_duration is canonical and round-trips", "[config][units]") {
  const auto c = GENERATE(values<std::pair<Duration, std::string>>({
      {0ms, "0s"},
      {500ms, "500ms"},
      {1s, "1s"},
      {1500ms, "1s500ms"},
      {90000ms, "1m30s"},
      {10min, "10m"},
      {6h, "6h"},
      {36h, "1d12h"},
      {7 * 24h, "7d"},
      {24h + 1ms, "1d1ms"},
      {kMaxDuration, "36500d"},
  }));
  CAPTURE(c.second);
  CHECK(format_duration(c.first) == c.second);
  CHECK(parse_duration(c.second) == c.first);
}

TEST_CASE("format_duration shows negative values with a sign", "[config][units]") {
  CHECK(format_duration(-1500ms) == "-1s500ms");
  CHECK(format_duration(Duration::min()).starts_with("-"));
}

TEST_CASE("parse_size accepts binary, SI and plain byte counts", "[config][units]") {
  constexpr std::uint64_t kKi = 1024;
  const auto c = GENERATE_COPY(values<SizeCase>({
      {"0", 0},
      {"0B", 0},
      {"1000B", 1000},
      {"1500", 1500},
      {"100KiB", 100 * kKi},
      {"512MiB", 512 * kKi * kKi},
      {"2GiB", 2 * kKi * kKi * kKi},
      {"1TiB", kKi * kKi * kKi * kKi},
      {"1PiB", kKi * kKi * kKi * kKi * kKi},
      {"1KB", 1000},
      {"8MB", 8'000'000},
      {"8GB", 8'000'000'000},
      {"2TB", 2'000'000'000'000},
      {"1PB", 1'000'000'000'000'000},
      {"1.5GiB", 3 * 512 * kKi * kKi},
      {"0.5KiB", 512},
      {"1.5KB", 1500},
      {"18446744073709551615", UINT64_MAX},
      {"15EiB", std::nullopt},
      {"16384PiB", std::nullopt},  // 2^64: one too many
      {"18446744073709551616", std::nullopt},
      {"0.3KiB", std::nullopt},  // 307.2 bytes
      {"1.5", std::nullopt},     // a fraction of a byte count means nothing
      {"1.5B", std::nullopt},
  }));
  CAPTURE(c.text);
  const auto got = parse_size(c.text);
  REQUIRE(got.has_value() == c.expected.has_value());
  if (got) CHECK(got->value == *c.expected);
}

TEST_CASE("parse_size rejects junk and negatives", "[config][units]") {
  const auto text =
      GENERATE(as<std::string>{}, "", "-1", "-1MiB", "+1MiB", "abc", "MiB", "1 MiB", "1mib", "1Mi",
               "1M", "1k", "1kb", "1MiBB", "1MiB ", " 1MiB", "1.MiB", ".5MiB", "0x10", "1e6");
  CAPTURE(text);
  CHECK_FALSE(parse_size(text).has_value());
}

TEST_CASE("format_size is exact, canonical and round-trips", "[config][units]") {
  const auto c = GENERATE(values<std::pair<Bytes, std::string>>({
      {Bytes{0}, "0B"},
      {Bytes{1}, "1B"},
      {Bytes{1000}, "1KB"},
      {Bytes{1500}, "1500B"},
      {Bytes{1024}, "1KiB"},
      {Bytes::mib(256), "256MiB"},
      {Bytes::gib(2), "2GiB"},
      {Bytes{3 * (1ULL << 29)}, "1536MiB"},
      {Bytes{8'000'000'000}, "8GB"},
      {Bytes{1000ULL << 20}, "1000MiB"},
      {Bytes{1ULL << 40}, "1TiB"},
      {Bytes{UINT64_MAX}, "18446744073709551615B"},
  }));
  CAPTURE(c.second);
  CHECK(format_size(c.first) == c.second);
  CHECK(parse_size(c.second) == c.first);
}

TEST_CASE("defrag window: daily, local time, may wrap past midnight", "[config][units]") {
  using std::chrono::minutes;
  const auto night = etcd_warden::config::parse_time_window("01:00-05:00");
  REQUIRE(night);
  CHECK_FALSE(night->contains(minutes(59)));
  CHECK(night->contains(minutes(60)));
  CHECK(night->contains(minutes(299)));
  CHECK_FALSE(night->contains(minutes(300)));
  const auto wrap = etcd_warden::config::parse_time_window("22:00-04:00");
  REQUIRE(wrap);
  CHECK(wrap->contains(minutes(23 * 60)));
  CHECK(wrap->contains(minutes(0)));
  CHECK_FALSE(wrap->contains(minutes(4 * 60)));
  CHECK_FALSE(wrap->contains(minutes(12 * 60)));
  for (const char* bad : {"", "1:00-05:00", "01:00-01:00", "25:00-01:00", "01:00 05:00"}) {
    INFO(bad);
    CHECK_FALSE(etcd_warden::config::parse_time_window(bad));
  }
}

TEST_CASE("defrag window: formats back to what was written", "[config][units]") {
  for (const char* text : {"01:00-05:00", "22:00-04:00", "00:00-23:59", "23:30-02:15"}) {
    const auto w = etcd_warden::config::parse_time_window(text);
    REQUIRE(w);
    CHECK(etcd_warden::config::format_time_window(*w) == text);
  }
}
