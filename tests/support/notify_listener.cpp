#include "support/notify_listener.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace etcd_warden::testing {

namespace {

bool make_address(const std::filesystem::path& p, sockaddr_un& addr) {
  const std::string s = p.string();
  if (s.size() >= sizeof addr.sun_path) return false;
  addr = {};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
  return true;
}

bool line_matches(std::string_view text, std::string_view needle) {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (text.substr(start, end - start).substr(0, needle.size()) == needle) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

NotifyListener::NotifyListener() : path_(dir_ / "notify.sock") {
  sockaddr_un addr{};
  if (!make_address(path_, addr)) {
    throw std::runtime_error("NotifyListener: socket path too long (set TMPDIR shorter): " +
                             path_.string());
  }
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0)
    throw std::runtime_error(std::string("NotifyListener: socket: ") + std::strerror(errno));
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    ::close(fd_);
    throw std::runtime_error("NotifyListener: bind " + path_.string() + ": " + std::strerror(e));
  }
  // sd_notify datagrams can carry file descriptors (FDSTORE=1); room for big ones.
  const int rcvbuf = 1 << 20;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) {
    const int e = errno;
    ::close(fd_);
    throw std::runtime_error(std::string("NotifyListener: eventfd: ") + std::strerror(e));
  }
  thread_ = std::thread([this] { run(); });
}

NotifyListener::~NotifyListener() {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  ::close(stop_fd_);
  ::close(fd_);
}

void NotifyListener::run() {
  std::vector<char> buf(1 << 16);
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 64)];
  while (true) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) continue;
    // Close any passed descriptors: we only record the text.
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
          int passed;
          std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          ::close(passed);
        }
      }
    }
    {
      std::lock_guard lock(mutex_);
      datagrams_.push_back(
          {std::chrono::steady_clock::now(), std::string(buf.data(), static_cast<std::size_t>(n))});
    }
    changed_.notify_all();
  }
}

std::vector<std::string> NotifyListener::messages() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.reserve(datagrams_.size());
  for (const auto& d : datagrams_) out.push_back(d.text);
  return out;
}

std::vector<NotifyDatagram> NotifyListener::datagrams() const {
  std::lock_guard lock(mutex_);
  return datagrams_;
}

std::size_t NotifyListener::size() const {
  std::lock_guard lock(mutex_);
  return datagrams_.size();
}

std::size_t NotifyListener::count(std::string_view needle) const {
  std::lock_guard lock(mutex_);
  std::size_t total = 0;
  for (const auto& d : datagrams_) {
    std::string_view text = d.text;
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      const std::string_view line = text.substr(start, end - start);
      if (!line.empty() && line.substr(0, needle.size()) == needle) ++total;
      start = end + 1;
    }
  }
  return total;
}

bool NotifyListener::has_line_locked(std::string_view needle, std::size_t from) const {
  for (std::size_t i = from; i < datagrams_.size(); ++i) {
    if (line_matches(datagrams_[i].text, needle)) return true;
  }
  return false;
}

bool NotifyListener::wait_for(std::string_view needle, std::chrono::milliseconds deadline,
                              std::size_t from) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, deadline, [&] { return has_line_locked(needle, from); });
}

std::optional<std::string> NotifyListener::last_status_locked() const {
  for (auto it = datagrams_.rbegin(); it != datagrams_.rend(); ++it) {
    const std::string_view text = it->text;
    std::optional<std::string> found;  // the last STATUS= line within this datagram
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      const std::string_view line = text.substr(start, end - start);
      if (line.substr(0, 7) == "STATUS=") found = std::string(line.substr(7));
      start = end + 1;
    }
    if (found) return found;
  }
  return std::nullopt;
}

std::optional<std::string> NotifyListener::last_status() const {
  std::lock_guard lock(mutex_);
  return last_status_locked();
}

bool NotifyListener::wait_for_status(const std::function<bool(std::string_view)>& pred,
                                     std::chrono::milliseconds deadline) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, deadline, [&] {
    const auto s = last_status_locked();
    return s && pred(*s);
  });
}

bool send_notify(const std::filesystem::path& socket_path, std::string_view text) {
  sockaddr_un addr{};
  if (!make_address(socket_path, addr)) return false;
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const ssize_t n = ::sendto(fd, text.data(), text.size(), MSG_NOSIGNAL,
                             reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::close(fd);
  return n == static_cast<ssize_t>(text.size());
}

}  // namespace etcd_warden::testing
