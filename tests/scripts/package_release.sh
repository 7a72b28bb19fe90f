#!/usr/bin/env bash
# A .deb on the Debian release it was built for, in a fresh root of that
# release (mmdebstrap), never on this machine: tests/scripts/package_install.sh
# runs inside it (install with apt resolving the dependencies, files, modes,
# `etcd-warden version`, `check-config` of the shipped config, the unit's
# sandbox score, the daemon beside that release's etcd with `ctl` over a
# private bus, purge).
#   tests/scripts/package_release.sh SUITE DEB
#     tests/scripts/package_release.sh bookworm build-pkg/packages/etcd-warden_0.1.0-1_amd64.deb
#     tests/scripts/package_release.sh trixie build-pkg-trixie/packages/etcd-warden_0.1.0-1_amd64.deb
#   KEEP=1 ...   keeps the root for a look afterwards
# As root; by hand, not in CI. About 3 minutes (most of it apt).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
source "$src/scripts/lib/debian_root.sh"

(($# == 2)) || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
suite=$1
deb=$(realpath "$2")
[[ -f $deb ]] || { echo "package_release: no such package: $2" >&2; exit 2; }
debian_root_setup "package_release-$suite"

start=$SECONDS
root=$work/root
# etcd-server and dbus for the daemon-at-work check; systemd for
# systemd-analyze; nothing of the package's own dependencies: apt resolves
# those from the .deb, as on a user's machine.
bootstrap_debian "$suite" "$root" ca-certificates,systemd,dbus,etcd-server,etcd-client,zstd
mkdir -p "$root/root/etcd-warden/tests"
cp -r "$src/tests/scripts" "$root/root/etcd-warden/tests/"
cp "$deb" "$root/root/"
in_root "$root" /bin/sh -c "apt-get update -qq &&
  /root/etcd-warden/tests/scripts/package_install.sh /root/$(basename "$deb")"
echo "package_release: $(basename "$deb") passed on Debian $suite in $((SECONDS - start))s" >&2
