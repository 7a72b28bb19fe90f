// One GET of a Prometheus /metrics URL with the text read on the blocking
// pool. etcd's own answer is ~100 KiB, but a proxy or a wrong metrics_url can
// send up to http_get's 64 MiB cap, and parsing that on the loop stalled it for
// two seconds (the watchdog, D-Bus and the warden's own /metrics wait meanwhile).
// The loop only does the I/O.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "etcd_warden/asio.hpp"
#include "etcd_warden/config/config.hpp"
#include "etcd_warden/net/http_get.hpp"
#include "etcd_warden/net/prom_text.hpp"
#include "etcd_warden/util/offload.hpp"
#include "etcd_warden/util/result.hpp"

namespace etcd_warden::net {

// `read` turns the parsed samples into what the caller keeps. It runs on the
// pool too (the samples of a large answer are large), so it must not touch
// state the loop owns. The error names the URL: a transport error, or
// "URL: HTTP 404".
template <class Read>
Task<util::Result<std::invoke_result_t<Read&, const ParsedMetrics&>>> scrape_metrics(
    std::string url, config::Duration timeout, std::optional<config::Tls> tls,
    asio::thread_pool& pool, Read read) {
  auto get = http_get(url, timeout, std::move(tls));
  HttpResponse response = co_await std::move(get);
  if (!response.ok()) {
    co_return util::fail(response.error.empty() ? url + ": HTTP " + std::to_string(response.status)
                                                : response.error);
  }
  auto loop = co_await asio::this_coro::executor;
  auto parse = offload(pool, loop, [body = std::move(response.body), read = std::move(read)] {
    return read(parse_prometheus_text(body));
  });
  co_return co_await std::move(parse);
}

}  // namespace etcd_warden::net
