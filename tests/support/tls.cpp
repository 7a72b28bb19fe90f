#include "support/tls.hpp"

#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace etcd_warden::testing {

namespace fs = std::filesystem;

namespace {

void openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  CommandOptions o;
  o.timeout = std::chrono::seconds(30);
  o.unset_env = {"OPENSSL_CONF"};
  run_checked(std::move(args), "make_tls", o);
}

std::string random_serial() {
  std::random_device rd;
  std::uniform_int_distribution<unsigned long long> dist(1, 0x7fffffffffffffffULL);
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", dist(rd));
  return buf;
}

const std::vector<std::string> kEcKey = {"-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:prime256v1", "-nodes"};

void make_ca(const fs::path& cert, const fs::path& key, const std::string& cn, int days = 2) {
  std::vector<std::string> args = {"req", "-x509", "-new"};
  args.insert(args.end(), kEcKey.begin(), kEcKey.end());
  args.insert(args.end(), {"-keyout", key.string(), "-out", cert.string(), "-days",
                           std::to_string(days), "-subj", "/CN=" + cn, "-set_serial",
                           random_serial(), "-addext", "basicConstraints=critical,CA:TRUE",
                           "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  openssl(args);
}

void make_leaf(const fs::path& dir, const std::string& stem, const std::string& cn,
               const std::string& extensions, const fs::path& ca_cert, const fs::path& ca_key) {
  const fs::path key = dir / (stem + ".key");
  const fs::path csr = dir / (stem + ".csr");
  const fs::path ext = dir / (stem + ".ext");
  std::vector<std::string> req = {"req", "-new"};
  req.insert(req.end(), kEcKey.begin(), kEcKey.end());
  req.insert(req.end(), {"-keyout", key.string(), "-out", csr.string(), "-subj", "/CN=" + cn});
  openssl(req);
  write_file(ext, extensions);
  openssl({"x509", "-req", "-in", csr.string(), "-CA", ca_cert.string(), "-CAkey", ca_key.string(),
           "-set_serial", random_serial(), "-days", "2", "-out", (dir / (stem + ".crt")).string(),
           "-extfile", ext.string()});
  fs::remove(csr);
  fs::remove(ext);
}

}  // namespace

void make_self_signed_ca(const fs::path& cert, const fs::path& key, const std::string& cn,
                         int days) {
  make_ca(cert, key, cn, days);
}

TlsMaterial make_tls(const fs::path& dir, const std::string& client_cn) {
  fs::create_directories(dir);
  TlsMaterial m;
  m.ca_cert = dir / "ca.crt";
  m.ca_key = dir / "ca.key";
  m.server_cert = dir / "server.crt";
  m.server_key = dir / "server.key";
  m.client_cert = dir / "client.crt";
  m.client_key = dir / "client.key";
  m.other_ca_cert = dir / "other-ca.crt";
  m.other_ca_key = dir / "other-ca.key";
  m.other_client_cert = dir / "other-client.crt";
  m.other_client_key = dir / "other-client.key";

  const std::string leaf_common =
      "basicConstraints=critical,CA:FALSE\n"
      "keyUsage=critical,digitalSignature,keyEncipherment\n";
  make_ca(m.ca_cert, m.ca_key, "etcd-warden-test-ca");
  make_leaf(dir, "server", "127.0.0.1",
            leaf_common +
                "extendedKeyUsage=serverAuth,clientAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
            m.ca_cert, m.ca_key);
  make_leaf(dir, "client", client_cn, leaf_common + "extendedKeyUsage=clientAuth\n", m.ca_cert,
            m.ca_key);
  make_ca(m.other_ca_cert, m.other_ca_key, "etcd-warden-test-other-ca");
  make_leaf(dir, "other-client", client_cn, leaf_common + "extendedKeyUsage=clientAuth\n",
            m.other_ca_cert, m.other_ca_key);

  for (const auto& key :
       {m.ca_key, m.server_key, m.client_key, m.other_ca_key, m.other_client_key}) {
    fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  }
  return m;
}

}  // namespace etcd_warden::testing
