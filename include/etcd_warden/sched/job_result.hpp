// What one run of a job came to. `skipped` is not a failure: the job decided
// that acting now would be unsafe or useless, and `summary` says why.
#pragma once

#include <string>
#include <string_view>

namespace etcd_warden::sched {

enum class Outcome { success, failure, skipped };

constexpr std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::success:
      return "success";
    case Outcome::failure:
      return "failure";
    case Outcome::skipped:
      return "skipped";
  }
  return "unknown";
}

struct JobResult {
  Outcome outcome = Outcome::success;
  std::string summary;  // one line for logs, STATUS= and ctl: "reclaimed=312MiB took=1.6s"

  static JobResult success(std::string s) { return {Outcome::success, std::move(s)}; }
  static JobResult failure(std::string s) { return {Outcome::failure, std::move(s)}; }
  static JobResult skipped(std::string s) { return {Outcome::skipped, std::move(s)}; }
};

}  // namespace etcd_warden::sched
