#include "support/s3_server.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "support/http_get.hpp"
#include "support/ports.hpp"
#include "support/wait.hpp"

namespace etcd_warden::testing {

namespace {

constexpr const char* kHost = "127.0.0.1";

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? std::string(v) : fallback;
}

// The first executable `name` on $PATH, or "".
std::string find_on_path(const std::string& name) {
  const std::string path = env_or("PATH", "/usr/bin:/bin");
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find(':', start), path.size());
    const std::string dir = end > start ? path.substr(start, end - start) : ".";
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

}  // namespace

std::filesystem::path S3Server::script() {
  return env_or("ETCD_WARDEN_S3RVER", env_or("ETCD_WARDEN_OPT", "/opt/etcd-warden") +
                                          "/s3rver/node_modules/s3rver/bin/s3rver.js");
}

std::string S3Server::missing() {
  std::string out;
  if (find_on_path("node").empty()) out += "node is not on PATH; ";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(script(), ec)) {
    out += "no s3rver at " + script().string() + " ($ETCD_WARDEN_S3RVER names another); ";
  }
  if (!out.empty()) out += "scripts/install-deps installs both";
  return out;
}

S3Server::S3Server(S3ServerOptions options) : options_(std::move(options)) {
  if (const std::string m = missing(); !m.empty()) {
    throw std::runtime_error("S3Server: cannot start s3rver: " + m);
  }
  data_dir_ = dir_ / "data";
  log_path_ = dir_ / "s3rver.log";
  std::filesystem::create_directories(data_dir_);
  // Another process may take the free port before node binds it: a new
  // port then, as EtcdCluster does.
  for (int attempt = 1;; ++attempt) {
    port_ = free_port();
    spawn(true);
    if (wait_answering(options_.start_deadline)) return;
    if (attempt == 3 || log().find("EADDRINUSE") == std::string::npos) {
      throw std::runtime_error("S3Server: s3rver exited with " +
                               std::to_string(process_->exit_status().value_or(-1)) +
                               " before it answered on " + endpoint() + ":\n" + log_tail());
    }
  }
}

void S3Server::spawn(bool configure_buckets) {
  ProcessOptions po;
  po.argv = {"node", script().string(), "--directory",        data_dir_.string(), "--address",
             kHost,  "--port",          std::to_string(port_)};
  if (!options_.log) po.argv.emplace_back("--silent");
  if (tls()) {
    po.argv.insert(po.argv.end(),
                   {"--cert", options_.tls_cert.string(), "--key", options_.tls_key.string()});
  }
  if (configure_buckets) {
    for (const auto& b : options_.buckets) {
      po.argv.emplace_back("--configure-bucket");
      po.argv.push_back(b);
    }
  }
  // Nothing from the test's environment changes how node runs s3rver.
  po.unset_env = {"NODE_*"};
  po.log_path = log_path_;
  process_.emplace(std::move(po));
}

bool S3Server::wait_answering(std::chrono::milliseconds deadline) {
  bool exited = false;
  const bool up = wait_until(
      [&] {
        if (!process_->running()) {
          exited = true;
          return true;
        }
        return answering(250ms);
      },
      deadline, 50ms);
  if (exited) return false;
  if (!up) {
    throw std::runtime_error("S3Server: s3rver does not answer on " + endpoint() + " within " +
                             std::to_string(deadline.count()) + "ms:\n" + log_tail());
  }
  return true;
}

std::string S3Server::endpoint() const {
  return std::string(tls() ? "https://" : "http://") + kHost + ":" + std::to_string(port_);
}

bool S3Server::running() {
  return process_ && process_->running();
}

bool S3Server::answering(std::chrono::milliseconds timeout) const {
  // GET / (ListBuckets) needs no signature in s3rver; any complete response will do.
  if (!tls()) return http_get_full(kHost, port_, "/", timeout).has_value();
  const auto seconds = std::to_string(std::max<double>(0.1, timeout.count() / 1000.0));
  return run_command({"curl", "-sk", "-o", "/dev/null", "--max-time", seconds, endpoint() + "/"},
                     {.timeout = timeout + 1s})
             .exit_code == 0;
}

std::optional<int> S3Server::stop(std::chrono::milliseconds deadline) {
  if (!process_) return std::nullopt;
  process_->signal(SIGTERM);
  process_->signal(SIGCONT);  // a stopped process acts on SIGTERM only once continued
  if (auto status = process_->wait_exit(deadline)) return status;
  return process_->kill();
}

void S3Server::kill() {
  if (process_) process_->kill();
}

void S3Server::pause() {
  if (process_) process_->signal(SIGSTOP);
}

void S3Server::resume() {
  if (process_) process_->signal(SIGCONT);
}

void S3Server::restart(std::chrono::milliseconds deadline) {
  if (running()) stop();
  spawn(false);
  if (!wait_answering(deadline)) {
    throw std::runtime_error("S3Server: s3rver exited with " +
                             std::to_string(process_->exit_status().value_or(-1)) +
                             " on restart on " + endpoint() + ":\n" + log_tail());
  }
}

std::vector<S3PendingUpload> S3Server::pending_uploads(const std::string& bucket) const {
  // lib/stores/filesystem.js: initiateUpload writes key and metadata into
  // the upload's directory, putPart N and N.md5, putObjectMultipart removes it.
  std::vector<S3PendingUpload> out;
  const auto uploads = data_dir_ / bucket / "._S3rver_uploads";
  std::error_code ec;
  if (!std::filesystem::is_directory(uploads, ec)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(uploads)) {
    if (!entry.is_directory()) continue;
    // UploadPart to an unknown upload id creates a directory without a key
    // file (s3rver does not check the id): not an upload.
    if (!std::filesystem::exists(entry.path() / "key", ec)) continue;
    S3PendingUpload u;
    u.key = read_file(entry.path() / "key");
    u.upload_id = entry.path().filename().string();
    for (const auto& part : std::filesystem::directory_iterator(entry.path())) {
      const std::string name = part.path().filename().string();
      if (!name.empty() && std::all_of(name.begin(), name.end(),
                                       [](unsigned char c) { return std::isdigit(c) != 0; })) {
        u.parts.push_back(std::stoi(name));
      }
    }
    std::sort(u.parts.begin(), u.parts.end());
    out.push_back(std::move(u));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.key != b.key ? a.key < b.key : a.upload_id < b.upload_id;
  });
  return out;
}

}  // namespace etcd_warden::testing
