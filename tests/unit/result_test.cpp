#include "etcd_warden/util/result.hpp"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "etcd_warden/etcd/result.hpp"

using etcd_warden::util::fail;
using etcd_warden::util::Result;
using etcd_warden::util::Status;

namespace {
Result<int> half(int n) {
  if (n % 2 != 0) return fail(std::to_string(n) + ": odd");
  return n / 2;
}
}  // namespace

TEST_CASE("Result: a value or a one-line error, never both", "[result]") {
  const auto good = half(8);
  REQUIRE(good.ok());
  CHECK(static_cast<bool>(good));
  CHECK(*good == 4);
  const auto bad = half(3);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error() == "3: odd");
}

TEST_CASE("Result<std::string>: a string value is never taken for an error", "[result]") {
  const Result<std::string> value = std::string("text");
  REQUIRE(value.ok());
  CHECK(*value == "text");
  const Result<std::string> error = fail("open /x: No such file or directory");
  REQUIRE_FALSE(error.ok());
  CHECK(error.error() == "open /x: No such file or directory");
}

TEST_CASE("Result: move-only values move out", "[result]") {
  Result<std::unique_ptr<int>> made = std::make_unique<int>(7);
  REQUIRE(made.ok());
  const std::unique_ptr<int> taken = *std::move(made);
  CHECK(*taken == 7);
}

TEST_CASE("Status: success by default, failure from fail()", "[result]") {
  const Status done;
  CHECK(done.ok());
  const Status failed = fail("fsync /x: Input/output error");
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error() == "fsync /x: Input/output error");
}

TEST_CASE("etcd::Result: a typed error converts without fail()", "[result]") {
  namespace etcd = etcd_warden::etcd;
  const etcd::Result<int> e = etcd::Error{grpc::StatusCode::UNAVAILABLE, "http://a:1", "down"};
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().to_string() == "http://a:1: down");
  const etcd::Result<int> v = 5;
  CHECK(*v == 5);
}
