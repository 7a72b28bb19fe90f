// Waiting for a condition with a deadline: the only way tests wait. The
// condition is polled (default every 25 ms) and checked once more at the end.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

namespace etcd_warden::testing {

using namespace std::chrono_literals;

// True as soon as `cond()` is true; false if it is still false at the deadline.
inline bool wait_until(std::function<bool()> cond, std::chrono::milliseconds deadline,
                       std::chrono::milliseconds poll = 25ms) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (cond()) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(poll, end - now));
  }
}

}  // namespace etcd_warden::testing

// Catch2 helpers (Catch must be included at the point of use). The failure
// message names the condition and the deadline.
#define REQUIRE_EVENTUALLY(cond, deadline)                                           \
  do {                                                                               \
    const std::chrono::milliseconds ew_deadline_ = (deadline);                       \
    if (!::etcd_warden::testing::wait_until([&] { return static_cast<bool>(cond); }, \
                                            ew_deadline_)) {                         \
      FAIL("not true within " << ew_deadline_.count() << "ms: " #cond);              \
    }                                                                                \
  } while (0)

#define CHECK_EVENTUALLY(cond, deadline)                                             \
  do {                                                                               \
    const std::chrono::milliseconds ew_deadline_ = (deadline);                       \
    if (!::etcd_warden::testing::wait_until([&] { return static_cast<bool>(cond); }, \
                                            ew_deadline_)) {                         \
      FAIL_CHECK("not true within " << ew_deadline_.count() << "ms: " #cond);        \
    }                                                                                \
  } while (0)
