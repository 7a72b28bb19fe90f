#!/usr/bin/env bash
# The .deb that CPack makes from this build tree: its relations and its files
# (no install, no root). Catches a packaging.cmake that no longer produces a
# package, or one that lost a relation users need (zstd for restores).
#   package_metadata.sh BUILD_DIR
set -euo pipefail
build_dir=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "package_metadata: FAIL: $*" >&2
  exit 1
}
[[ -f $build_dir/CPackConfig.cmake ]] || fail "$build_dir has no CPackConfig.cmake (include(CPack) missing?)"
# On failure, CPack's own first error says why (a missing `file` or
# dpkg-shlibdeps, a bad install rule); its last lines only say that it failed.
(cd "$work" && cpack --config "$build_dir/CPackConfig.cmake" -G DEB -B "$work" >cpack.log 2>&1) ||
  fail "cpack: $(grep -m 3 -E 'CPack(Deb)?( Error)?:' "$work/cpack.log" || tail -n 5 "$work/cpack.log")"
debs=("$work"/*.deb)
((${#debs[@]} == 1)) && [[ -f ${debs[0]} ]] || fail "expected one .deb, got: ${debs[*]}"
deb=${debs[0]}
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == etcd-warden ]] || fail "Package is '$(field Package)'"
for lib in libgrpc++1.51 libsdbus-c++1 libyaml-cpp0.7 libzstd1 libsystemd0; do
  grep -q "$lib" <<<"$(field Depends)" || fail "Depends lacks $lib: $(field Depends)"
done
grep -q "zstd" <<<"$(field Recommends)" || fail "Recommends lacks zstd: $(field Recommends)"
grep -q "etcd-client" <<<"$(field Suggests)" || fail "Suggests lacks etcd-client: $(field Suggests)"
# Exact paths. The binary, man page and D-Bus policy go under the build's
# install prefix (scripts/package uses /usr); the unit is moved to
# /lib/systemd/system only from /usr, and only on Debian 12
# (packaging/package_layout.cmake).
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build_dir/CMakeCache.txt")
unit_dir=.${prefix}/lib/systemd/system
if [[ $prefix == /usr ]] &&
  grep -q 'CPACK_ETCD_WARDEN_UNIT_IN_LIB "ON"' "$build_dir/CPackConfig.cmake"; then
  unit_dir=./lib/systemd/system
fi
paths=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ".$prefix/bin/etcd-warden" ./etc/etcd-warden/config.yaml "$unit_dir/etcd-warden.service" \
  ".$prefix/share/dbus-1/system.d/io.etcdwarden.Warden1.conf" \
  ".$prefix/share/man/man8/etcd-warden.8.gz"; do
  grep -qxF -- "$f" <<<"$paths" || fail "the package has no $f"
done
dpkg-deb -I "$deb" conffiles | grep -qx /etc/etcd-warden/config.yaml ||
  fail "config.yaml is not a conffile"
echo "package_metadata: ok: $(basename "$deb"), $(du -h "$deb" | cut -f1)"
