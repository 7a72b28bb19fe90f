// When the certificates etcd and the warden use stop being valid. kubeadm
// issues etcd's certificates for one year and renews them only on upgrade,
// so a cluster left alone stops on the day they expire; the warden says so
// weeks before. Files are read with OpenSSL (PEM, every certificate in a
// bundle), never parsed by hand.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_warden/config/config.hpp"
#include "etcd_warden/sched/clock.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::certs {

// What a certificate file is for; the `role` label of the expiry metric.
enum class Role {
  warden_client,   // etcd.tls.cert: the warden's own client certificate
  warden_ca,       // etcd.tls.ca: what the warden trusts members with
  etcd_server,     // etcd --cert-file
  etcd_peer,       // etcd --peer-cert-file
  etcd_client_ca,  // etcd --trusted-ca-file
  etcd_peer_ca,    // etcd --peer-trusted-ca-file
};
std::string_view role_name(Role role);  // "warden-client", "etcd-server", ...

// A file to watch, and where the warden learnt of it ("etcd.tls.cert in the
// warden's config", "/proc/812/cmdline (--cert-file=...)").
struct Watched {
  std::filesystem::path path;
  Role role = Role::warden_client;
  std::string source;
  bool operator==(const Watched&) const = default;
};

// The earliest notAfter among the file's certificates (a CA bundle is as good
// as its first certificate to expire), with that certificate's subject.
struct FileExpiry {
  sched::WallTime not_after;
  std::string subject;  // "CN=etcd-ca", as OpenSSL prints it in one line
  int certificates = 0;
};

// Reads a PEM file: a regular file up to 1 MiB, one or more certificates. The
// error is one line naming the file: unreadable, no certificate in it, or a
// certificate OpenSSL cannot parse.
util::Result<FileExpiry> read_expiry(const std::filesystem::path& path);
// The same for PEM text already read; `name` goes into errors.
util::Result<FileExpiry> parse_expiry(std::string_view pem, std::string_view name);

enum class Urgency { ok, warning, critical, expired };

// Pure: expired at or after not_after, critical within `critical_before`,
// warning within `warn_before`.
Urgency urgency_of(sched::WallTime not_after, sched::WallTime now, config::Duration warn_before,
                   config::Duration critical_before);

// "expires in 5d", "expires in 20h", "expired 2d ago": coarse, for STATUS.
std::string describe_left(sched::WallTime not_after, sched::WallTime now);

// One watched file and what reading it gave.
struct Checked {
  Watched watched;
  std::optional<FileExpiry> expiry;
  std::string error;  // why it could not be read; empty when expiry is set
};

// Pure: the STATUS= part for what needs a human, most urgent first (expired,
// then expiring soonest, then unreadable), or "" when nothing does:
// "CERT etcd-server expires in 5d: /etc/etcd/server.crt (+1 more)".
std::string alert_line(const std::vector<Checked>& checked, sched::WallTime now,
                       config::Duration warn_before);

}  // namespace etcd_warden::certs
