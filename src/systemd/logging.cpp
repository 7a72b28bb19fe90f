#include "etcd_warden/systemd/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

namespace etcd_warden::systemd {

namespace {

spdlog::level::level_enum to_spdlog(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::trace:
      return spdlog::level::trace;
    case config::LogLevel::debug:
      return spdlog::level::debug;
    case config::LogLevel::info:
      return spdlog::level::info;
    case config::LogLevel::warn:
      return spdlog::level::warn;
    case config::LogLevel::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

bool stderr_is_journal() {
  // systemd.exec(5): JOURNAL_STREAM is "DEVICE:INODE" of the stream; compare
  // with fd 2 so a child whose stderr was redirected does not log natively.
  const char* env = std::getenv("JOURNAL_STREAM");
  if (env == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(2, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

void setup_logging(config::LogLevel level) {
  std::shared_ptr<spdlog::logger> logger;
  if (stderr_is_journal()) {
    // Journald adds time, unit and priority itself.
    auto sink = std::make_shared<spdlog::sinks::systemd_sink_mt>("etcd-warden");
    logger = std::make_shared<spdlog::logger>("etcd-warden", sink);
    logger->set_pattern("%v");
  } else {
    logger = std::make_shared<spdlog::logger>("etcd-warden",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  }
  logger->flush_on(spdlog::level::trace);  // a crash must not eat the last lines
  spdlog::set_default_logger(logger);
  set_log_level(level);
}

void set_log_level(config::LogLevel level) {
  spdlog::set_level(to_spdlog(level));
}

}  // namespace etcd_warden::systemd
