// Time and randomness as injected services. Decision logic never reads the
// system clock or a global RNG, so tests drive it with ManualClock and a fixed
// random source and never sleep.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace etcd_warden::sched {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

// Seconds since the Unix epoch: whole for records and JSON, with the
// fraction for metrics (Prometheus timestamps are float seconds).
inline std::int64_t unix_seconds(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline double unix_seconds_exact(WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime now() const = 0;     // for intervals and deadlines
  virtual WallTime wall_now() const = 0;  // for timestamps shown to people
};

class SystemClock final : public Clock {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
};

// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  SteadyTime now() const override { return steady_; }
  WallTime wall_now() const override { return wall_; }
  void advance(std::chrono::nanoseconds d) {
    steady_ += d;
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }

 private:
  SteadyTime steady_{std::chrono::hours(1)};
  WallTime wall_{std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}};
};

// Uniform numbers in [0, 1).
class Random {
 public:
  virtual ~Random() = default;
  virtual double uniform01() = 0;
};

class DefaultRandom final : public Random {
 public:
  DefaultRandom() : engine_(std::random_device{}()) {}
  explicit DefaultRandom(std::uint64_t seed) : engine_(seed) {}
  double uniform01() override { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }

 private:
  std::mt19937_64 engine_;
};

// Always the same number: for tests that pin jitter to its bounds.
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(double v) : value_(v) {}
  double uniform01() override { return value_; }
  void set(double v) { value_ = v; }

 private:
  double value_;
};

}  // namespace etcd_warden::sched
