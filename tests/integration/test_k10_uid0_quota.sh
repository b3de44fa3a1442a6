#!/bin/bash
# Red team, K10 class (issue 11, second round): a root service is the
# host's uid 0, and the kernel keeps some quotas per uid across every
# namespace virtuald creates (PID, IPC, mount): here inotify instances
# (fs.inotify.max_user_instances, 128 by default, no capability exempts
# root). A root service takes them all and holds them; no host root
# process (systemd, udev, journald, sshd, cron...) can create an inotify
# instance until it ends. Kept to one second so as not to disturb the
# host; the same with a run-as uid as a stand-in first.
# Control: the host's root creates one before the attack.
. "$(dirname "$0")/lib.sh"
RP=${VH_REDPROBE:-$VH_BUILD/tests/integration/vh_redprobe}
SUID=64127
vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/r" "R"
cp "$RP" "$J/r/bin/redprobe"
vh_ctl add probe 127.0.0.2 "$J/r" >/dev/null 2>&1
CG=${VH_PIDS_CG:+$VH_PIDS_CG/vhtest-rtk10.$$}
trap 'vh_cleanup; [ -n "$CG" ] && rmdir "$CG"/vh-* "$CG" 2>/dev/null' EXIT
VD=("$VIRTUALD" --db "$DB" --pids-cgroup "${CG:-none}")
# inotify_init as UID (default root) from the host: ok or the error
host_inotify() {
	setpriv --reuid="${1:-0}" --regid="${1:-0}" --clear-groups /usr/bin/python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
print("host_inotify=" + ("ok" if fd >= 0 else os.strerror(ctypes.get_errno())))'
}
# attack PORT: wait for the service's report, then run host_inotify
attack() {
	socat -T 10 -u "TCP:127.0.0.2:$1" - >"$F/a$1.out" 2>/dev/null &
	local a=$! i
	for i in $(seq 100); do
		grep -q inotify_instances= "$F/a$1.out" && break
		sleep 0.02
	done
	HOST=$(host_inotify "$2")
	sed 's/^/# service: /' "$F/a$1.out"
	wait $a
}
vh_tcpserver 0 19371 "${VD[@]}" probe /bin/redprobe inotify 1 $SUID
vh_tcpserver 0 19372 "${VD[@]}" probe /bin/redprobe inotify 1

vh_contains "control: a host process of uid $SUID creates an inotify instance" "host_inotify=ok" "$(host_inotify $SUID)"
attack 19371 $SUID
vh_contains "K10 a root service that takes uid $SUID leaves that uid's host processes their inotify instances" "host_inotify=ok" "$HOST"

vh_contains "control: the host's root creates an inotify instance" "host_inotify=ok" "$(host_inotify 0)"
attack 19372 0
vh_contains "K10 a root service leaves host root its inotify instances" "host_inotify=ok" "$HOST"
vh_done
