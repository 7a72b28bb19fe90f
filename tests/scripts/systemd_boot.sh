#!/usr/bin/env bash
# The .deb under a real systemd as PID 1, beside Debian's own etcd: a fresh
# Debian 12 root (mmdebstrap) with etcd-server and the package installed,
# booted with `systemd-nspawn -b` in a network namespace of its own. Inside,
# a one-shot unit runs the checks below and powers the container off; this
# script reads its verdict. What it proves is what a user's host does:
#   - `systemctl enable --now etcd-warden` reaches READY; STATUS names the
#     member and the quota read from /metrics on the client URL (Debian's
#     etcd has no --listen-metrics-urls);
#   - `etcd-warden ctl status` over the system bus, and `ctl run snapshot`
#     writes a 0600 snapshot into a 0700 directory;
#   - `ctl run drill` restores it under the unit's sandbox and leaves nothing;
#   - `systemctl reload` with an invalid file fails, the daemon keeps running
#     on its old config; a good file reloads;
#   - the printed restore plan, followed step by step, brings Debian's etcd
#     (User=etcd, /var/lib/etcd/default) back with the data;
#   - purge leaves no package file behind.
#
#   tests/scripts/systemd_boot.sh [PATH/TO/etcd-warden_*.deb]
#   KEEP=1 ...     keeps the root for a look afterwards
#
# As root; by hand, not in CI (it builds the package when not given one).
# Takes ~10 min on 2 cores with the package built.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
source "$src/scripts/lib/debian_root.sh"
debian_root_setup systemd_boot

if (($# > 0)); then
  deb=$(realpath "$1")
else
  "$src/scripts/package" --no-lintian >&2
  deb=$(ls "$src/${PKG_BUILD_DIR:-build-pkg}"/packages/etcd-warden_*.deb)
fi
[[ -f $deb ]] || { echo "systemd_boot: no such package: $deb" >&2; exit 2; }

root=$work/root
bootstrap_debian bookworm "$root" \
  systemd,systemd-sysv,dbus,etcd-server,etcd-client,zstd,procps,ca-certificates
cp "$deb" "$root/root/"
# mmdebstrap writes no /etc/hosts; Debian's etcd listens on "localhost".
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
in_root "$root" /bin/sh -c "apt-get update -qq && apt-get install -y -qq /root/$(basename "$deb") \
    >/root/apt.log 2>&1 || { cat /root/apt.log; exit 1; }"

# The warden's config for Debian's etcd: plain http on localhost, its data dir.
cat >"$root/etc/etcd-warden/config.yaml" <<'EOF'
etcd:
  endpoints: ["http://127.0.0.1:2379"]
  data_dir: /var/lib/etcd/default
EOF

# The checks, run by a one-shot unit once the system is up.
cat >"$root/root/checks.sh" <<'EOF'
#!/bin/bash
set -u
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
# until SECONDS CMD...: retries CMD (quietly) until it succeeds or time is up.
until_ok() {
  local end=$((SECONDS + $1)); shift
  while ! "$@" >/dev/null 2>&1; do ((SECONDS < end)) || return 1; sleep 0.5; done
}
status_text() { systemctl show -p StatusText --value etcd-warden; }

if ! until_ok 60 etcdctl --endpoints http://127.0.0.1:2379 endpoint health; then
  bad "Debian's etcd is not healthy: $(journalctl -u etcd -n 5 --no-pager)"
  echo "$fails" >/root/checks.rc
  exit 1
fi
for i in $(seq 1 50); do etcdctl put "/boot/key-$i" "value-$i" >/dev/null; done
systemctl enable --now etcd-warden && ok "enable --now returned" || bad "enable --now failed"
[[ $(systemctl is-active etcd-warden) == active ]] && ok "active (READY=1)" || bad "not active"
until_ok 30 sh -c 'systemctl show -p StatusText --value etcd-warden | grep -q "of 2GiB"' &&
  ok "STATUS: $(status_text)" || bad "STATUS has no quota: $(status_text)"

until_ok 30 sh -c 'etcd-warden ctl status | grep -q ": ok"' &&
  ok "ctl status over the system bus" || bad "ctl status: $(etcd-warden ctl status 2>&1)"
etcd-warden ctl run snapshot >/dev/null 2>&1 || bad "ctl run snapshot"
until_ok 60 sh -c 'ls /var/lib/etcd-warden/snapshots/*.db.zst.json' || bad "no snapshot sidecar"
snap=$(ls /var/lib/etcd-warden/snapshots/*.db.zst | head -n1)
[[ $(stat -c %a "$snap") == 600 && $(stat -c %a /var/lib/etcd-warden/snapshots) == 700 ]] &&
  ok "snapshot $snap is 0600 in a 0700 dir" || bad "snapshot modes: $(stat -c '%a %n' "$snap")"

# The restore drill under the unit's sandbox: Debian's etcd from PATH (the
# warden cannot read /proc/PID/exe of etcd's user without CAP_SYS_PTRACE),
# restored into the state directory and served on loopback.
etcd-warden ctl run drill >/dev/null 2>&1 || bad "ctl run drill"
drill_line() { journalctl -u etcd-warden --no-pager -o cat | grep 'job=drill result=' | tail -n1; }
until_ok 120 sh -c 'journalctl -u etcd-warden --no-pager -o cat | grep -q "job=drill result="' ||
  bad "no drill result in the journal"
[[ $(drill_line) == *result=success* ]] && ok "drill: $(drill_line)" || bad "drill: $(drill_line)"
[[ ! -e /var/lib/etcd-warden/snapshots/.drill ]] && ok "drill left no scratch dir" ||
  bad "drill left $(ls -A /var/lib/etcd-warden/snapshots/.drill)"

# An invalid file: the reload fails, the daemon stays on the old config.
cp /etc/etcd-warden/config.yaml /root/good.yaml
printf 'defrag:\n  min_fre: 1GiB\n' >>/etc/etcd-warden/config.yaml
if systemctl reload etcd-warden 2>/dev/null; then bad "reload of an invalid file succeeded"
else ok "reload of an invalid file fails"; fi
[[ $(systemctl is-active etcd-warden) == active ]] && ok "still active" || bad "not active after it"
cp /root/good.yaml /etc/etcd-warden/config.yaml
systemctl reload etcd-warden && ok "reload of a good file" || bad "reload of a good file failed"

# The restore plan, step by step, against Debian's etcd (User=etcd).
plan=$(etcd-warden restore-plan "$snap" 2>&1) || bad "restore-plan: $plan"
echo "$plan" | sed 's/^/  | /'
etcdctl put /boot/after-snapshot lost >/dev/null
systemctl stop etcd-warden
while IFS= read -r line; do
  [[ -z $line || $line == \#* ]] && continue
  case $line in
    "systemctl start etcd") systemctl start etcd || bad "etcd does not start from the restore" ;;
    *endpoint\ health*) until_ok 60 sh -c "$line" || bad "not healthy after the restore: $line" ;;
    *) sh -c "$line" || bad "plan step failed: $line" ;;
  esac
done <<<"$plan"
[[ $(etcdctl get --print-value-only /boot/key-50) == value-50 ]] &&
  ok "restored data: /boot/key-50" || bad "restored data missing"
[[ -z $(etcdctl get --print-value-only /boot/after-snapshot) ]] &&
  ok "writes after the snapshot are gone" || bad "a write after the snapshot survived"
[[ $(stat -c %U /var/lib/etcd/default) == etcd ]] && ok "data dir owned by etcd" ||
  bad "data dir owned by $(stat -c %U /var/lib/etcd/default)"

systemctl disable --now etcd-warden >/dev/null 2>&1
dpkg --purge etcd-warden >/dev/null && ok "purged" || bad "purge failed"
left=$(ls -d /usr/bin/etcd-warden /etc/etcd-warden /lib/systemd/system/etcd-warden.service \
  /usr/share/etcd-warden 2>/dev/null)
[[ -z $left ]] && ok "nothing of the package left" || bad "left after purge: $left"
echo "$fails" >/root/checks.rc
EOF
chmod +x "$root/root/checks.sh"
cat >"$root/etc/systemd/system/warden-checks.service" <<'EOF'
[Unit]
Description=etcd-warden checks under a real systemd
After=etcd.service dbus.service network.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c '/root/checks.sh >/root/checks.log 2>&1'
ExecStopPost=/bin/systemctl poweroff --no-block
TimeoutStartSec=8min
[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/warden-checks.service \
  "$root/etc/systemd/system/multi-user.target.wants/warden-checks.service"

echo "systemd_boot: booting (systemd-nspawn -b, private network)" >&2
start=$SECONDS
timeout 600 systemd-nspawn --quiet --keep-unit --register=no -b -D "$root" --private-network \
  >"$work/console.log" 2>&1 || true
cat "$root/root/checks.log" 2>/dev/null || { tail -n 40 "$work/console.log"; }
rc=$(cat "$root/root/checks.rc" 2>/dev/null || echo missing)
echo "systemd_boot: booted and checked in $((SECONDS - start))s; failures: $rc" >&2
[[ $rc == 0 ]]
