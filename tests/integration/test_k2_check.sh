#!/bin/bash
# THREATS K2, check's part: a run-as uid shared with a host process (a
# daemon running as nobody) lets the service signal it, and trace it
# where no PID namespace separates them (then run code outside the
# jail). check reports it as a warning naming the process and the
# remedy; control: the same domain without such a process is clean of
# it, and a process of that uid inside a jail (a chroot, or the
# domain's own service through virtuald: pivoted, its root reads "/")
# is not one. Port 19520.
. "$(dirname "$0")/lib.sh"

vh_init_db
U=daemon # a uid no other test runs its host processes as
mkdir -m 0755 "$F/j"
vh_mkjail "$F/j/a" "page of a"
vh_ctl add www 127.0.0.2 "$F/j/a" --user "$U" >/dev/null 2>&1
vh_eq "K2 domain added as $U" 0 $?
uid=$(id -u "$U")
others=$(ps -o pid= -u "$uid" | wc -l)
if [ "$others" != 0 ]; then
	vh_notok "K2 control needs no host process of uid $uid ($U); found $others"
fi
out=$(vh_ctl check www 2>&1)
vh_not_contains "K2 control: no host process of uid $uid, no finding" "[shared-host-uid]" "$out"

# a process of that uid in a chroot: a jail's own service, not a finding
chroot --userspec="$U:$U" "$F/j/a" /bin/busybox sleep 30 &
jailed=$!
VH_PIDS+=($jailed)
sleep 0.3
out=$(vh_ctl check www 2>&1)
vh_not_contains "K2 a process of the uid inside a jail is no finding" "[shared-host-uid]" "$out"

# the domain's own service, running through virtuald: pivoted, so its
# /proc/PID/root reads "/" too, but in a PID namespace of its own
vh_tcpserver 0 19520 "$VIRTUALD" --db "$DB" www /bin/busybox sleep 30
vh_talk 127.0.0.2 19520 >/dev/null &
talk=$!
for _ in $(seq 100); do
	svc=$(pgrep -u "$uid" -f '^/bin/busybox sleep 30' | head -1)
	[ -n "$svc" ] && [ "$(readlink "/proc/$svc/root")" = / ] && break
	sleep 0.05
done
vh_check "K2 the domain's service runs, its root reading /" test -n "$svc"
out=$(vh_ctl check www 2>&1)
vh_not_contains "K2 the domain's running service (pivoted, own PID namespace) is no finding" "[shared-host-uid]" "$out"
vh_stop_last
[ -n "$svc" ] && kill "$svc" 2>/dev/null # the service this test started
wait "$talk" 2>/dev/null

# a host daemon running as that uid
setpriv --reuid="$U" --regid="$U" --clear-groups sleep 30 &
host=$!
VH_PIDS+=($host)
sleep 0.3
out=$(vh_ctl check www 2>&1)
rc=$?
vh_contains "K2 check reports the uid shared with a host process" \
	"www/127.0.0.2: warning [shared-host-uid] $F/j/a: run-as uid $uid ($U) is also the uid of host process $host (sleep)" "$out"
vh_contains "K2 check names the remedy" "give each domain its own user" "$out"
vh_eq "K2 it is a warning (exit 1)" 1 "$rc"
vh_done
