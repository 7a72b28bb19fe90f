// `etcd-warden job NAME`: run one job on a private loop, print what it did.
#pragma once

#include <ostream>

#include "etcd_warden/app/runtime.hpp"

namespace etcd_warden::app {

// Exit code: 0 on success or skip (the reason is printed), 1 on failure.
int run_job_in_foreground(Runtime& runtime, const JobSpec& spec, std::ostream& out);

// The member as the status job saw it, one fact a line.
void print_member(const status::MemberStatus& member, std::ostream& out);

}  // namespace etcd_warden::app
