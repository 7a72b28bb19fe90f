// A byte count that says what it is. Sizes in config, metrics and logs use it
// instead of bare integers; to_string() prints the human form used in logs.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace etcd_warden {

struct Bytes {
  std::uint64_t value = 0;

  constexpr Bytes() = default;
  constexpr explicit Bytes(std::uint64_t v) : value(v) {}
  // clang-tidy 14 takes the 0 in the comparison it synthesizes for a defaulted
  // <=> for a null pointer constant (llvm-project#53961).
  constexpr auto operator<=>(const Bytes&) const = default;  // NOLINT(modernize-use-nullptr)
  // Saturates at the maximum: "in use + margin" from a config value of
  // 18446744073709551615 must not wrap into a small number that fits the disk.
  constexpr Bytes operator+(Bytes o) const {
    return Bytes{value > UINT64_MAX - o.value ? UINT64_MAX : value + o.value};
  }
  // Saturates at zero: "free = size - in_use" must never wrap.
  constexpr Bytes operator-(Bytes o) const { return Bytes{value > o.value ? value - o.value : 0}; }
  constexpr double as_double() const { return static_cast<double>(value); }

  static constexpr Bytes kib(std::uint64_t n) { return Bytes{n << 10}; }
  static constexpr Bytes mib(std::uint64_t n) { return Bytes{n << 20}; }
  static constexpr Bytes gib(std::uint64_t n) { return Bytes{n << 30}; }
  // A size from a signed field (etcd's int64 dbSize): a negative one reads as 0.
  static constexpr Bytes non_negative(std::int64_t n) {
    return Bytes{n > 0 ? static_cast<std::uint64_t>(n) : 0};
  }
};

// "312MiB", "1.5GiB", "900B": binary units, at most one decimal.
std::string to_string(Bytes b);

}  // namespace etcd_warden
