# Sourced by the scripts that bootstrap a throwaway Debian root with
# mmdebstrap (scripts/package --release, tests/scripts/fresh_machine.sh,
# systemd_boot.sh, package_release.sh):
#   debian_root_setup NAME        as root or exit 2; installs mmdebstrap and
#                                 systemd-nspawn if missing; makes $work (under
#                                 /var/tmp), removed at exit unless KEEP=1
#   bootstrap_debian SUITE ROOT PKGS
#                                 mmdebstrap of SUITE (bookworm, trixie) into
#                                 ROOT with the comma-separated PKGS, from the
#                                 mirror the host uses for Debian
#   in_root ROOT CMD...           CMD inside ROOT (systemd-nspawn, the host's
#                                 network, /root as the working directory)

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
    echo "$debian_root_name: kept $work" >&2
  else
    rm -rf "$work"
  fi
}

# The host's Debian mirror (its bookworm entry, in whichever format apt reads
# it); a suite the host does not list comes from the same mirror.
debian_mirror() {
  apt-get indextargets --format '$(TARGET_OF) $(RELEASE) $(REPO_URI)' |
    awk '$1 == "deb" && $2 == "bookworm" { print $3; exit }'
}

bootstrap_debian() {
  local suite=$1 root=$2 packages=$3 mirror
  mirror=$(debian_mirror)
  echo "$debian_root_name: bootstrapping $suite from ${mirror:-the default mirror} into $root" >&2
  mmdebstrap --quiet --variant=apt --include="$packages" "$suite" "$root" ${mirror:+"$mirror"}
}

in_root() {
  local root=$1
  shift
  systemd-nspawn --quiet --keep-unit --register=no -D "$root" --chdir=/root \
    --setenv=DEBIAN_FRONTEND=noninteractive "$@"
}
