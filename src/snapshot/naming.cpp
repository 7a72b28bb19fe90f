#include "etcd_warden/snapshot/naming.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>

namespace etcd_warden::snapshot {

namespace {

constexpr std::string_view kPrefix = "etcd-";
constexpr std::string_view kPlainExt = ".db";
constexpr std::string_view kZstdExt = ".db.zst";
constexpr std::size_t kTimeLen = 16;  // YYYYMMDDTHHMMSSZ
constexpr std::size_t kMinRevisionDigits = 12;
constexpr std::size_t kMaxMemberLen = 100;  // keeps the whole name far below NAME_MAX

bool member_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<int> number(std::string_view s) {
  int v = 0;
  if (!all_digits(s)) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<sched::WallTime> parse_compact_time(std::string_view s) {
  using namespace std::chrono;
  if (s.size() != kTimeLen || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  const auto y = number(s.substr(0, 4)), mo = number(s.substr(4, 2)), d = number(s.substr(6, 2));
  const auto h = number(s.substr(9, 2)), mi = number(s.substr(11, 2)), se = number(s.substr(13, 2));
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)},
                           day{static_cast<unsigned>(*d)}};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *se > 59) return std::nullopt;
  return sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*se};
}

}  // namespace

std::string sanitize_member_name(std::string_view member) {
  std::string out(member.substr(0, kMaxMemberLen));
  std::replace_if(
      out.begin(), out.end(), [](char c) { return !member_char(c); }, '_');
  return out.empty() ? "unnamed" : out;
}

std::string snapshot_file_name(std::string_view member, std::int64_t revision,
                               sched::WallTime taken, Compression compression) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(taken);
  const auto days = floor<std::chrono::days>(secs);
  const year_month_day ymd{days};
  const hh_mm_ss hms{secs - days};
  char buf[64];
  std::snprintf(buf, sizeof buf, "-r%012lld-%04d%02u%02uT%02d%02d%02dZ",
                static_cast<long long>(std::max<std::int64_t>(revision, 0)),
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  std::string name(kPrefix);
  name += sanitize_member_name(member);
  name += buf;
  name += compression == Compression::zstd ? kZstdExt : kPlainExt;
  return name;
}

std::optional<SnapshotName> parse_snapshot_file_name(std::string_view s) {
  SnapshotName out;
  if (s.ends_with(kZstdExt)) {
    out.compression = Compression::zstd;
    s.remove_suffix(kZstdExt.size());
  } else if (s.ends_with(kPlainExt)) {
    out.compression = Compression::none;
    s.remove_suffix(kPlainExt.size());
  } else {
    return std::nullopt;
  }
  if (!s.starts_with(kPrefix)) return std::nullopt;
  s.remove_prefix(kPrefix.size());

  // Parse from the right: the member name may itself contain "-r".
  if (s.size() < kTimeLen + 1 || s[s.size() - kTimeLen - 1] != '-') return std::nullopt;
  const auto taken = parse_compact_time(s.substr(s.size() - kTimeLen));
  if (!taken) return std::nullopt;
  s.remove_suffix(kTimeLen + 1);

  const auto r = s.rfind("-r");
  if (r == std::string_view::npos) return std::nullopt;
  const std::string_view digits = s.substr(r + 2);
  if (digits.size() < kMinRevisionDigits || !all_digits(digits)) return std::nullopt;
  const auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), out.revision);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;

  const std::string_view member = s.substr(0, r);
  if (member.empty() || member.size() > kMaxMemberLen ||
      !std::all_of(member.begin(), member.end(), member_char)) {
    return std::nullopt;
  }
  out.member = member;
  out.taken = *taken;
  return out;
}

std::string partial_file_name(std::string_view final_name) {
  std::string s = ".";
  s += final_name;
  s += ".partial";
  return s;
}

std::filesystem::path sidecar_path(const std::filesystem::path& snapshot_file) {
  std::filesystem::path p = snapshot_file;
  p += ".json";
  return p;
}

}  // namespace etcd_warden::snapshot
