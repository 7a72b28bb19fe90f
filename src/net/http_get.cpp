#include "etcd_warden/net/http_get.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace etcd_warden::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

struct Url {
  std::string host, port, target;
};

std::optional<Url> split_url(std::string_view url) {
  if (!url.starts_with("http://")) return std::nullopt;
  url.remove_prefix(7);
  const auto slash = url.find('/');
  const std::string_view authority = url.substr(0, slash);
  Url out;
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    out.host = std::string(authority);
    out.port = "80";
  } else {
    out.host = std::string(authority.substr(0, colon));
    out.port = std::string(authority.substr(colon + 1));
  }
  if (out.host.starts_with('[') && out.host.ends_with(']'))
    out.host = out.host.substr(1, out.host.size() - 2);
  if (out.host.empty() || out.port.empty()) return std::nullopt;
  return out;
}

}  // namespace

Task<HttpResponse> http_get(std::string url, config::Duration timeout) {
  HttpResponse out;
  auto parts = split_url(url);
  if (!parts) {
    out.error = url + ": not an http://host:port/path URL";
    co_return out;
  }
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  beast::tcp_stream stream(executor);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto remaining = [&] { return deadline - std::chrono::steady_clock::now(); };
  boost::system::error_code ec;
  auto redirect = asio::redirect_error(asio::use_awaitable, ec);

  // Numeric hosts resolve without a DNS query; names use the system resolver.
  auto endpoints = co_await resolver.async_resolve(parts->host, parts->port, redirect);
  if (!ec) {
    stream.expires_after(remaining());
    co_await stream.async_connect(endpoints, redirect);
  }
  http::request<http::empty_body> request{http::verb::get, parts->target, 11};
  request.set(http::field::host, parts->host);
  request.set(http::field::user_agent, "etcd-warden");
  if (!ec) {
    stream.expires_after(remaining());
    co_await http::async_write(stream, request, redirect);
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);  // etcd's /metrics is well under 1 MiB
  if (!ec) {
    stream.expires_after(remaining());
    co_await http::async_read(stream, buffer, parser, redirect);
  }
  if (ec) {
    out.error =
        url + ": " + (ec == beast::error::timeout ? "no answer within " : "") +
        (ec == beast::error::timeout ? std::to_string(timeout.count()) + "ms" : ec.message());
    co_return out;
  }
  out.status = parser.get().result_int();
  out.body = std::move(parser.get().body());
  if (out.status != 200) out.error = url + ": HTTP " + std::to_string(out.status);
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  co_return out;
}

}  // namespace etcd_warden::net
