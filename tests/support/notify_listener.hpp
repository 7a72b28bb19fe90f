// A stand-in for systemd's notification socket: an AF_UNIX datagram socket
// whose path goes into NOTIFY_SOCKET. A background thread collects every
// datagram; all accessors are thread-safe and waits wake on arrival.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"

namespace etcd_warden::testing {

struct NotifyDatagram {
  std::chrono::steady_clock::time_point received;
  std::string text;  // e.g. "READY=1\nSTATUS=ok"
};

class NotifyListener {
 public:
  // Binds <fresh temp dir>/notify.sock. Throws std::runtime_error on failure.
  NotifyListener();
  ~NotifyListener();
  NotifyListener(const NotifyListener&) = delete;
  NotifyListener& operator=(const NotifyListener&) = delete;

  const std::filesystem::path& path() const { return path_; }

  std::vector<std::string> messages() const;      // every datagram, in order
  std::vector<NotifyDatagram> datagrams() const;  // the same with arrival times
  std::size_t size() const;                       // number of datagrams so far
  // Number of lines (over all datagrams) equal to or starting with `needle`.
  std::size_t count(std::string_view needle) const;

  // True once a datagram with index >= `from` has a line equal to or starting
  // with `needle` ("READY=1", "STATUS=", "ERRNO="). Pass size() taken before an
  // action as `from` to wait for a new notification only (e.g. READY=1 after reload).
  bool wait_for(std::string_view needle, std::chrono::milliseconds deadline,
                std::size_t from = 0) const;
  // The value of the latest STATUS= line, if any.
  std::optional<std::string> last_status() const;
  // True once the latest STATUS= value satisfies `pred`.
  bool wait_for_status(const std::function<bool(std::string_view)>& pred,
                       std::chrono::milliseconds deadline) const;

 private:
  void run();
  bool has_line_locked(std::string_view needle, std::size_t from) const;
  std::optional<std::string> last_status_locked() const;

  TempDir dir_{"etcd-warden-notify"};
  std::filesystem::path path_;
  int fd_ = -1;
  int stop_fd_ = -1;  // eventfd that wakes the thread for shutdown
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<NotifyDatagram> datagrams_;
  std::thread thread_;
};

// Sends one datagram to a NOTIFY_SOCKET path (what sd_notify does); for tests.
bool send_notify(const std::filesystem::path& socket_path, std::string_view text);

}  // namespace etcd_warden::testing
