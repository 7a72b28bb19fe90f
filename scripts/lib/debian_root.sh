# Sourced by the scripts that bootstrap a throwaway Debian 12 root
# (fresh_machine.sh, systemd_boot.sh):
#   debian_root_setup NAME      as root or exit 2; installs mmdebstrap and
#                               systemd-nspawn if missing; makes $work (under
#                               /var/tmp), removed at exit unless KEEP=1
#   bootstrap_bookworm ROOT PKGS  mmdebstrap of bookworm into ROOT with the
#                               comma-separated PKGS, from the mirror the host
#                               uses for bookworm (apt reads its own sources)

debian_root_setup() {
  debian_root_name=$1
  [[ $(id -u) -eq 0 ]] || { echo "$debian_root_name: needs root" >&2; exit 2; }
  local tool
  for tool in mmdebstrap:mmdebstrap systemd-nspawn:systemd-container; do
    command -v "${tool%%:*}" >/dev/null ||
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tool#*:}" >/dev/null
  done
  work=$(mktemp -d "/var/tmp/etcd-warden-$debian_root_name.XXXXXX")
  trap debian_root_cleanup EXIT
}

debian_root_cleanup() {
  if [[ -n ${KEEP:-} ]]; then
    echo "$debian_root_name: kept $work/root" >&2
  else
    rm -rf "$work"
  fi
}

bootstrap_bookworm() {
  local root=$1 packages=$2 mirror
  mirror=$(apt-get indextargets --format '$(TARGET_OF) $(RELEASE) $(REPO_URI)' |
    awk '$1 == "deb" && $2 == "bookworm" { print $3; exit }')
  echo "$debian_root_name: bootstrapping bookworm from ${mirror:-the default mirror} into $root" >&2
  mmdebstrap --quiet --variant=apt --include="$packages" bookworm "$root" ${mirror:+"$mirror"}
}
