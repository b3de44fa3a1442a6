#!/bin/bash
# K1, K3: a service in a session of its own, without a controlling
# terminal, and no terminal on fds 0-2.
# K1: a root service that sends SIGKILL to its process group (kill(0,...))
#     must not kill the super-server (tcpserver, systemd-socket-activate
#     share their process group with every child they start); one that
#     becomes another customer's uid and sends SIGKILL to everything it
#     may signal (kill(-1,...)) must not kill that customer's service.
# K3: a super-server started from a terminal passes it on (fd 2, and the
#     controlling terminal): TIOCSTI would type into the admin's shell.
# Each with its positive control: the same probe started by the same
# super-server without virtuald (plain chroot(8)) does the damage.
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/r" "root jail"
vh_mkjail "$J/v" "victim jail"
vh_ctl add probe 127.0.0.3 "$J/r" >/dev/null
vh_ctl add probe 127.0.0.4 "$J/v" --user daemon >/dev/null
VUID=$(id -u daemon)

# ss_start NAME PORT CMD...: a super-server in a session and process
# group of its own (as a daemon would be), so that kill(0) from a
# control reaches it and not this script. Sets SS.
ss_start() {
	local name=$1 port=$2
	shift 2
	setsid "$@" >>"$F/$name.log" 2>&1 &
	SS=$!
	VH_PIDS+=($SS)
	vh_wait_listen "$port"
}
alive() { kill -0 "$1" 2>/dev/null; }

# --- K1 kill(0): through tcpserver and systemd-socket-activate ------------
for ss in tcpserver ssa; do
	if [ $ss = tcpserver ]; then
		ss_start $ss 19110 "$TCPSERVER" -H -l 0 -R -c 200 127.0.0.3 19110 "$VIRTUALD" --db "$DB" probe /bin/probe killpg
	else
		ss_start $ss 19110 "$SSA" --inetd --accept -l 127.0.0.3:19110 "$VIRTUALD" --db "$DB" probe /bin/probe killpg
	fi
	out=$(vh_talk 127.0.0.3 19110)
	vh_contains "K1 $ss: the root service sent SIGKILL to its process group" "killpg=sending" "$out"
	sleep 0.3
	alive "$SS" && vh_ok "K1 $ss: the super-server survives kill(0, SIGKILL) from a root service" ||
		vh_notok "K1 $ss: the super-server was killed by the service's kill(0, SIGKILL)"
	out=$(vh_talk 127.0.0.3 19110)
	vh_contains "K1 $ss: and serves the next connection" "killpg=sending" "$out"
	vh_stop_last
	# control: the same probe, started by the same super-server without virtuald
	if [ $ss = tcpserver ]; then
		ss_start $ss 19111 "$TCPSERVER" -H -l 0 -R -c 200 127.0.0.3 19111 chroot "$J/r" /bin/probe killpg
	else
		ss_start $ss 19111 "$SSA" --inetd --accept -l 127.0.0.3:19111 chroot "$J/r" /bin/probe killpg
	fi
	vh_talk 127.0.0.3 19111 >/dev/null
	for _ in $(seq 40); do alive "$SS" || break; sleep 0.05; done
	alive "$SS" && vh_notok "control $ss: kill(0, SIGKILL) from a plain chroot did not kill the super-server" ||
		vh_ok "control $ss: kill(0, SIGKILL) from a plain chroot kills the super-server"
	vh_stop_last
done

# --- K1 kill(0) after becoming another customer's uid --------------------
# One super-server serves both customers (one inetd.conf line), so their
# services share its process group: the root service of 127.0.0.3 takes
# the uid of 127.0.0.4's service and signals its process group.
ROLE='case $TCPLOCALIP in 127.0.0.4) exec /bin/probe sleep 20 ;; *) exec /bin/probe killpg '$VUID' ;; esac'
# victim_up: start the victim's service (a held connection), wait until
# its process runs on the host
victim_up() {
	socat -T 30 -u TCP:127.0.0.4:$1 - >/dev/null 2>&1 &
	VICTIM_CLIENT=$!
	VH_PIDS+=($VICTIM_CLIENT)
	for _ in $(seq 100); do
		VICTIM=$(pgrep -u "$VUID" -f "probe sleep 20" | head -n 1)
		[ -n "$VICTIM" ] && return 0
		sleep 0.05
	done
	return 1
}
ss_start both 19112 "$TCPSERVER" -H -l 0 -R -c 200 0 19112 "$VIRTUALD" --db "$DB" probe /bin/busybox sh -c "$ROLE"
victim_up 19112 || vh_notok "the victim's service did not start"
out=$(vh_talk 127.0.0.3 19112)
vh_contains "K1 the root service became the other customer's uid" "setresuid=ok" "$out"
sleep 0.3
alive "$VICTIM" && vh_ok "K1 another customer's service survives kill(0, SIGKILL) with its uid from a root service" ||
	vh_notok "K1 another customer's service was killed by a root service with its uid"
alive "$SS" && vh_ok "K1 the shared super-server survives too" || vh_notok "K1 the shared super-server was killed"
kill "$VICTIM_CLIENT" "$VICTIM" 2>/dev/null
for _ in $(seq 40); do alive "$VICTIM" || break; sleep 0.05; done
vh_stop_last
# control: the same super-server line without virtuald (chroot(8),
# --userspec for the victim): the root service kills the victim
ROLE0='case $TCPLOCALIP in 127.0.0.4) exec chroot --userspec='$VUID:$VUID' '"$J"'/v /bin/probe sleep 20 ;; *) exec chroot '"$J"'/r /bin/probe killpg '$VUID' ;; esac'
ss_start both0 19113 "$TCPSERVER" -H -l 0 -R -c 200 0 19113 sh -c "$ROLE0"
victim_up 19113 || vh_notok "control: the victim's service did not start"
vh_talk 127.0.0.3 19113 >/dev/null
for _ in $(seq 40); do alive "$VICTIM" || break; sleep 0.05; done
alive "$VICTIM" && vh_notok "control: kill(0) with the victim's uid from a plain chroot did not kill it" ||
	vh_ok "control: kill(0) with the victim's uid from a plain chroot kills the other customer's service"
kill "$VICTIM_CLIENT" 2>/dev/null
vh_stop_last

# --- K3: a terminal on fd 2 and as the controlling terminal ---------------
# The jail has a /dev/tty node (the worst case: the operator copied /dev).
mkdir -m 0755 "$J/r/dev"
mknod -m 0666 "$J/r/dev/tty" c 5 0
# lib.sh's private /dev has no pseudo-terminals: a devpts instance of
# this test's own.
mkdir -m 0755 /dev/pts
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 vhpts /dev/pts
ln -s pts/ptmx /dev/ptmx
# script(1) starts the super-server in a new session on a pseudo-terminal:
# its controlling terminal and fds 0-2, as from an admin's shell.
tty_server() {
	local port=$1
	shift
	script -qec "exec $*" /dev/null </dev/null >>"$F/script$port.log" 2>&1 &
	VH_PIDS+=($!)
	vh_wait_listen "$port"
}
vh_log_mark
tty_server 19114 "$TCPSERVER" -H -l 0 -R -c 200 127.0.0.3 19114 "$VIRTUALD" --db "$DB" probe /bin/probe tty
out=$(vh_talk 127.0.0.3 19114)
vh_contains "K3 fd 2 is not the terminal in the service" "tty2=no" "$out"
vh_contains "K3 no terminal on fd 0" "tty0=no" "$out"
vh_contains "K3 the service leads a session of its own" "session_leader=yes" "$out"
vh_contains "K3 /dev/tty: no controlling terminal" "devtty=No such device or address" "$out"
vh_not_contains "K3 no TIOCSTI through fd 2" "fd2_sti" "$out"
line=$(vh_log_wait "terminal on fd") || line=""
vh_contains "K3 the replaced terminal is logged" "terminal on fd 2 replaced with /dev/null" "$line"
vh_stop_last
# control: the same super-server and probe without virtuald
tty_server 19115 "$TCPSERVER" -H -l 0 -R -c 200 127.0.0.3 19115 chroot "$J/r" /bin/probe tty
out=$(vh_talk 127.0.0.3 19115)
vh_contains "control: without virtuald fd 2 is the admin's terminal" "tty2=yes" "$out"
vh_contains "control: without virtuald /dev/tty opens the admin's terminal" "devtty=ok" "$out"
vh_stop_last
vh_done
