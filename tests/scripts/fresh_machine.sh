#!/usr/bin/env bash
# Proves the README's quick start on a freshly bootstrapped Debian 12 root:
# nothing but apt, git and ca-certificates (mmdebstrap), the committed HEAD
# cloned into it, then the README's two commands inside it (systemd-nspawn:
# scripts/install-deps with the host's network for apt, the two commands in a
# private network namespace; every test server listens on its loopback).
# Catches install steps that a developer machine hides.
#   tests/scripts/fresh_machine.sh            as root; leaves nothing behind
#   KEEP=1 tests/scripts/fresh_machine.sh     keeps the root for a look afterwards
#   DEMO_DURATION=60s                         the demo's --duration (default 60s)
# Takes ~35 min on 2 cores (the build is most of it). By hand, not in CI: CI
# runs on a developer machine already.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
source "$src/scripts/lib/debian_root.sh"
debian_root_setup fresh_machine

start=$SECONDS
bootstrap_debian bookworm "$work/root" git,ca-certificates
git clone --quiet "$src" "$work/root/root/etcd-warden"
echo "fresh_machine: bootstrap took $((SECONDS - start))s; running the quick start" >&2

# --timezone=off: nspawn otherwise bind-mounts the host's /etc/localtime,
# and tzdata's postinst (awscli pulls it in) cannot replace a mount point.
nspawn() {
  systemd-nspawn --quiet --keep-unit --register=no --timezone=off -D "$work/root" \
    --chdir=/root/etcd-warden \
    --setenv=CI=true --setenv=DEBIAN_FRONTEND=noninteractive "$@"
}
# The downloads (apt, Debian 13's etcd) with the host's network; then the two
# commands in a network namespace of their own, with only a loopback: they
# install nothing more (install-deps is idempotent) and every server they
# start listens on 127.0.0.1 there, out of the host's reach.
# A network that intercepts HTTPS (this workplace's egress proxy) is trusted
# through CAs the host added to /usr/local/share/ca-certificates: the root
# gets them too, or npm's download of s3rver fails. A machine on the open
# internet has none and needs none.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$work/root/usr/local/share/ca-certificates/"
  nspawn update-ca-certificates >/dev/null
fi
start=$SECONDS
nspawn --setenv=NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt /bin/bash -c scripts/install-deps
echo "fresh_machine: install-deps took $((SECONDS - start))s" >&2
start=$SECONDS
nspawn --private-network \
  /bin/bash -c "ip link set lo up && scripts/demo --duration ${DEMO_DURATION:-60s} && scripts/test"
echo "fresh_machine: the quick start passed in $((SECONDS - start))s" >&2
