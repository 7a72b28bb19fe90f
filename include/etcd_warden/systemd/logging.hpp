// Logging setup. Under systemd (stderr is the journal stream named by
// JOURNAL_STREAM) log natively to journald with real priorities; otherwise
// plain lines on stderr. spdlog's default logger is the one global we keep:
// every file logs through it, and it is set up once here.
#pragma once

#include "etcd_warden/config/config.hpp"

namespace etcd_warden::systemd {

// True when fd 2 is the journal stream systemd told us about.
bool stderr_is_journal();
void setup_logging(config::LogLevel level);
void set_log_level(config::LogLevel level);

}  // namespace etcd_warden::systemd
