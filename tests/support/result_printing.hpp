// Lets Catch print a util::Result: REQUIRE(w.open()) that fails shows the
// error text, not "{?}".
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <type_traits>

#include "etcd_warden/util/result.hpp"

namespace Catch {

template <class T, class E>
struct StringMaker<etcd_warden::util::Result<T, E>> {
  static std::string convert(const etcd_warden::util::Result<T, E>& r) {
    if (r.ok()) return "ok";
    if constexpr (std::is_convertible_v<E, std::string>) {
      return "error: " + std::string(r.error());
    } else {
      return "error";
    }
  }
};

}  // namespace Catch
