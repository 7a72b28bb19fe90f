# etcd-warden %postun ($1: 0 = removal, 1 = upgrade). Reloads systemd; on
# upgrade restarts the daemon if it is running, on the new binary. Snapshots
# in /var/lib/etcd-warden are backups of the cluster: only an empty snapshot
# directory is removed.
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null 2>&1 || :
  if [ "$1" -ge 1 ]; then
    systemctl try-restart etcd-warden.service >/dev/null 2>&1 || :
  fi
fi
if [ "$1" -eq 0 ]; then
  rmdir /var/lib/etcd-warden/snapshots 2>/dev/null || :
  rmdir /var/lib/etcd-warden 2>/dev/null || :
fi
exit 0
