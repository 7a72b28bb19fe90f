// The command line (contract in DESIGN.md): `etcd-warden [-c FILE] COMMAND ...`.
#pragma once

namespace etcd_warden::app {

int run_cli(int argc, char** argv);

}  // namespace etcd_warden::app
