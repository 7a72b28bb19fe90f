#include "etcd_warden/config/units.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <limits>

namespace etcd_warden::config {
namespace {

// A non-negative decimal as written: "12", "1.5". The fraction keeps its
// digits as an integer with a digit count so that scaling stays exact.
struct Decimal {
  std::uint64_t whole = 0;
  std::uint64_t fraction = 0;
  int fraction_digits = 0;
};

// Beyond this many significant fraction digits no unit we know gives a whole
// result, and 10^digits would no longer fit in 64 bits.
constexpr int kMaxFractionDigits = 18;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads digits into `out`; false on none or on overflow.
bool take_digits(std::string_view& text, std::uint64_t& out, int& count) {
  out = 0;
  count = 0;
  while (!text.empty() && is_digit(text.front())) {
    const auto digit = static_cast<std::uint64_t>(text.front() - '0');
    if (out > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    out = out * 10 + digit;
    ++count;
    text.remove_prefix(1);
  }
  return count > 0;
}

// Consumes "digits[.digits]" from the front of `text`. A leading sign, a bare
// '.', or a '.' without digits after it are refused.
std::optional<Decimal> take_decimal(std::string_view& text) {
  Decimal d;
  int count = 0;
  if (!take_digits(text, d.whole, count)) return std::nullopt;
  if (text.empty() || text.front() != '.') return d;
  text.remove_prefix(1);
  // Trailing zeros add nothing; drop them so "1.50000000000000000000s" is fine.
  std::string_view digits = text;
  std::size_t n = 0;
  while (n < digits.size() && is_digit(digits[n])) ++n;
  if (n == 0) return std::nullopt;
  text.remove_prefix(n);
  digits = digits.substr(0, n);
  while (!digits.empty() && digits.back() == '0') digits.remove_suffix(1);
  if (digits.size() > kMaxFractionDigits) return std::nullopt;
  if (!digits.empty() && !take_digits(digits, d.fraction, d.fraction_digits)) return std::nullopt;
  return d;
}

// d * unit as a whole number; nullopt when it is not whole or does not fit.
std::optional<std::uint64_t> scale(const Decimal& d, std::uint64_t unit) {
  using Wide = unsigned __int128;
  Wide pow10 = 1;
  for (int i = 0; i < d.fraction_digits; ++i) pow10 *= 10;
  const Wide fraction_part = static_cast<Wide>(d.fraction) * unit;
  if (fraction_part % pow10 != 0) return std::nullopt;
  const Wide total = static_cast<Wide>(d.whole) * unit + fraction_part / pow10;
  if (total > std::numeric_limits<std::uint64_t>::max()) return std::nullopt;
  return static_cast<std::uint64_t>(total);
}

struct Unit {
  std::string_view name;
  std::uint64_t factor;
};

// Largest first: this is the order groups must appear in, and the order
// format_duration writes them. "ms" precedes "m" so the longer name matches.
constexpr std::array<Unit, 5> kDurationUnits{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

// Index into kDurationUnits of the unit at the front of `text`, consumed.
std::optional<std::size_t> take_duration_unit(std::string_view& text) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < kDurationUnits.size(); ++i) {
    const auto name = kDurationUnits[i].name;
    if (text.starts_with(name) && (!best || name.size() > kDurationUnits[*best].name.size())) {
      best = i;
    }
  }
  if (best) text.remove_prefix(kDurationUnits[*best].name.size());
  return best;
}

constexpr std::array<Unit, 11> kSizeUnits{{
    {"B", 1},
    {"KiB", 1ULL << 10},
    {"MiB", 1ULL << 20},
    {"GiB", 1ULL << 30},
    {"TiB", 1ULL << 40},
    {"PiB", 1ULL << 50},
    {"KB", 1'000ULL},
    {"MB", 1'000'000ULL},
    {"GB", 1'000'000'000ULL},
    {"TB", 1'000'000'000'000ULL},
    {"PB", 1'000'000'000'000'000ULL},
}};

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (text == "0") return Duration{0};
  if (text.empty()) return std::nullopt;
  const auto limit = static_cast<std::uint64_t>(kMaxDuration.count());
  std::uint64_t total = 0;
  std::size_t next_allowed = 0;  // units must strictly decrease
  while (!text.empty()) {
    const auto number = take_decimal(text);
    if (!number) return std::nullopt;
    const auto unit = take_duration_unit(text);
    if (!unit || *unit < next_allowed) return std::nullopt;
    next_allowed = *unit + 1;
    const auto ms = scale(*number, kDurationUnits[*unit].factor);
    if (!ms || *ms > limit - total) return std::nullopt;
    total += *ms;
  }
  return Duration{static_cast<Duration::rep>(total)};
}

std::string format_duration(Duration d) {
  if (d.count() == 0) return "0s";
  std::string out;
  // Work on the magnitude as unsigned so that Duration::min() cannot overflow.
  auto rest = static_cast<std::uint64_t>(d.count());
  if (d.count() < 0) {
    out += '-';
    rest = 0 - rest;
  }
  for (const auto& unit : kDurationUnits) {
    if (rest >= unit.factor) {
      out += std::to_string(rest / unit.factor);
      out += unit.name;
      rest %= unit.factor;
    }
  }
  return out;
}

std::optional<Bytes> parse_size(std::string_view text) {
  const auto number = take_decimal(text);
  if (!number) return std::nullopt;
  // A plain integer counts bytes; a fraction needs a unit to mean anything.
  if (text.empty()) {
    if (number->fraction_digits > 0) return std::nullopt;
    return Bytes{number->whole};
  }
  for (const auto& unit : kSizeUnits) {
    if (text == unit.name) {
      const auto bytes = scale(*number, unit.factor);
      if (!bytes) return std::nullopt;
      return Bytes{*bytes};
    }
  }
  return std::nullopt;
}

std::string format_size(Bytes b) {
  const Unit* best = &kSizeUnits.front();
  for (const auto& unit : kSizeUnits) {
    if (b.value % unit.factor == 0 && b.value / unit.factor < b.value / best->factor) best = &unit;
  }
  return std::to_string(b.value / best->factor) + std::string(best->name);
}

bool TimeWindow::contains(std::chrono::minutes t) const {
  if (start <= end) return t >= start && t < end;
  return t >= start || t < end;  // wraps past midnight
}

namespace {

// "HH:MM" as minutes after midnight.
std::optional<std::chrono::minutes> clock_minutes(std::string_view hhmm) {
  if (hhmm.size() != 5 || hhmm[2] != ':') return std::nullopt;
  const auto digits = [&](std::size_t at, int max) -> std::optional<int> {
    const char a = hhmm[at], b = hhmm[at + 1];
    if (a < '0' || a > '9' || b < '0' || b > '9') return std::nullopt;
    const int v = (a - '0') * 10 + (b - '0');
    return v <= max ? std::optional<int>(v) : std::nullopt;
  };
  const auto h = digits(0, 23), m = digits(3, 59);
  if (!h || !m) return std::nullopt;
  return std::chrono::minutes(*h * 60 + *m);
}

}  // namespace

std::optional<TimeWindow> parse_time_window(std::string_view text) {
  if (text.size() != 11 || text[5] != '-') return std::nullopt;
  const auto start = clock_minutes(text.substr(0, 5));
  const auto end = clock_minutes(text.substr(6, 5));
  if (!start || !end || *start == *end) return std::nullopt;
  return TimeWindow{*start, *end};
}

std::string format_time_window(const TimeWindow& w) {
  char buf[16];
  const auto hhmm = [](std::chrono::minutes m) {
    return std::pair{static_cast<int>(m.count() / 60), static_cast<int>(m.count() % 60)};
  };
  const auto [sh, sm] = hhmm(w.start);
  const auto [eh, em] = hhmm(w.end);
  std::snprintf(buf, sizeof buf, "%02d:%02d-%02d:%02d", sh, sm, eh, em);
  return buf;
}

}  // namespace etcd_warden::config
