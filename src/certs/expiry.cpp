#include "etcd_warden/certs/expiry.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <memory>

#include "etcd_warden/io/file.hpp"

namespace etcd_warden::certs {

namespace {

// Larger than any bundle of CAs worth trusting (Debian's whole
// ca-certificates.crt is about 200 KiB).
constexpr std::size_t kMaxPemBytes = std::size_t{1} << 20;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;

std::string openssl_error() {
  const unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  std::array<char, 256> text{};
  ERR_error_string_n(e, text.data(), text.size());
  return text.data();
}

// RFC 2253 with every byte outside ASCII escaped: one printable line.
std::string subject_of(const X509* cert) {
  Bio out(BIO_new(BIO_s_mem()));
  if (!out) return {};
  X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

// notAfter as a time point; "never" (9999-12-31, beyond the clock's range)
// becomes the latest time the clock holds.
util::Result<sched::WallTime> not_after_of(const X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
    return util::fail("its notAfter is not a time (" + openssl_error() + ")");
  }
  const std::time_t t = ::timegm(&tm);
  const auto latest = std::chrono::floor<std::chrono::seconds>(sched::WallTime::max());
  const auto earliest = std::chrono::ceil<std::chrono::seconds>(sched::WallTime::min());
  const std::chrono::sys_seconds secs{std::chrono::seconds{t}};
  if (secs >= latest) return sched::WallTime(latest);
  if (secs <= earliest) return sched::WallTime(earliest);
  return sched::WallTime(secs);
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::warden_client:
      return "warden-client";
    case Role::warden_ca:
      return "warden-ca";
    case Role::etcd_server:
      return "etcd-server";
    case Role::etcd_peer:
      return "etcd-peer";
    case Role::etcd_client_ca:
      return "etcd-client-ca";
    case Role::etcd_peer_ca:
      return "etcd-peer-ca";
  }
  return "unknown";
}

util::Result<FileExpiry> parse_expiry(std::string_view pem, std::string_view name) {
  const std::string where(name);
  ERR_clear_error();
  Bio in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!in) return util::fail(where + ": " + openssl_error());
  FileExpiry out;
  // Other PEM blocks (a private key beside the certificate) are skipped by
  // OpenSSL; "TRUSTED CERTIFICATE" blocks count too.
  while (Cert cert{PEM_read_bio_X509_AUX(in.get(), nullptr, nullptr, nullptr)}) {
    ++out.certificates;
    auto not_after = not_after_of(cert.get());
    if (!not_after) {
      return util::fail(where + ": certificate " + std::to_string(out.certificates) + ": " +
                        not_after.error());
    }
    if (out.certificates == 1 || *not_after < out.not_after) {
      out.not_after = *not_after;
      out.subject = subject_of(cert.get());
    }
  }
  // The loop ends on "no start line" at the end of the text; anything else
  // is a block OpenSSL could not read.
  const unsigned long last = ERR_peek_last_error();
  const bool clean_end = last == 0 || (ERR_GET_LIB(last) == ERR_LIB_PEM &&
                                       ERR_GET_REASON(last) == PEM_R_NO_START_LINE);
  if (!clean_end) {
    return util::fail(where + ": certificate " + std::to_string(out.certificates + 1) +
                      " cannot be read (" + openssl_error() + ")");
  }
  ERR_clear_error();
  if (out.certificates == 0) return util::fail(where + ": no PEM certificate in it");
  return out;
}

util::Result<FileExpiry> read_expiry(const std::filesystem::path& path) {
  auto text = io::read_file(path, kMaxPemBytes);
  if (!text) return util::fail(path.string() + ": " + text.error().reason());
  return parse_expiry(*text, path.string());
}

Urgency urgency_of(sched::WallTime not_after, sched::WallTime now, config::Duration warn_before,
                   config::Duration critical_before) {
  if (now >= not_after) return Urgency::expired;
  const auto left = not_after - now;
  if (left <= critical_before) return Urgency::critical;
  if (left <= warn_before) return Urgency::warning;
  return Urgency::ok;
}

std::string describe_left(sched::WallTime not_after, sched::WallTime now) {
  using namespace std::chrono;
  const bool past = now >= not_after;
  const auto span = floor<minutes>(past ? now - not_after : not_after - now);
  std::string amount;
  if (span >= days(1)) {
    amount = std::to_string(floor<days>(span).count()) + "d";
  } else if (span >= hours(1)) {
    amount = std::to_string(floor<hours>(span).count()) + "h";
  } else {
    amount = std::to_string(span.count()) + "m";
  }
  return past ? "expired " + amount + " ago" : "expires in " + amount;
}

std::string alert_line(const std::vector<Checked>& checked, sched::WallTime now,
                       config::Duration warn_before) {
  // Expired and expiring by notAfter, then the unreadable ones.
  std::vector<const Checked*> due;
  for (const auto& c : checked) {
    if (!c.expiry || c.expiry->not_after - now <= warn_before) due.push_back(&c);
  }
  if (due.empty()) return "";
  std::stable_sort(due.begin(), due.end(), [](const Checked* a, const Checked* b) {
    if (a->expiry.has_value() != b->expiry.has_value()) return a->expiry.has_value();
    return a->expiry && a->expiry->not_after < b->expiry->not_after;
  });
  const Checked& first = *due.front();
  std::string line = "CERT " + std::string(role_name(first.watched.role)) + " " +
                     (first.expiry ? describe_left(first.expiry->not_after, now) : "unreadable") +
                     ": " + first.watched.path.string();
  if (due.size() > 1) line += " (+" + std::to_string(due.size() - 1) + " more)";
  return line;
}

}  // namespace etcd_warden::certs
