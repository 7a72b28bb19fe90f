#include "etcd_warden/net/http_get.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>

#include "etcd_warden/util/result.hpp"
#include "etcd_warden/util/url.hpp"

namespace etcd_warden::net {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

namespace {

// What one request needs of the URL, from the one URL parser.
struct Url {
  bool https = false;
  std::string host, port, target;
};

std::optional<Url> split_url(std::string_view text) {
  auto url = util::parse_http_url(text);
  if (!url) return std::nullopt;
  return Url{url->tls(), url->host, url->port.empty() ? (url->tls() ? "443" : "80") : url->port,
             url->path.empty() ? "/" : url->path};
}

// The TLS side of one request, from etcd.tls: the files are read on each
// call (a few KiB), so renewed certificates are picked up without a reload.
util::Result<std::shared_ptr<ssl::context>> tls_context(const std::optional<config::Tls>& tls) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  auto failed = [&](const char* key, const std::filesystem::path& file) {
    return util::fail(std::string(key) + " " + file.string() + ": " + ec.message());
  };
  if (tls && !tls->ca.empty()) {
    context->load_verify_file(tls->ca.string(), ec);
    if (ec) return failed("etcd.tls.ca", tls->ca);
  } else {
    context->set_default_verify_paths(ec);
    if (ec) return util::fail("the system's CA roots: " + ec.message());
  }
  if (tls && !tls->cert.empty()) {
    context->use_certificate_chain_file(tls->cert.string(), ec);
    if (ec) return failed("etcd.tls.cert", tls->cert);
    context->use_private_key_file(tls->key.string(), ssl::context::pem, ec);
    if (ec) return failed("etcd.tls.key", tls->key);
  }
  context->set_verify_mode(ssl::verify_peer, ec);
  if (ec) return util::fail("TLS setup: " + ec.message());
  return context;
}

std::string describe(const std::string& url, const boost::system::error_code& ec,
                     config::Duration timeout) {
  if (ec == beast::error::timeout) {
    return url + ": no answer within " + std::to_string(timeout.count()) + "ms";
  }
  return url + ": " + ec.message();
}

// Sends the request and reads the answer on a connected stream (plain or TLS).
template <typename Stream, typename Arm>
Task<boost::system::error_code> exchange(Stream& stream, Arm arm, const Url& url,
                                         http::response_parser<http::string_body>& parser) {
  boost::system::error_code ec;
  auto redirect = asio::redirect_error(asio::use_awaitable, ec);
  http::request<http::empty_body> request{http::verb::get, url.target, 11};
  request.set(http::field::host, url.host);
  request.set(http::field::user_agent, "etcd-warden");
  arm();
  co_await http::async_write(stream, request, redirect);
  if (ec) co_return ec;
  beast::flat_buffer buffer;
  arm();
  co_await http::async_read(stream, buffer, parser, redirect);
  co_return ec;
}

}  // namespace

Task<HttpResponse> http_get(std::string url, config::Duration timeout,
                            std::optional<config::Tls> tls) {
  HttpResponse out;
  auto parts = split_url(url);
  if (!parts) {
    out.error = url + ": not an http(s)://host:port/path URL";
    co_return out;
  }
  std::shared_ptr<ssl::context> context;
  if (parts->https) {
    auto made = tls_context(tls);
    if (!made) {
      out.error = url + ": " + made.error();
      co_return out;
    }
    context = *made;
  }

  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto remaining = [&] { return deadline - std::chrono::steady_clock::now(); };
  boost::system::error_code ec;
  auto redirect = asio::redirect_error(asio::use_awaitable, ec);

  // Numeric hosts resolve without a DNS query; names use the system resolver,
  // which can hang on a dead DNS server: the deadline covers it too (a
  // cancelled resolve returns at once; getaddrinfo finishes on Asio's thread).
  asio::steady_timer resolve_deadline(executor);
  resolve_deadline.expires_at(deadline);
  bool resolve_timed_out = false;
  // Set as soon as the resolve returns: a timer completion already queued by
  // then must not touch this frame, which may be gone when it runs.
  auto resolved = std::make_shared<bool>(false);
  resolve_deadline.async_wait(
      [&resolver, &resolve_timed_out, resolved](const boost::system::error_code& waited) {
        if (waited || *resolved) return;
        resolve_timed_out = true;
        resolver.cancel();
      });
  auto endpoints = co_await resolver.async_resolve(parts->host, parts->port, redirect);
  *resolved = true;
  resolve_deadline.cancel();
  if (resolve_timed_out) ec = beast::error::timeout;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{64} * 1024 * 1024);  // etcd's /metrics is well under 1 MiB

  if (!parts->https) {
    beast::tcp_stream stream(executor);
    auto arm = [&] { stream.expires_after(remaining()); };
    if (!ec) {
      arm();
      co_await stream.async_connect(endpoints, redirect);
    }
    if (!ec) {
      auto talk = exchange(stream, arm, *parts, parser);
      ec = co_await std::move(talk);
    }
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  } else {
    beast::ssl_stream<beast::tcp_stream> stream(executor, *context);
    auto arm = [&] { beast::get_lowest_layer(stream).expires_after(remaining()); };
    // The name the certificate must carry: etcd.tls.server_name, else the host.
    const std::string name = tls && !tls->server_name.empty() ? tls->server_name : parts->host;
    stream.set_verify_callback(ssl::host_name_verification(name), ec);
    // SNI only for names: RFC 6066 forbids IP literals there.
    boost::system::error_code not_ip;
    asio::ip::make_address(name, not_ip);
    if (not_ip) SSL_set_tlsext_host_name(stream.native_handle(), name.c_str());
    if (!ec) {
      arm();
      co_await beast::get_lowest_layer(stream).async_connect(endpoints, redirect);
    }
    if (!ec) {
      arm();
      co_await stream.async_handshake(ssl::stream_base::client, redirect);
    }
    if (!ec) {
      auto talk = exchange(stream, arm, *parts, parser);
      ec = co_await std::move(talk);
    }
    // No TLS close_notify: the answer is complete, and waiting for the
    // peer's would cost a round trip for nothing.
    beast::error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(asio::ip::tcp::socket::shutdown_both,
                                                      ignored);
  }
  if (ec) {
    out.error = describe(url, ec, timeout);
    co_return out;
  }
  out.status = parser.get().result_int();
  out.body = std::move(parser.get().body());
  if (out.status != 200) out.error = url + ": HTTP " + std::to_string(out.status);
  co_return out;
}

}  // namespace etcd_warden::net
