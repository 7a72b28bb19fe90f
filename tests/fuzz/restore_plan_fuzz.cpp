// Restore-plan rendering with any names, URLs, paths and flags (member names
// and peer URLs come from etcd, data dirs from discovery or the command
// line). The plan is pasted into a root shell, so a value must never change
// what runs: the plan is rendered twice, once with the fuzzed values and once
// with each replaced by a plain word ("v", or "" for ""), and every line must
// have the same shell structure in both (the same number of words, the same
// operators, expansions and globs, no open quote), read the way an
// interactive bash or zsh reads a pasted line.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "etcd_warden/snapshot/restore_plan.hpp"
#include "fuzz_check.hpp"

using namespace etcd_warden;

namespace {

// The structure of one pasted line: "w" per word, and each character the
// shell treats as more than a letter, outside the quotes that make it one.
std::string shape(const std::string& line) {
  std::string out;
  enum class In { space, word, single, dquote } in = In::space;
  const auto op = [&](char c) { out += '<', out += c, out += '>'; };
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in == In::single) {
      if (c == '\'') in = In::word;
      continue;
    }
    if (in == In::dquote) {
      if (c == '"')
        in = In::word;
      else if (c == '\\')
        ++i;  // \$ \` \" \\ stay literal
      else if (c == '$' || c == '`' || c == '!')
        op(c);
      continue;
    }
    if (c == ' ' || c == '\t') {
      in = In::space;
      continue;
    }
    const bool word_start = in == In::space;
    if (word_start) {
      if (c == '#') return out + "#";  // the rest is a comment
      out += 'w';
      if (c == '~' || c == '=' || (i == 0 && c == '^')) op(c);
    }
    in = In::word;
    if (c == '\'')
      in = In::single;
    else if (c == '"')
      in = In::dquote;
    else if (c == '\\')
      ++i;
    else if (std::string_view(";&|<>()$`!*?[]{}").find(c) != std::string_view::npos)
      op(c);
  }
  if (in == In::single || in == In::dquote) out += "<open quote>";
  return out;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Each value the plan takes from outside, fuzzed, and the same plan with
// plain words in their place.
struct Inputs {
  snapshot::PlanInput fuzzed, plain;
};

std::string word(const std::string& value) {
  return value.empty() ? "" : "v";
}

Inputs make_inputs(FuzzedDataProvider& in) {
  Inputs out;
  auto& f = out.fuzzed;
  auto& p = out.plain;
  const auto value = [&](std::string& fuzzed, std::string& plain) {
    fuzzed = in.ConsumeRandomLengthString(64);
    plain = word(fuzzed);
  };
  const std::size_t members = in.ConsumeIntegralInRange<std::size_t>(1, 5);
  for (std::size_t i = 0; i < members; ++i) {
    snapshot::PlanMember fm, pm;
    value(fm.name, pm.name);
    for (auto n = in.ConsumeIntegralInRange<int>(0, 2); n > 0; --n) {
      value(fm.peer_urls.emplace_back(), pm.peer_urls.emplace_back());
    }
    for (auto n = in.ConsumeIntegralInRange<int>(0, 2); n > 0; --n) {
      value(fm.client_urls.emplace_back(), pm.client_urls.emplace_back());
    }
    std::string dir, plain_dir;
    value(dir, plain_dir);
    fm.data_dir = dir;
    pm.data_dir = plain_dir;
    value(fm.data_dir_source, pm.data_dir_source);
    f.members.push_back(std::move(fm));
    p.members.push_back(std::move(pm));
  }
  f.compressed = p.compressed = in.ConsumeBool();
  f.revision = p.revision = in.ConsumeIntegral<std::int64_t>();
  f.etcd_version = p.etcd_version = in.PickValueInArray({"3.4.23", "3.5.16", "3.6.0", "x"});
  for (auto n = in.ConsumeIntegralInRange<int>(0, 3); n > 0; --n) {
    value(f.etcdctl_flags.emplace_back(), p.etcdctl_flags.emplace_back());
  }
  value(f.cluster_token, p.cluster_token);
  value(f.stamp, p.stamp);
  // The path last: it takes the rest, so it can be long.
  std::string snapshot = in.ConsumeRemainingBytesAsString();
  if (f.compressed) snapshot += ".zst";
  f.snapshot = snapshot;
  p.snapshot = f.compressed ? "v.zst" : word(snapshot);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider provider(data, size);
  const auto inputs = make_inputs(provider);
  const auto plan = snapshot::build_restore_plan(inputs.fuzzed);
  if (!plan) {
    fuzz::require(plan.error().find('\n') == std::string::npos, "an error of more than one line");
    return 0;
  }
  const auto reference = snapshot::build_restore_plan(inputs.plain);
  if (!reference) fuzz::finding("plain words refused: " + reference.error());
  const auto got = lines(*plan), want = lines(*reference);
  fuzz::require(got.size() == want.size(), "a value changed the number of lines");
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (shape(got[i]) != shape(want[i])) {
      fuzz::finding("a value changed what a line runs:\n  " + got[i] + "\n  shape " +
                    shape(got[i]) + "\n  instead of " + shape(want[i]));
    }
  }
  return 0;
}
