#!/usr/bin/env bash
# The layer check (cmake/check_layers.cmake) passes on the tree and fails on
# each include that once ran backwards: config -> etcd, control -> app,
# tuning -> control, metrics -> app. Each bad include goes into a copy of the
# tree, never the tree itself.
#   layer_check.sh SOURCE_DIR "RULES"
set -euo pipefail
source_dir=$1
rules=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
check() {
  cmake "-DRULES=$rules" "-DSOURCE_DIR=$1" "-DSTAMP=$work/stamp" \
    -P "$source_dir/cmake/check_layers.cmake" 2>&1
}

out=$(check "$source_dir") || { echo "the tree fails its own layer check:"; echo "$out"; exit 1; }
echo "ok: the tree follows the layer order"

status=0
for edge in config:etcd/client.hpp control:app/daemon.hpp tuning:control/ctl.hpp metrics:app/runtime.hpp; do
  layer=${edge%%:*}
  header=${edge#*:}
  rm -rf "$work/tree"
  mkdir -p "$work/tree"
  cp -r "$source_dir/src" "$source_dir/include" "$work/tree/"
  printf '#include "etcd_warden/%s"\n' "$header" >"$work/tree/src/$layer/backwards.cpp"
  if out=$(check "$work/tree"); then
    echo "FAIL: $layer including $header passed the layer check"
    status=1
  elif ! grep -q "src/$layer/backwards.cpp: #include \"etcd_warden/$header\": layer '$layer' may not use" <<<"$out"; then
    echo "FAIL: $layer including $header failed without naming the file and the rule:"
    echo "$out"
    status=1
  else
    echo "ok: $layer including $header is refused"
  fi
done
exit $status
