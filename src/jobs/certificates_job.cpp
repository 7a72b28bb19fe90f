#include "etcd_warden/jobs/certificates_job.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "etcd_warden/sched/clock.hpp"
#include "etcd_warden/snapshot/sidecar.hpp"
#include "etcd_warden/tuning/discovery.hpp"
#include "etcd_warden/util/offload.hpp"
#include "etcd_warden/util/utf8.hpp"

namespace etcd_warden::jobs {

namespace {

using certs::Role;

Role role_of(tuning::EtcdCert which) {
  switch (which) {
    case tuning::EtcdCert::cert:
      return Role::etcd_server;
    case tuning::EtcdCert::peer_cert:
      return Role::etcd_peer;
    case tuning::EtcdCert::trusted_ca:
      return Role::etcd_client_ca;
    case tuning::EtcdCert::peer_trusted_ca:
      return Role::etcd_peer_ca;
  }
  return Role::etcd_server;
}

void add(std::vector<certs::Watched>& out, certs::Watched w) {
  const bool seen = std::any_of(out.begin(), out.end(), [&](const certs::Watched& o) {
    return o.path == w.path && o.role == w.role;
  });
  if (!seen) out.push_back(std::move(w));
}

std::string worst_summary(const std::vector<certs::Checked>& checked, sched::WallTime now) {
  const certs::Checked* soonest = nullptr;
  for (const auto& c : checked) {
    if (c.expiry && (!soonest || c.expiry->not_after < soonest->expiry->not_after)) soonest = &c;
  }
  if (!soonest) return "";
  return "the first " + certs::describe_left(soonest->expiry->not_after, now) + " (" +
         std::string(certs::role_name(soonest->watched.role)) + ")";
}

}  // namespace

CertificatesReport check_certificates(const config::Config& config,
                                      const std::filesystem::path& proc_root) {
  CertificatesReport report;
  std::vector<certs::Watched> watched;
  if (config.etcd.tls) {
    const auto& tls = *config.etcd.tls;
    if (!tls.cert.empty())
      add(watched, {tls.cert, Role::warden_client, "etcd.tls.cert in the warden's config"});
    if (!tls.ca.empty())
      add(watched, {tls.ca, Role::warden_ca, "etcd.tls.ca in the warden's config"});
  }
  auto found = tuning::discover_certificates(config, proc_root);
  for (const auto& c : found.certs) add(watched, {c.path, role_of(c.which), c.source});
  report.notes = std::move(found.notes);
  for (auto& w : watched) {
    certs::Checked c{std::move(w), std::nullopt, {}};
    if (auto read = certs::read_expiry(c.watched.path)) {
      c.expiry = *read;
    } else {
      c.error = read.error();
    }
    report.checked.push_back(std::move(c));
  }
  return report;
}

void CertificatesJob::publish(const CertificatesReport& report) {
  std::vector<metrics::WardenMetrics::CertificateSeries> series;
  for (const auto& c : report.checked) {
    if (!c.expiry) continue;
    series.push_back({util::valid_utf8(c.watched.path.string()),
                      std::string(certs::role_name(c.watched.role)),
                      static_cast<double>(sched::unix_seconds(c.expiry->not_after))});
  }
  context_.metrics.set_certificate_expiries(series);

  const auto& cfg = context_.config->certificates;
  const auto now = report.checked_at;
  for (const auto& c : report.checked) {
    const std::string role(certs::role_name(c.watched.role));
    if (!c.expiry) {
      spdlog::warn("certificate {} ({}): {}", c.watched.path.string(), role, c.error);
      continue;
    }
    const auto urgency =
        certs::urgency_of(c.expiry->not_after, now, cfg.warn_before, std::chrono::days(7));
    if (urgency == certs::Urgency::ok) continue;
    spdlog::warn("certificate {} ({}, {}) {} ({}); renew it (kubeadm: kubeadm certs renew)",
                 c.watched.path.string(), role, c.expiry->subject,
                 certs::describe_left(c.expiry->not_after, now),
                 snapshot::format_rfc3339(c.expiry->not_after));
  }
  const std::string alert = certs::alert_line(report.checked, now, cfg.warn_before);
  if (alert != context_.board.certificate_alert) {
    context_.board.certificate_alert = alert;
    if (context_.status_changed) context_.status_changed();
  }
}

Task<sched::JobResult> CertificatesJob::run() {
  auto config = context_.config;
  auto check = offload(*context_.blocking, context_.executor,
                       [config] { return check_certificates(*config); });
  CertificatesReport report = co_await std::move(check);
  report.checked_at = context_.clock.wall_now();
  publish(report);
  last_ = std::move(report);
  const auto& r = *last_;

  if (r.checked.empty()) {
    co_return sched::JobResult::skipped(
        "no certificate in use: etcd.tls is not set and no TLS flag of etcd was found");
  }
  std::vector<std::string> unreadable;
  for (const auto& c : r.checked) {
    if (!c.expiry) unreadable.push_back(c.error);
  }
  const std::string soonest = worst_summary(r.checked, r.checked_at);
  if (!unreadable.empty()) {
    std::string why = "cannot read " + unreadable.front();
    if (unreadable.size() > 1) why += " (+" + std::to_string(unreadable.size() - 1) + " more)";
    co_return sched::JobResult::failure(why);
  }
  co_return sched::JobResult::success(std::to_string(r.checked.size()) + " certificate file(s), " +
                                      soonest);
}

void CertificatesJob::print_report(std::ostream& out) const {
  if (!last_) return;
  const auto& r = *last_;
  out << "\n";
  if (r.checked.empty()) {
    out << "certificates: none in use (etcd.tls not set, no TLS flag of etcd found)\n";
  }
  char buf[1024];
  for (const auto& c : r.checked) {
    const std::string role(certs::role_name(c.watched.role));
    std::string state;
    if (c.expiry) {
      state = snapshot::format_rfc3339(c.expiry->not_after) + "  " +
              certs::describe_left(c.expiry->not_after, r.checked_at) + "  " + c.expiry->subject;
    } else {
      state = "UNREADABLE: " + c.error;
    }
    std::snprintf(buf, sizeof buf, "%-15s %s\n%-15s   %s, from %s\n", role.c_str(),
                  c.watched.path.c_str(), "", state.c_str(), c.watched.source.c_str());
    out << buf;
  }
  for (const auto& note : r.notes) out << "note: " << note << "\n";
}

}  // namespace etcd_warden::jobs
