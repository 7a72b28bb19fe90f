// certs/expiry: notAfter read with OpenSSL from real PEM files (made with the
// openssl CLI), bundles judged by their first certificate to expire, bad
// files named in one line; and the pure urgency and STATUS= wording.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "etcd_warden/certs/expiry.hpp"
#include "support/temp_dir.hpp"
#include "support/tls.hpp"

using namespace etcd_warden;
using namespace std::chrono_literals;
using etcd_warden::testing::TempDir;
namespace fs = std::filesystem;

namespace {

fs::path cert_for(const TempDir& tmp, const std::string& name, int days) {
  const fs::path cert = tmp / (name + ".crt");
  testing::make_self_signed_ca(cert, tmp / (name + ".key"), name, days);
  return cert;
}

double days_left(const certs::FileExpiry& e) {
  return std::chrono::duration<double, std::ratio<86400>>(e.not_after -
                                                          std::chrono::system_clock::now())
      .count();
}

}  // namespace

TEST_CASE("certs: notAfter of 5, 20 and 400 days, and a bundle's earliest", "[certs]") {
  TempDir tmp;
  const auto soon = cert_for(tmp, "soon", 5);
  const auto month = cert_for(tmp, "month", 20);
  const auto year = cert_for(tmp, "year", 400);
  for (const auto& [path, days] :
       {std::pair{soon, 5}, std::pair{month, 20}, std::pair{year, 400}}) {
    const auto e = certs::read_expiry(path);
    REQUIRE(e);
    CHECK(e->certificates == 1);
    CHECK(days_left(*e) == Approx(days).margin(0.01));
  }
  CHECK(certs::read_expiry(soon)->subject == "CN=soon");

  // A CA bundle (and a key block among them, which is skipped) is as good as
  // its first certificate to expire.
  const fs::path bundle = tmp / "bundle.crt";
  testing::write_file(bundle, testing::read_file(year) + testing::read_file(tmp / "year.key") +
                                  testing::read_file(soon) + testing::read_file(month));
  const auto b = certs::read_expiry(bundle);
  REQUIRE(b);
  CHECK(b->certificates == 3);
  CHECK(b->subject == "CN=soon");
  CHECK(days_left(*b) == Approx(5).margin(0.01));
}

TEST_CASE("certs: a file without a certificate, a broken one, a directory: one line each",
          "[certs]") {
  TempDir tmp;
  const fs::path key_only = tmp / "key.pem";
  cert_for(tmp, "x", 5);
  testing::write_file(key_only, testing::read_file(tmp / "x.key"));
  auto r = certs::read_expiry(key_only);
  REQUIRE_FALSE(r);
  CHECK(r.error() == key_only.string() + ": no PEM certificate in it");

  const fs::path broken = tmp / "broken.crt";
  std::string text = testing::read_file(tmp / "x.crt");
  text.replace(text.find('\n') + 10, 20, std::string(20, '!'));  // inside the base64
  testing::write_file(broken, text);
  r = certs::read_expiry(broken);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error(), Catch::StartsWith(broken.string() + ": certificate 1 cannot be read ("));
  CHECK(r.error().find('\n') == std::string::npos);

  r = certs::read_expiry(tmp.path());
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error(), Catch::StartsWith(tmp.path().string() + ": "));
  r = certs::read_expiry(tmp / "missing.crt");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error(), Catch::Contains("No such file"));

  const fs::path fifo = tmp / "fifo.crt";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  r = certs::read_expiry(fifo);  // refused without blocking
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error(), Catch::Contains("FIFO"));
}

TEST_CASE("certs: urgency at 30 and 7 days, and how it reads", "[certs]") {
  const sched::WallTime now = std::chrono::sys_days{std::chrono::year{2026} / 12 / 4};
  const auto at = [&](auto left) { return now + left; };
  using certs::Urgency;
  const auto urgency = [&](sched::WallTime t) {
    return certs::urgency_of(t, now, std::chrono::days(30), std::chrono::days(7));
  };
  CHECK(urgency(at(std::chrono::days(400))) == Urgency::ok);
  CHECK(urgency(at(std::chrono::days(31))) == Urgency::ok);
  CHECK(urgency(at(std::chrono::days(30))) == Urgency::warning);
  CHECK(urgency(at(std::chrono::days(20))) == Urgency::warning);
  CHECK(urgency(at(std::chrono::days(7))) == Urgency::critical);
  CHECK(urgency(at(1h)) == Urgency::critical);
  CHECK(urgency(now) == Urgency::expired);
  CHECK(urgency(at(-std::chrono::days(2))) == Urgency::expired);

  CHECK(certs::describe_left(at(std::chrono::days(5) + 3h), now) == "expires in 5d");
  CHECK(certs::describe_left(at(20h + 5min), now) == "expires in 20h");
  CHECK(certs::describe_left(at(42min), now) == "expires in 42m");
  CHECK(certs::describe_left(at(-std::chrono::days(2) - 1h), now) == "expired 2d ago");
}

TEST_CASE("certs: the STATUS= part names the most urgent, then how many more", "[certs]") {
  const sched::WallTime now = std::chrono::sys_days{std::chrono::year{2026} / 12 / 4};
  const auto checked = [&](const char* path, certs::Role role, std::optional<sched::WallTime> t) {
    certs::Checked c;
    c.watched = {path, role, "test"};
    if (t) {
      c.expiry = certs::FileExpiry{*t, "CN=x", 1};
    } else {
      c.error = std::string(path) + ": Permission denied";
    }
    return c;
  };
  const auto warn = std::chrono::days(30);
  std::vector<certs::Checked> all{
      checked("/pki/ca.crt", certs::Role::etcd_client_ca, now + std::chrono::days(400)),
  };
  CHECK(certs::alert_line(all, now, warn).empty());

  all.push_back(checked("/pki/peer.crt", certs::Role::etcd_peer, now + std::chrono::days(20)));
  CHECK(certs::alert_line(all, now, warn) == "CERT etcd-peer expires in 20d: /pki/peer.crt");

  all.push_back(checked("/pki/client.crt", certs::Role::warden_client, std::nullopt));
  all.push_back(checked("/pki/server.crt", certs::Role::etcd_server, now + std::chrono::days(5)));
  CHECK(certs::alert_line(all, now, warn) ==
        "CERT etcd-server expires in 5d: /pki/server.crt (+2 more)");

  all.push_back(checked("/pki/old.crt", certs::Role::etcd_server, now - std::chrono::days(1)));
  CHECK(certs::alert_line(all, now, warn) ==
        "CERT etcd-server expired 1d ago: /pki/old.crt (+3 more)");

  const std::vector<certs::Checked> unreadable{
      checked("/pki/client.crt", certs::Role::warden_client, std::nullopt)};
  CHECK(certs::alert_line(unreadable, now, warn) ==
        "CERT warden-client unreadable: /pki/client.crt");
}
