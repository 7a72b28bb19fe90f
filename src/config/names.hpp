// Internal to src/config: the YAML spelling of each enum value, shared by the
// reader and render() so the two can never disagree.
#pragma once

#include <array>
#include <string_view>

#include "etcd_warden/config/config.hpp"

namespace etcd_warden::config::detail {

template <class E>
struct Named {
  std::string_view name;
  E value;
};

inline constexpr std::array<Named<LogLevel>, 5> kLogLevels{{
    {"trace", LogLevel::trace},
    {"debug", LogLevel::debug},
    {"info", LogLevel::info},
    {"warn", LogLevel::warn},
    {"error", LogLevel::error},
}};

inline constexpr std::array<Named<CompactionMode>, 2> kCompactionModes{{
    {"revision", CompactionMode::revision},
    {"periodic", CompactionMode::periodic},
}};

inline constexpr std::array<Named<Compression>, 2> kCompressions{{
    {"none", Compression::none},
    {"zstd", Compression::zstd},
}};

template <class E, std::size_t N>
constexpr std::string_view name_of(const std::array<Named<E>, N>& names, E value) {
  for (const auto& n : names) {
    if (n.value == value) return n.name;
  }
  return "?";
}

}  // namespace etcd_warden::config::detail
