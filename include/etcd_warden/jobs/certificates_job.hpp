// The certificates job: which certificate files the warden and its etcd
// member use (etcd.tls; etcd's --cert-file, --peer-cert-file,
// --trusted-ca-file and --peer-trusted-ca-file, found as tuning finds its
// settings) and when each expires: a metric per file, the STATUS= line within
// certificates.warn_before, a table for `job certificates` and `job status`.
// Read-only and without gRPC, so it answers while etcd is down.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "etcd_warden/certs/expiry.hpp"
#include "etcd_warden/jobs/job_context.hpp"
#include "etcd_warden/sched/job_result.hpp"

namespace etcd_warden::jobs {

struct CertificatesReport {
  std::vector<certs::Checked> checked;  // the warden's files first, then etcd's
  std::vector<std::string> notes;       // discovery's skipped places
  sched::WallTime checked_at;
};

// Blocking: discovery and the reads. The warden's own files, then etcd's;
// the same path in the same role once.
CertificatesReport check_certificates(const config::Config& config,
                                      const std::filesystem::path& proc_root = "/proc");

class CertificatesJob {
 public:
  explicit CertificatesJob(JobContext& context) : context_(context) {}
  Task<sched::JobResult> run();
  // ROLE, PATH, EXPIRES, LEFT, FROM; nothing before the first run.
  void print_report(std::ostream& out) const;

 private:
  void publish(const CertificatesReport& report);

  JobContext& context_;
  std::optional<CertificatesReport> last_;
};

}  // namespace etcd_warden::jobs
