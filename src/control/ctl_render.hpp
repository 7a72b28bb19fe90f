// Internal to src/control: what `etcd-warden ctl` prints without -o json.
// The daemon's answers (GetStatusJson, ListSnapshots, JobFinished, see
// docs/control.md) in, text out; pure, so every line is unit-tested without a
// bus. A missing field prints as a fallback ("", "?", 0, "never", "-"), as
// does a string or size of the wrong type; any other field of the wrong type
// throws nlohmann::json::exception, which run_ctl reports as an answer that is
// not the JSON expected.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace etcd_warden::control::detail {

// Left-aligned columns, two spaces apart; the last column is not padded and
// no line ends in a space.
void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& out);

// GetStatusJson as a headline (version, health, pause), a table of the member,
// config and tuning, a blank line, then a table of the jobs. Throws
// nlohmann::json::exception when there is no "member" object.
void print_status(const nlohmann::json& status, std::ostream& out);

// ListSnapshots as a table; "no snapshots" for an empty list.
void print_snapshots(const nlohmann::json& list, std::ostream& out);

// The JobFinished signal of the job `ctl run` waited for.
struct JobFinished {
  std::string job, result, summary;
  double seconds = 0;
};
void print_finished(const JobFinished& finished, bool json, std::ostream& out);

// `ctl run NAME --no-wait`: the job was started.
void print_started(const std::string& job, bool json, std::ostream& out);

// `ctl pause` and `ctl resume`: the pause state they left behind, from
// GetStatusJson. With `json`, throws nlohmann::json::exception when "paused"
// or "paused_until" is missing.
void print_pause_state(const nlohmann::json& status, bool json, std::ostream& out);

}  // namespace etcd_warden::control::detail
