#include "etcd_warden/app/runtime.hpp"

#include <stdexcept>

namespace etcd_warden::app {

namespace {

std::shared_ptr<etcd::Client> make_client(const config::Etcd& cfg, asio::any_io_executor executor) {
  auto made = etcd::Client::create(cfg, std::move(executor));
  if (!made) throw std::runtime_error(made.error());
  return *made;
}

}  // namespace

Runtime::Runtime(const std::shared_ptr<const config::Config>& config)
    : context{io.get_executor(),
              clock,
              metrics,
              board,
              config,
              make_client(config->etcd, io.get_executor()),
              &blocking},
      jobs(context) {}

Runtime::~Runtime() {
  blocking.join();
}

}  // namespace etcd_warden::app
