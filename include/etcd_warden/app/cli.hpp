// The command line (the user's contract: README, packaging/man/etcd-warden.8):
// `etcd-warden [-c FILE] COMMAND ...`.
#pragma once

namespace etcd_warden::app {

int run_cli(int argc, char** argv);

}  // namespace etcd_warden::app
