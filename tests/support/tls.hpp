// Throwaway TLS material made with the openssl CLI: a test CA, a server cert
// for 127.0.0.1/localhost, a client cert, and a second unrelated CA (with its
// own client cert) for wrong-CA tests. EC P-256, valid for two days, keys 0600.
#pragma once

#include <filesystem>
#include <string>

namespace etcd_warden::testing {

struct TlsMaterial {
  std::filesystem::path ca_cert, ca_key;  // ca.crt, ca.key
  std::filesystem::path server_cert,
      server_key;  // server.crt/.key: SAN IP:127.0.0.1, DNS:localhost
  std::filesystem::path client_cert, client_key;              // client.crt/.key: signed by ca
  std::filesystem::path other_ca_cert, other_ca_key;          // other-ca.crt/.key: unrelated CA
  std::filesystem::path other_client_cert, other_client_key;  // other-client.*: signed by other-ca
};

// Writes the files into `dir` (created if missing). Throws std::runtime_error
// with openssl's output on failure. `client_cn` is the client cert's CN (etcd
// uses it as the user name when auth is enabled).
TlsMaterial make_tls(const std::filesystem::path& dir,
                     const std::string& client_cn = "etcd-warden-test-client");

// A self-signed CA certificate valid for `days` from now (its key beside it).
void make_self_signed_ca(const std::filesystem::path& cert, const std::filesystem::path& key,
                         const std::string& cn, int days);

}  // namespace etcd_warden::testing
