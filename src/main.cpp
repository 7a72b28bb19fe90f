#include "etcd_warden/app/cli.hpp"

int main(int argc, char** argv) {
  return etcd_warden::app::run_cli(argc, argv);
}
