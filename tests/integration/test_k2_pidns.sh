#!/bin/bash
# K2: a run-as service shares its uid with a host process (nobody is the
# most common run-as user, and host daemons run as nobody too). Without a
# PID namespace of its own it can signal that process (kill(-1, SIGKILL)
# kills every process of its uid) and ptrace it, making it run code
# outside the jail. virtuald gives run-as services a PID (and IPC)
# namespace too. The uid here is a test user of its own (bound into this
# test's private mount namespace), so no other nobody process on the
# machine is touched. Positive control: the same probe in a plain
# chroot(8) --userspec with the same uid reaches the host process.
. "$(dirname "$0")/lib.sh"

KUID=64123
vh_test_user vhk2 "$KUID"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/u" "user jail"
vh_ctl add probe 127.0.0.2 "$J/u" --user vhk2 >/dev/null

# the host daemon of the same uid
host_up() {
	setpriv --reuid=$KUID --regid=$KUID --clear-groups sleep 60 &
	HOSTP=$!
	VH_PIDS+=($HOSTP)
}
alive() { kill -0 "$1" 2>/dev/null; }
host_up

vh_tcpserver 127.0.0.2 19120 "$VIRTUALD" --db "$DB" probe /bin/probe info
out=$(vh_talk 127.0.0.2 19120)
vh_contains "K2 the run-as service runs as the shared uid" "uid=$KUID euid=$KUID" "$out"
vh_contains "K2 the run-as service is in a PID namespace of its own (virtuald is PID 1)" "pid=2"$'\n' "$out"
vh_stop_last

vh_tcpserver 127.0.0.2 19121 "$VIRTUALD" --db "$DB" probe /bin/probe kill "$HOSTP"
out=$(vh_talk 127.0.0.2 19121)
vh_contains "K2 the host process of the same uid cannot be signalled" "kill=No such process" "$out"
vh_stop_last
vh_tcpserver 127.0.0.2 19122 "$VIRTUALD" --db "$DB" probe /bin/probe ptrace "$HOSTP"
out=$(vh_talk 127.0.0.2 19122)
vh_contains "K2 the host process of the same uid cannot be traced" "ptrace=No such process" "$out"
vh_stop_last
vh_tcpserver 127.0.0.2 19123 "$VIRTUALD" --db "$DB" probe /bin/probe killall
out=$(vh_talk 127.0.0.2 19123)
vh_contains "K2 kill(-1, SIGKILL) ran in the service" "killall=" "$out"
sleep 0.3
alive "$HOSTP" && vh_ok "K2 the host process of the same uid survives kill(-1, SIGKILL)" ||
	vh_notok "K2 the host process of the same uid was killed by kill(-1, SIGKILL)"
vh_stop_last

# controls: the same uid in a plain chroot reaches it
alive "$HOSTP" || host_up
out=$(chroot --userspec=$KUID:$KUID "$J/u" /bin/probe kill "$HOSTP")
vh_contains "control: a plain chroot with the same uid signals the host process" "kill=ok" "$out"
out=$(chroot --userspec=$KUID:$KUID "$J/u" /bin/probe ptrace "$HOSTP")
vh_contains "control: a plain chroot with the same uid traces the host process (no Yama)" "ptrace=ok" "$out"
out=$(chroot --userspec=$KUID:$KUID "$J/u" /bin/probe killall)
for _ in $(seq 40); do alive "$HOSTP" || break; sleep 0.05; done
alive "$HOSTP" && vh_notok "control: kill(-1) from a plain chroot did not kill the host process" ||
	vh_ok "control: kill(-1, SIGKILL) from a plain chroot kills the host process of the same uid"
vh_done
