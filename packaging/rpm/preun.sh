# etcd-warden %preun ($1: 0 = removal, 1 = upgrade). Stops the daemon on
# removal; on upgrade it keeps running until %postun restarts it.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
  systemctl --no-reload disable --now etcd-warden.service >/dev/null 2>&1 || :
fi
exit 0
