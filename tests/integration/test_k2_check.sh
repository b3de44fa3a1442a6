#!/bin/bash
# THREATS K2, check's part: a run-as uid shared with a host process (a
# daemon running as nobody) lets the service signal it, and trace it
# where no PID namespace separates them (then run code outside the
# jail). check reports it as a warning naming the process and the
# remedy; control: the same domain without such a process is clean of
# it, and a process of that uid inside a jail (a service) is not one.
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
