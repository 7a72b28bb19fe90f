#!/usr/bin/env bash
# Throwaway single-node Ceph cluster with an S3 gateway (radosgw), as a test
# fixture on 127.0.0.1 only. All state, logs, sockets and pids live in DIR.
#
#   tests/scripts/radosgw.sh start DIR   # DIR must not exist yet (or be empty)
#   tests/scripts/radosgw.sh stop DIR    # kills the daemons, removes DIR
#
# `start` brings up one monitor (msgr v2+v1 on two free loopback ports), one
# OSD with `osd objectstore = memstore` (objects live in the OSD's RAM, 1 GiB
# by default; it also binds 127.0.0.1 ports in 6800-7300), pools of size 1,
# and radosgw with the beast frontend on a third free loopback port; it
# creates one S3 user with fixed keys, waits until the gateway answers HTTP,
# and prints on stdout
#
#   endpoint=http://127.0.0.1:PORT
#   access_key=...
#   secret_key=...
#
# (the same lines are in DIR/s3.env; `eval "$(radosgw.sh start DIR)"` sets
# them as shell variables), then exits 0 while the daemons keep running in the
# background, their pids in DIR/pids/. Use the endpoint with path-style
# addressing (the default for an IP endpoint) and region us-east-1, e.g.
#   AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... AWS_DEFAULT_REGION=us-east-1 \
#     aws --endpoint-url http://127.0.0.1:PORT s3 mb s3://bucket
# Takes ~3 s on 2 cores; ~130 MB RSS idle, ~230 MB after storing 40 MB (the
# OSD holds objects in RAM). The first bucket takes ~1 s (it creates pools).
# On failure it prints the tail of the logs to stderr, stops what it started,
# keeps DIR for inspection (remove it with `stop DIR`) and exits non-zero.
#
# No systemd, no cephx (auth none), no files outside DIR; every wait is
# bounded. Runs as root or as an ordinary user (the daemons run as the caller).
#
# NEEDS Debian 12's Ceph packages (16.2.x):
#   apt-get install --no-install-recommends ceph-mon ceph-osd radosgw
# (ceph-common, with the `ceph` and `radosgw-admin` tools, and python3 come
# with them; ceph-mgr is not needed).
#
# Environment: RGW_ACCESS_KEY, RGW_SECRET_KEY (the S3 keys; fixed defaults),
# RGW_MEMSTORE_BYTES (OSD capacity, default 1073741824), RGW_START_TIMEOUT
# (seconds for each daemon to come up, default 60).
set -euo pipefail

ACCESS_KEY=${RGW_ACCESS_KEY:-RGWTESTACCESSKEY0001}
SECRET_KEY=${RGW_SECRET_KEY:-rgwtestsecretkey0000000000000000000000001}
MEMSTORE_BYTES=${RGW_MEMSTORE_BYTES:-1073741824}
START_TIMEOUT=${RGW_START_TIMEOUT:-60}
MARKER=.radosgw-fixture

say() { echo "radosgw.sh: $*" >&2; }
die() {
  say "FAIL: $*"
  exit 1
}

usage() {
  echo "usage: $0 start DIR | stop DIR" >&2
  exit 2
}

# alive DIR PID: PID is a running (not zombie) process started with DIR's conf.
alive() {
  local dir=$1 pid=$2 state
  [[ -r /proc/$pid/stat ]] || return 1
  state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ $state != Z && $state != X ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--conf $dir/ceph.conf"
}

# Kill the daemons recorded in DIR/pids, one at a time (gateway, OSD, then
# monitor: an OSD whose monitor is gone waits 5 s to say goodbye), each with
# SIGTERM, then SIGKILL after 10 s; bounded.
kill_daemons() {
  local dir=$1 name pid ok=0
  [[ -d $dir/pids ]] || return 0
  for name in rgw osd mon; do
    [[ -f $dir/pids/$name.pid ]] || continue
    pid=$(cat "$dir/pids/$name.pid")
    alive "$dir" "$pid" || continue
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$dir" "$pid" 100 && continue # 10 s
    say "$name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$dir" "$pid" 50 && continue # 5 s
    say "$name (pid $pid) still alive after SIGKILL"
    ok=1
  done
  return "$ok"
}

# wait_gone DIR PID TENTHS: wait up to TENTHS/10 s for PID to exit.
wait_gone() {
  local dir=$1 pid=$2 n=$3
  while alive "$dir" "$pid"; do
    ((n-- > 0)) || return 1
    sleep 0.1
  done
}

# Three distinct free loopback TCP ports (held at once while being chosen).
free_ports() {
  python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks:
    s.close()'
}

# spawn DIR NAME CMD...: run a daemon in the background, detached from our
# stdio and session, recording its pid.
spawn() {
  local dir=$1 name=$2
  shift 2
  setsid "$@" </dev/null >"$dir/log/$name.out" 2>&1 &
  echo $! >"$dir/pids/$name.pid"
}

start() {
  local dir=$1
  if [[ -e $dir ]] && [[ -n $(ls -A "$dir") ]]; then
    die "$dir exists and is not empty"
  fi
  for t in ceph ceph-mon ceph-osd radosgw radosgw-admin monmaptool python3 uuidgen setsid; do
    command -v "$t" >/dev/null || die "needs $t (apt-get install --no-install-recommends ceph-mon ceph-osd radosgw)"
  done
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  touch "$dir/$MARKER"
  mkdir -p "$dir/mon" "$dir/osd/0" "$dir/rgw" "$dir/run" "$dir/log" "$dir/pids" "$dir/crash"

  local conf=$dir/ceph.conf fsid mon_v2 mon_v1 rgw_port
  read -r mon_v2 mon_v1 rgw_port < <(free_ports)
  fsid=$(uuidgen)
  cat >"$conf" <<EOF
# generated by tests/scripts/radosgw.sh: throwaway test cluster, loopback only
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_v2,v1:127.0.0.1:$mon_v1]
public network = 127.0.0.1/32
auth cluster required = none
auth service required = none
auth client required = none
# radosgw defaults ms_mon_client_mode to "secure", which auth none cannot do
ms mon client mode = crc
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
crash dir = $dir/crash
keyring = $dir/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 1
[mon]
mon data = $dir/mon/\$id
mon cluster log file = $dir/log/cluster.log
# propose osdmap changes (new pools) quickly; the default 1 s makes start ~4x slower
paxos propose interval = 0.1
[osd]
osd data = $dir/osd/\$id
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES
[client.rgw]
rgw data = $dir/rgw
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw thread pool size = 64
EOF

  trap 'on_start_failure "$dir"' EXIT
  local c=(--conf "$conf")

  # monitor
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_v2,v1:127.0.0.1:$mon_v1]" \
    --enable-all-features --set-min-mon-release pacific "$dir/monmap" >"$dir/log/monmaptool.out" 2>&1 \
    || die "monmaptool failed"
  timeout 60 ceph-mon "${c[@]}" --mkfs -i a --monmap "$dir/monmap" >"$dir/log/mon-mkfs.out" 2>&1 \
    || die "ceph-mon --mkfs failed"
  spawn "$dir" mon ceph-mon "${c[@]}" -i a -f
  wait_until "$dir" mon "monitor quorum" timeout 10 ceph "${c[@]}" --connect-timeout 5 quorum_status

  # OSD (memstore)
  local osd_uuid osd_id
  osd_uuid=$(uuidgen)
  osd_id=$(timeout 30 ceph "${c[@]}" --connect-timeout 10 osd new "$osd_uuid") || die "ceph osd new failed"
  [[ $osd_id == 0 ]] || die "unexpected osd id '$osd_id'"
  timeout 60 ceph-osd "${c[@]}" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$dir/log/osd-mkfs.out" 2>&1 \
    || die "ceph-osd --mkfs failed"
  spawn "$dir" osd ceph-osd "${c[@]}" -i 0 -f
  wait_until "$dir" osd "osd.0 up" osd_up "${c[@]}"

  # gateway
  spawn "$dir" rgw radosgw "${c[@]}" -n client.rgw -f
  wait_until "$dir" rgw "radosgw answering on 127.0.0.1:$rgw_port" \
    http_ok "http://127.0.0.1:$rgw_port/"

  timeout 60 radosgw-admin "${c[@]}" user create --uid=test --display-name="test user" \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >"$dir/log/user-create.json" 2>"$dir/log/user-create.err" \
    || die "radosgw-admin user create failed: $(cat "$dir/log/user-create.err")"

  printf 'endpoint=http://127.0.0.1:%s\naccess_key=%s\nsecret_key=%s\n' "$rgw_port" "$ACCESS_KEY" "$SECRET_KEY" >"$dir/s3.env"
  trap - EXIT
  cat "$dir/s3.env"
}

# http_ok URL: an HTTP GET of URL answers 2xx within 5 s.
http_ok() {
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "$1"
}

osd_up() {
  timeout 10 ceph "$@" --connect-timeout 5 osd dump 2>/dev/null | grep -q '^osd\.0 up '
}

# wait_until DIR DAEMON DESC CMD...: retry CMD until it succeeds, for at most
# START_TIMEOUT seconds; fail early if DAEMON has died.
wait_until() {
  local dir=$1 daemon=$2 desc=$3 deadline
  shift 3
  deadline=$((SECONDS + START_TIMEOUT))
  while ! "$@" >/dev/null 2>&1; do
    alive "$dir" "$(cat "$dir/pids/$daemon.pid")" || die "$daemon exited while waiting for $desc"
    ((SECONDS < deadline)) || die "timed out after ${START_TIMEOUT}s waiting for $desc"
    sleep 0.5
  done
}

on_start_failure() {
  local dir=$1 f
  for f in "$dir"/log/*.out "$dir"/log/*.log; do
    [[ -s $f ]] || continue
    echo "----- tail of $f" >&2
    tail -n 15 "$f" >&2
  done
  kill_daemons "$dir" || true
  say "start failed; state kept in $dir (remove it with: $0 stop $dir)"
}

stop() {
  local dir=$1
  [[ -e $dir ]] || return 0
  dir=$(cd "$dir" && pwd)
  [[ -f $dir/$MARKER ]] || die "$dir was not made by radosgw.sh start; not touching it"
  kill_daemons "$dir" || die "could not stop the daemons in $dir"
  rm -rf -- "$dir"
}

[[ $# == 2 ]] || usage
case $1 in
  start) start "$2" ;;
  stop) stop "$2" ;;
  *) usage ;;
esac
