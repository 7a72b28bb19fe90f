# etcd-warden %post ($1: 1 = install, 2 = upgrade). Makes the snapshot
# directory and reloads systemd. Never enables or starts the service: the user
# configures /etc/etcd-warden/config.yaml first, then runs
# `systemctl enable --now etcd-warden`. An upgrade restarts a running daemon
# (see %postun).
mkdir -p /var/lib/etcd-warden/snapshots
chown root:root /var/lib/etcd-warden /var/lib/etcd-warden/snapshots
chmod 0700 /var/lib/etcd-warden /var/lib/etcd-warden/snapshots
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null 2>&1 || :
fi
exit 0
