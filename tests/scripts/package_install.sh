#!/usr/bin/env bash
# Installs the .deb on THIS machine, checks it, and purges it again.
#
#   tests/scripts/package_install.sh [PATH/TO/etcd-warden_*.deb]
#
# NEEDS ROOT and changes the machine (dpkg -i, apt-get install -f for missing
# dependencies, dpkg --purge), so it is not part of ctest; run it by hand on a
# Debian 12 machine or container:
#
#   scripts/package && tests/scripts/package_install.sh
#
# Without an argument it builds the packages with `scripts/package --no-lintian`
# (incremental) and takes the .deb from build-pkg/packages (PKG_BUILD_DIR).
# It refuses to run when etcd-warden is already installed, and purges the
# package again if a check fails. Takes a few minutes on a fresh build.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

fail() {
  echo "package_install: FAIL: $*" >&2
  exit 1
}
ok() { echo "package_install: ok: $*"; }

[[ $(id -u) -eq 0 ]] || fail "needs root (it installs and purges the package with dpkg)"
command -v dpkg >/dev/null || fail "needs dpkg (a Debian machine)"
if dpkg-query -W -f='${Status}' etcd-warden 2>/dev/null | grep -q "installed"; then
  fail "etcd-warden is already installed here; this test would purge it. Remove it first."
fi

if (($# > 0)); then
  deb=$1
else
  "$root/scripts/package" --no-lintian
  deb=$(ls "$root/${PKG_BUILD_DIR:-build-pkg}"/packages/etcd-warden_*.deb)
fi
[[ -f $deb ]] || fail "no such package: $deb"
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
version=$(dpkg-deb -f "$deb" Version)
upstream=${version%-*}
echo "package_install: testing $deb (version $version)"

state=/var/lib/etcd-warden
state_existed=0
[[ -e $state ]] && state_existed=1

installed=0
cleanup() {
  if ((installed)); then
    echo "package_install: purging after a failure" >&2
    dpkg --purge etcd-warden >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# --- install ---------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
installed=1
if ! dpkg -i "$deb"; then
  # Missing libraries: dpkg leaves the package unconfigured; apt fetches them.
  apt-get update -qq
  apt-get install -f -y -qq >/dev/null || fail "apt-get install -f could not complete the install"
fi
status=$(dpkg-query -W -f='${Status}' etcd-warden)
[[ $status == "install ok installed" ]] || fail "dpkg status is '$status'"
ok "installed ($status)"

# --- files -------------------------------------------------------------------
for f in /usr/bin/etcd-warden \
  /lib/systemd/system/etcd-warden.service \
  /etc/etcd-warden/config.yaml \
  /usr/share/man/man8/etcd-warden.8.gz \
  /usr/share/etcd-warden/prometheus/etcd-warden-rules.yml \
  /usr/share/etcd-warden/prometheus/etcd-warden-rules.test.yml \
  /usr/share/etcd-warden/grafana/etcd-warden-dashboard.json \
  /usr/share/doc/etcd-warden/copyright \
  /usr/share/doc/etcd-warden/changelog.Debian.gz \
  /usr/share/doc/etcd-warden/README.md; do
  [[ -f $f ]] || fail "missing $f"
done
if dpkg -L etcd-warden | grep -q '^/usr/share/dbus-1/system.d/io.etcdwarden.Warden1.conf$'; then
  ok "D-Bus policy installed"
else
  echo "package_install: note: no D-Bus policy in this package (packaging/dbus/ not written yet)"
fi
ok "files in place"

# --- the binary and the default config ----------------------------------------
out=$(etcd-warden version) || fail "etcd-warden version exited $?"
grep -q "etcd-warden $upstream" <<<"$out" || fail "etcd-warden version printed '$out', expected $upstream"
ok "etcd-warden version: $(head -n1 <<<"$out")"

etcd-warden -c /etc/etcd-warden/config.yaml check-config >/dev/null ||
  fail "etcd-warden check-config rejects the installed default config"
ok "check-config accepts /etc/etcd-warden/config.yaml"

# --- modes, conffile, not enabled ---------------------------------------------
for d in "$state" "$state/snapshots"; do
  mode=$(stat -c '%a %U:%G' "$d")
  [[ $mode == "700 root:root" ]] || fail "$d is $mode, expected 700 root:root"
done
ok "$state/snapshots is 0700 root:root"

conffiles=$(dpkg-query -W -f='${Conffiles}' etcd-warden)
grep -q '^ */etc/etcd-warden/config.yaml [0-9a-f]\{32\}' <<<"$conffiles" ||
  fail "config.yaml is not a conffile: '$conffiles'"
ok "/etc/etcd-warden/config.yaml is a conffile"

[[ ! -e /etc/systemd/system/multi-user.target.wants/etcd-warden.service ]] ||
  fail "the package enabled the service"
ok "service not enabled by the package"

# Reinstalling (as an upgrade would) keeps an edited config.
echo "# edited by package_install.sh" >>/etc/etcd-warden/config.yaml
dpkg -i --force-confold "$deb" >/dev/null
grep -q "edited by package_install.sh" /etc/etcd-warden/config.yaml ||
  fail "reinstalling the package overwrote the edited config"
ok "reinstall keeps the edited config"

# The installed unit is still within the exposure budget.
"$root/tests/scripts/unit_security.sh" /lib/systemd/system/etcd-warden.service >/dev/null ||
  fail "installed unit: systemd-analyze security exposure above 2.0"
ok "installed unit passes systemd-analyze security"

# The shipped rule tests run from their installed directory.
if command -v promtool >/dev/null; then
  (cd /usr/share/etcd-warden/prometheus && promtool test rules etcd-warden-rules.test.yml >/dev/null) ||
    fail "promtool test rules fails on the installed rules"
  ok "promtool test rules passes in /usr/share/etcd-warden/prometheus"
fi

# --- the daemon at work: a real etcd, a private bus -----------------------------
# What links against this release's libraries end to end (gRPC to etcd,
# sd-bus through sdbus-c++, prometheus-cpp): the installed binary runs beside
# an etcd on loopback, `ctl` reads its status over a private dbus-daemon and
# runs a snapshot job that leaves a verified 0600 file. Skipped (said so)
# where etcd or dbus-daemon is not installed.
if command -v etcd >/dev/null && command -v dbus-daemon >/dev/null; then
  run=$(mktemp -d)
  pids=()
  stop_run() {
    ((${#pids[@]} == 0)) || kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$run"
  }
  trap 'stop_run; cleanup' EXIT
  # Until a deadline: `until_ok SECONDS WHAT CMD...`
  until_ok() {
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
      ((SECONDS < deadline)) || fail "$what within the deadline"
      sleep 0.2
    done
  }
  etcd --name pkg --data-dir "$run/etcd" --listen-client-urls http://127.0.0.1:23790 \
    --advertise-client-urls http://127.0.0.1:23790 --listen-peer-urls http://127.0.0.1:23800 \
    --initial-advertise-peer-urls http://127.0.0.1:23800 \
    --initial-cluster pkg=http://127.0.0.1:23800 >"$run/etcd.log" 2>&1 &
  pids+=($!)
  dbus-daemon --session --address="unix:path=$run/bus" --nofork --nopidfile >"$run/bus.log" 2>&1 &
  pids+=($!)
  mkdir -m 700 "$run/snapshots"
  cat >"$run/config.yaml" <<EOF
etcd:
  endpoints: ["http://127.0.0.1:23790"]
  data_dir: $run/etcd
metrics:
  listen: "127.0.0.1:23791"
control:
  bus: "unix:path=$run/bus"
snapshot:
  dir: $run/snapshots
tuning:
  enabled: false
EOF
  until_ok 30 "etcd did not answer" etcd-warden -c "$run/config.yaml" job status
  etcd-warden -c "$run/config.yaml" run >"$run/warden.log" 2>&1 &
  pids+=($!)
  ctl=(etcd-warden ctl --bus "unix:path=$run/bus")
  until_ok 30 "ctl status did not reach the daemon" "${ctl[@]}" status
  "${ctl[@]}" run snapshot >"$run/ctl-run.txt" ||
    fail "ctl run snapshot: $(cat "$run/ctl-run.txt")"
  snap=$(find "$run/snapshots" -name '*.db*' ! -name '*.json' | head -n 1)
  [[ -n $snap ]] || fail "ctl run snapshot left no snapshot in $run/snapshots"
  [[ $(stat -c '%a' "$snap") == 600 ]] || fail "$snap is $(stat -c '%a' "$snap"), expected 600"
  etcd-warden -c "$run/config.yaml" snapshot verify "$snap" >/dev/null ||
    fail "snapshot verify rejects $snap"
  "${ctl[@]}" snapshots | grep -qF "$(basename "$snap")" || fail "ctl snapshots does not list $snap"
  ok "beside etcd $(etcd --version | sed -n 's/^etcd Version: //p'): ctl status, ctl run snapshot (0600, verified), ctl snapshots"
  stop_run
  pids=()
  trap cleanup EXIT
else
  echo "package_install: note: no etcd or dbus-daemon here; the daemon-at-work check is skipped"
fi

# --- purge -----------------------------------------------------------------------
# A snapshot is never deleted by the package, purge included.
keep_check=0
if ((!state_existed)); then
  echo test >"$state/snapshots/etcd-test-r000000000001-20260101T000000Z.db"
  keep_check=1
fi
dpkg --purge etcd-warden >/dev/null
installed=0
if dpkg-query -W -f='${Status}' etcd-warden 2>/dev/null | grep -q "installed"; then
  fail "etcd-warden still installed after purge"
fi
for f in /usr/bin/etcd-warden /lib/systemd/system/etcd-warden.service /etc/etcd-warden \
  /usr/share/man/man8/etcd-warden.8.gz /usr/share/etcd-warden /usr/share/doc/etcd-warden \
  /usr/share/dbus-1/system.d/io.etcdwarden.Warden1.conf /usr/share/lintian/overrides/etcd-warden \
  /etc/systemd/system/etcd-warden.service; do
  [[ ! -e $f ]] || fail "$f still there after dpkg --purge"
done
if ((keep_check)); then
  [[ -f $state/snapshots/etcd-test-r000000000001-20260101T000000Z.db ]] ||
    fail "purge deleted a snapshot"
  rm -rf "$state"
  ok "purge kept the snapshot (and this test removed it)"
fi
ok "purged: package files and /etc/etcd-warden are gone"
echo "package_install: PASS"
