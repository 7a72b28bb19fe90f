#!/usr/bin/env bash
# systemd-analyze verify on our unit. ExecStart must name an existing binary,
# so check a copy that points at the one just built.
set -euo pipefail
unit=$1
binary=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s|/usr/bin/etcd-warden|$binary|g" "$unit" >"$work/etcd-warden.service"
# verify prints problems and exits 0 on some of them; treat any output about our unit as failure.
out=$(systemd-analyze verify "$work/etcd-warden.service" 2>&1 || true)
# The man page is installed by the package, not in a build tree.
filtered=$(grep -v -e 'etcd.service' -e 'network-online.target' -e "Command 'man " <<<"$out" || true)
if [[ -n $filtered ]]; then
  echo "$filtered"
  exit 1
fi
echo "systemd-analyze verify: clean"
