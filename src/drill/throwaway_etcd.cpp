#include "etcd_warden/drill/throwaway_etcd.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "etcd_warden/io/error.hpp"
#include "etcd_warden/io/unique_fd.hpp"

namespace etcd_warden::drill {

namespace {

util::Result<std::uint16_t> bound_port(io::UniqueFd& fd) {
  fd = io::UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return util::fail("socket: " + io::errno_text(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return util::fail("bind 127.0.0.1:0: " + io::errno_text(errno));
  }
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return util::fail("getsockname: " + io::errno_text(errno));
  }
  return ntohs(addr.sin_port);
}

}  // namespace

std::string Throwaway::client_url() const {
  return "http://127.0.0.1:" + std::to_string(client_port);
}
std::string Throwaway::peer_url() const {
  return "http://127.0.0.1:" + std::to_string(peer_port);
}

util::Result<Throwaway> pick_ports() {
  // Both bound at once, so the kernel gives two different ones.
  io::UniqueFd a, b;
  auto client = bound_port(a);
  if (!client) return util::fail(client.error());
  auto peer = bound_port(b);
  if (!peer) return util::fail(peer.error());
  return Throwaway{*client, *peer};
}

std::vector<std::string> restore_args(const Throwaway& t, const std::filesystem::path& snapshot,
                                      const std::filesystem::path& data_dir) {
  const std::string name = kDrillMemberName;
  return {"snapshot",
          "restore",
          snapshot.string(),
          "--name=" + name,
          "--data-dir=" + data_dir.string(),
          "--initial-cluster=" + name + "=" + t.peer_url(),
          "--initial-advertise-peer-urls=" + t.peer_url(),
          "--initial-cluster-token=" + name};
}

std::vector<std::string> etcd_args(const Throwaway& t, const std::filesystem::path& data_dir,
                                   Bytes db_bytes) {
  const Bytes quota = std::max(Bytes::gib(2), db_bytes + db_bytes);
  return {"--name=" + std::string(kDrillMemberName),
          "--data-dir=" + data_dir.string(),
          "--listen-client-urls=" + t.client_url(),
          "--advertise-client-urls=" + t.client_url(),
          "--listen-peer-urls=" + t.peer_url(),
          "--initial-advertise-peer-urls=" + t.peer_url(),
          "--initial-cluster=" + std::string(kDrillMemberName) + "=" + t.peer_url(),
          "--quota-backend-bytes=" + std::to_string(quota.value),
          "--logger=zap",
          "--log-outputs=stderr"};
}

}  // namespace etcd_warden::drill
