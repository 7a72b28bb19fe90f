#include "support/http_get.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace etcd_warden::testing {

namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` on fd until `end`; false on timeout or error.
bool wait_fd(int fd, short events, Clock::time_point end) {
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

std::optional<HttpResult> http_get_full(const std::string& host, std::uint16_t port,
                                        const std::string& path,
                                        std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res) {
    return std::nullopt;
  }
  Fd fd(::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  const int rc = fd.get() < 0 ? -1 : ::connect(fd.get(), res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (fd.get() < 0) return std::nullopt;
  if (rc != 0) {
    if (errno != EINPROGRESS || !wait_fd(fd.get(), POLLOUT, end)) return std::nullopt;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      return std::nullopt;
    }
  }

  const bool v6 = host.find(':') != std::string::npos;
  const std::string request =
      "GET " + path + " HTTP/1.0\r\nHost: " + (v6 ? "[" + host + "]" : host) + ":" +
      std::to_string(port) + "\r\nConnection: close\r\nUser-Agent: etcd-warden-tests\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(fd.get(), POLLOUT, end)) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }

  std::string response;
  char buf[16384];
  while (true) {
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
      response.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!wait_fd(fd.get(), POLLIN, end)) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }

  // "HTTP/1.x NNN reason\r\n...headers...\r\n\r\nbody"
  if (response.rfind("HTTP/", 0) != 0) return std::nullopt;
  const auto sp = response.find(' ');
  const auto head_end = response.find("\r\n\r\n");
  if (sp == std::string::npos || head_end == std::string::npos || sp + 4 > response.size()) {
    return std::nullopt;
  }
  HttpResult result;
  try {
    result.status = std::stoi(response.substr(sp + 1, 3));
  } catch (...) {
    return std::nullopt;
  }
  result.body = response.substr(head_end + 4);
  return result;
}

std::optional<std::string> http_get(const std::string& host, std::uint16_t port,
                                    const std::string& path, std::chrono::milliseconds timeout) {
  auto r = http_get_full(host, port, path, timeout);
  if (!r || r->status != 200) return std::nullopt;
  return std::move(r->body);
}

}  // namespace etcd_warden::testing
