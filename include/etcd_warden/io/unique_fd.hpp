// An owning file descriptor: closed when it goes out of scope, so no error
// path leaks one.
#pragma once

namespace etcd_warden::io {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset() noexcept;
  // close(2) can report a deferred write error (NFS); this returns it (0 or errno).
  int close_checked() noexcept;

 private:
  int fd_ = -1;
};

}  // namespace etcd_warden::io
