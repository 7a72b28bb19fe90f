#include "etcd_warden/snapshot/sidecar.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include <array>
#include <span>

#include "etcd_warden/io/error.hpp"
#include "etcd_warden/io/file.hpp"
#include "etcd_warden/snapshot/naming.hpp"
#include "etcd_warden/util/hex_id.hpp"
#include "etcd_warden/util/result.hpp"
#include "file_io.hpp"

namespace etcd_warden::snapshot {

namespace {

using nlohmann::json;

// A sidecar is a few hundred bytes; anything large is not ours.
constexpr std::size_t kMaxSidecarBytes = 1 << 20;

// Reads typed keys and remembers the first problem, so parse_sidecar stays a
// flat list of fields.
class Reader {
 public:
  explicit Reader(const json& j) : j_(j) {}
  const std::string& error() const { return error_; }

  // 64 lower-case hex digits, as the writer prints them: a sidecar with an
  // empty or made-up hash can match nothing.
  std::string sha256(const char* key) {
    std::string s = str(key);
    if (!error_.empty()) return s;
    const bool hex = s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
                       return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                     });
    if (!hex) bad(key, "expected 64 lower-case hex digits");
    return s;
  }
  Bytes positive_bytes(const char* key) {
    const Bytes b = bytes(key);
    if (error_.empty() && b.value == 0) bad(key, "expected a size above 0");
    return b;
  }
  std::string str(const char* key) {
    const json* v = find(key);
    if (!v) return {};
    if (!v->is_string()) return bad(key, "expected a string"), std::string{};
    return v->get<std::string>();
  }
  std::int64_t int64(const char* key) {
    const json* v = find(key);
    if (!v) return 0;
    if (!v->is_number_integer()) return bad(key, "expected an integer"), 0;
    return v->get<std::int64_t>();
  }
  Bytes bytes(const char* key) {
    const json* v = find(key);
    if (!v) return {};
    if (!v->is_number_unsigned()) return bad(key, "expected a non-negative integer"), Bytes{};
    return Bytes{v->get<std::uint64_t>()};
  }
  double seconds(const char* key) {
    const json* v = find(key);
    if (!v) return 0;
    if (!v->is_number() || v->get<double>() < 0) return bad(key, "expected seconds >= 0"), 0;
    return v->get<double>();
  }
  std::uint64_t id(const char* key) {
    const std::string s = str(key);
    if (!error_.empty()) return 0;
    const auto v = parse_hex_id(s);
    if (!v) return bad(key, "expected a hex ID like \"8e9e05c52164694d\""), 0;
    return *v;
  }
  sched::WallTime time(const char* key) {
    const std::string s = str(key);
    if (!error_.empty()) return {};
    const auto t = parse_rfc3339(s);
    if (!t)
      return bad(key, "expected RFC 3339 UTC time like \"2026-11-23T12:01:02Z\""),
             sched::WallTime{};
    return *t;
  }
  // Keys added after the first release: absent in older sidecars.
  bool has(const char* key) const { return j_.contains(key); }

  config::Compression compression(const char* key) {
    const std::string s = str(key);
    if (!error_.empty()) return config::Compression::none;
    if (s == "zstd") return config::Compression::zstd;
    if (s != "none") bad(key, R"(expected "none" or "zstd")");
    return config::Compression::none;
  }

 private:
  const json* find(const char* key) {
    if (!error_.empty()) return nullptr;
    const auto it = j_.find(key);
    if (it == j_.end()) {
      bad(key, "missing");
      return nullptr;
    }
    return &*it;
  }
  void bad(const char* key, const char* what) {
    if (error_.empty()) error_ = std::string("key '") + key + "': " + what;
  }

  const json& j_;
  std::string error_;
};

// sha256 of the keys in compact canonical form (nlohmann sorts them), so
// whitespace and key order do not matter, values do.
std::string checksum_of(const json& keys) {
  const std::string text = keys.dump(-1, ' ', false, json::error_handler_t::replace);
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), md.data(), &size, EVP_sha256(), nullptr) != 1) {
    return "";
  }
  return detail::hex(std::span(md.data(), size));
}

// taken_at + duration, in whole seconds up (a duration past a year, which no
// run takes, counts as none).
sched::WallTime end_of_run(const SnapshotInfo& info) {
  constexpr double kYear = 365.0 * 24 * 3600;
  if (!(info.duration.count() < kYear)) return info.taken_at;
  return info.taken_at +
         std::chrono::seconds(static_cast<std::int64_t>(std::ceil(info.duration.count())));
}

}  // namespace

std::string format_rfc3339(sched::WallTime t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto days = floor<std::chrono::days>(secs);
  const year_month_day ymd{days};
  const hh_mm_ss hms{secs - days};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::optional<sched::WallTime> parse_rfc3339(std::string_view s) {
  using namespace std::chrono;
  const auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    int v = 0;
    if (pos + len > s.size()) return std::nullopt;
    const char* b = s.data() + pos;
    const auto [end, ec] = std::from_chars(b, b + len, v);
    if (ec != std::errc{} || end != b + len || *b == '-' || *b == '+') return std::nullopt;
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  const auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
             se = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)},
                           day{static_cast<unsigned>(*d)}};
  // The clock counts nanoseconds in 64 bits (years 1678 to 2262): a year
  // outside 1970..2200 is no snapshot's, and must not overflow it.
  if (*y < 1970 || *y > 2200) return std::nullopt;
  if (!ymd.ok() || *h > 23 || *mi > 59 || *se > 59) return std::nullopt;
  std::size_t pos = 19;
  nanoseconds frac{0};
  if (s[pos] == '.') {
    ++pos;
    long long scale = 100'000'000;
    const std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac += nanoseconds{(s[pos] - '0') * scale};
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  if (s.substr(pos) != "Z" && s.substr(pos) != "z") return std::nullopt;
  const auto t = sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*se} + frac;
  return time_point_cast<sched::WallTime::duration>(t);
}

std::string to_json(const SnapshotInfo& info) {
  json j = {
      {"file", info.file},
      {"member", info.member},
      {"member_id", hex_id(info.member_id)},
      {"cluster_id", hex_id(info.cluster_id)},
      {"revision", info.revision},
      {"etcd_version", info.etcd_version},
      {"taken_at", format_rfc3339(info.taken_at)},
      {"db_bytes", info.db_bytes.value},
      {"file_bytes", info.file_bytes.value},
      {"sha256", info.sha256},
      {"compression", info.compression == config::Compression::zstd ? "zstd" : "none"},
      {"duration_seconds", info.duration.count()},
      {"verified_at", format_rfc3339(info.verified_at)},
  };
  // Member names and versions come from etcd: any byte. U+FFFD for an
  // invalid one rather than an exception that loses the snapshot's sidecar.
  if (!info.recheck_failed.empty()) j["recheck_failed"] = info.recheck_failed;
  j["checksum"] = checksum_of(j);
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

util::Result<SnapshotInfo> parse_sidecar(std::string_view text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return util::fail(std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) return util::fail(std::string("not a JSON object"));
  if (j.contains("checksum")) {
    // Written by us with it: any value changed since (a sha256 "corrected"
    // by hand, a size) shows. Sidecars from before it have none.
    const json& given = j["checksum"];
    json rest = j;
    rest.erase("checksum");
    if (!given.is_string() || given.get<std::string>() != checksum_of(rest)) {
      return util::fail(std::string(
          "key 'checksum': does not match the other keys: the sidecar was edited or damaged "
          "since it was written"));
    }
  }
  Reader r(j);
  SnapshotInfo info;
  info.file = r.str("file");
  info.member = r.str("member");
  info.member_id = r.id("member_id");
  info.cluster_id = r.id("cluster_id");
  info.revision = r.int64("revision");
  info.etcd_version = r.str("etcd_version");
  info.taken_at = r.time("taken_at");
  info.db_bytes = r.positive_bytes("db_bytes");
  info.file_bytes = r.positive_bytes("file_bytes");
  info.sha256 = r.sha256("sha256");
  info.compression = r.compression("compression");
  info.duration = std::chrono::duration<double>(r.seconds("duration_seconds"));
  // Written before the key existed: the bytes were checked at the end of the
  // run, just before the sidecar was written.
  info.verified_at = r.has("verified_at") ? r.time("verified_at") : end_of_run(info);
  if (r.has("recheck_failed")) {
    info.recheck_failed = r.str("recheck_failed");
    if (r.error().empty() && info.recheck_failed.empty()) {
      return util::fail(std::string("key 'recheck_failed': expected a reason, got \"\""));
    }
  }
  if (!r.error().empty()) return util::fail(r.error());
  return info;
}

util::Status write_sidecar(const std::filesystem::path& sidecar, const SnapshotInfo& info) {
  const std::filesystem::path dir = sidecar.parent_path().empty() ? "." : sidecar.parent_path();
  const std::filesystem::path tmp = dir / partial_file_name(sidecar.filename().string());
  const std::string text = to_json(info);

  // A crash may have left the temporary file; it is ours to replace.
  ::unlink(tmp.c_str());
  io::UniqueFd fd;
  if (auto created = detail::create_locked_partial(tmp, fd); !created) return created;
  const auto fail = [&](std::string err) {
    fd.reset();
    ::unlink(tmp.c_str());
    return util::fail(std::move(err));
  };
  if (auto written = io::write_all(fd.get(), std::as_bytes(std::span(text)), tmp); !written) {
    return fail(written.error());
  }
  // A sidecar rewritten by root (`snapshot verify`) keeps the owner the
  // daemon gave it. Best effort: without the right to chown it stays ours.
  struct stat old {};
  if (::stat(sidecar.c_str(), &old) == 0) (void)::fchown(fd.get(), old.st_uid, old.st_gid);
  // Its mtime is the check it records, on whichever clock the caller used:
  // the catalog trusts no sidecar written well after that check (an edit).
  const auto since_epoch = info.verified_at.time_since_epoch();
  const auto secs = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const timespec times[2] = {
      {.tv_sec = 0, .tv_nsec = UTIME_OMIT},
      {.tv_sec = static_cast<time_t>(secs.count()),
       .tv_nsec = static_cast<long>(
           std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs).count())}};
  if (::futimens(fd.get(), times) != 0) return fail(io::sys_error("futimens", tmp, errno));
  if (auto synced = io::sync_and_close(fd, tmp); !synced) return fail(synced.error());
  if (::rename(tmp.c_str(), sidecar.c_str()) != 0) {
    return fail("rename " + tmp.string() + " -> " + sidecar.string() + ": " +
                io::errno_text(errno));
  }
  return io::fsync_dir(dir);
}

util::Result<SnapshotInfo> read_sidecar(const std::filesystem::path& sidecar) {
  auto text = io::read_file(sidecar, kMaxSidecarBytes);
  if (!text) {
    if (text.error().code == EFBIG) {
      return util::fail(sidecar.string() + ": larger than " + std::to_string(kMaxSidecarBytes) +
                        " bytes, not a sidecar");
    }
    return util::fail(text.error().message);
  }
  auto parsed = parse_sidecar(*text);
  if (!parsed) return util::fail(sidecar.string() + ": " + parsed.error());
  return parsed;
}

}  // namespace etcd_warden::snapshot
