// The one result type of a fallible operation: a value, or an error saying
// what went wrong in words a person can act on (the error names the place:
// a path, an endpoint, a config key). `Status` is the result of an operation
// with no value. Errors are made with `fail(...)`, values are returned as is:
//
//   util::Result<Bytes> free_space(const fs::path& dir) {
//     if (::statvfs(...) != 0) return util::fail("statvfs " + dir.string() + ": ...");
//     return Bytes{...};
//   }
//
// A typed error (etcd::Error) converts implicitly: it cannot be mistaken for a
// value. A string error always goes through fail(), so a Result<std::string>
// stays unambiguous.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace etcd_warden::util {

template <class E>
struct Failure {
  E error;
};

inline Failure<std::string> fail(std::string message) {
  return {std::move(message)};
}
template <class E>
Failure<E> fail_with(E error) {
  return {std::move(error)};
}

template <class T, class E = std::string>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  using error_type = E;

  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Failure<E> failure) : error_(std::move(failure.error)) {}  // NOLINT
  Result(E error)  // NOLINT(google-explicit-constructor)
      requires(!std::is_same_v<E, std::string> && !std::is_same_v<E, T>)
      : error_(std::move(error)) {}
  template <class G>
  Result(Failure<G> failure)  // NOLINT(google-explicit-constructor)
      requires(!std::is_same_v<G, E> && std::is_constructible_v<E, G>)
      : error_(E(std::move(failure.error))) {}

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  // Only meaningful when !ok().
  const E& error() const { return error_; }
  E& error() { return error_; }

 private:
  std::optional<T> value_;
  E error_{};
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  Result() = default;
  Result(Failure<E> failure) : error_(std::move(failure.error)), failed_(true) {}  // NOLINT
  Result(E error)  // NOLINT(google-explicit-constructor)
      requires(!std::is_same_v<E, std::string>)
      : error_(std::move(error)), failed_(true) {}
  template <class G>
  Result(Failure<G> failure)  // NOLINT(google-explicit-constructor)
      requires(!std::is_same_v<G, E> && std::is_constructible_v<E, G>)
      : error_(E(std::move(failure.error))), failed_(true) {}

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const E& error() const { return error_; }
  E& error() { return error_; }

 private:
  E error_{};
  bool failed_ = false;
};

// The result of an operation that yields nothing but may fail.
using Status = Result<void>;
inline Status ok() {
  return {};
}

// A failed result's error carried into another result type.
template <class T, class U, class E>
Result<T, E> forward_error(const Result<U, E>& failed) {
  return Failure<E>{failed.error()};
}

}  // namespace etcd_warden::util
