#!/bin/bash
# K5: what a service reaches on the host's network stack.
# - A root service keeps CAP_NET_BIND_SERVICE only when its row allows it:
#   otherwise it cannot bind another customer's address on a port below
#   1024 and answer as an impostor. Its capabilities are an allow-list.
# - Host daemons listening on abstract unix sockets ("@name", no file
#   permissions): where the kernel has Landlock scoping (ABI 6, Linux
#   6.12) a service, run-as or root, cannot connect to one created
#   outside its domain. On older kernels this is the documented residual
#   exposure (virtuald(8)); the test then says so and checks only that
#   virtuald still serves.
# Positive controls: the same probe as root in a plain chroot(8).
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/u" "user jail"
vh_mkjail "$J/r" "root jail"
vh_ctl add probe 127.0.0.2 "$J/u" --user daemon >/dev/null
vh_ctl add probe 127.0.0.3 "$J/r" >/dev/null 2>&1

vh_tcpserver 0 19130 "$VIRTUALD" --db "$DB" probe /bin/probe info
out=$(vh_talk 127.0.0.3 19130)
# CHOWN DAC_OVERRIDE FOWNER KILL SETGID SETUID SYS_CHROOT = bits 0 1 3 5 6 7 18
vh_contains "K5 a root service's bounding set is exactly the allow-list" "cap_bnd=00000000000400eb" "$out"
vh_stop_last

vh_tcpserver 0 19131 "$VIRTUALD" --db "$DB" probe /bin/probe bind 127.0.0.2 25
out=$(vh_talk 127.0.0.3 19131)
vh_contains "K5 a root service cannot bind another customer's address on port 25" "bind=Permission denied" "$out"
vh_stop_last
out=$(chroot "$J/r" /bin/probe bind 127.0.0.2 25)
vh_contains "control: root in a plain chroot binds 127.0.0.2:25" "bind=ok" "$out"
# the row may allow it (an ftpd's active mode binds port 20)
vh_ctl set probe 127.0.0.3 --net-bind-service on >/dev/null
vh_tcpserver 0 19133 "$VIRTUALD" --db "$DB" probe /bin/probe info
out=$(vh_talk 127.0.0.3 19133)
vh_contains "K5 --net-bind-service on: CAP_NET_BIND_SERVICE added to the allow-list" "cap_bnd=00000000000404eb" "$out"
vh_stop_last
vh_tcpserver 0 19134 "$VIRTUALD" --db "$DB" probe /bin/probe bind 127.0.0.3 20
out=$(vh_talk 127.0.0.3 19134)
vh_contains "K5 --net-bind-service on: the root service binds port 20" "bind=ok" "$out"
vh_stop_last
vh_ctl set probe 127.0.0.3 --net-bind-service off >/dev/null

NAME=vhtest-k5-$$
socat "ABSTRACT-LISTEN:$NAME,fork" EXEC:true >/dev/null 2>&1 &
VH_PIDS+=($!)
for _ in $(seq 100); do grep -q "@$NAME" /proc/net/unix && break; sleep 0.05; done
out=$(chroot "$J/r" /bin/probe abstract "$NAME")
vh_contains "control: a plain chroot reaches the host's abstract socket @$NAME" "abstract=ok" "$out"
vh_tcpserver 0 19132 "$VIRTUALD" --db "$DB" probe /bin/probe abstract "$NAME"
abi=$("$VH_PROBE" landlock | sed -n 's/^landlock_abi=//p')
if [ "${abi:-0}" -ge 6 ]; then
	for a in 127.0.0.2 127.0.0.3; do
		out=$(vh_talk $a 19132)
		vh_contains "K5 service on $a cannot connect to a host abstract unix socket (Landlock ABI $abi)" \
			"abstract=Operation not permitted" "$out"
	done
else
	echo "# Landlock ABI ${abi:-0} < 6: abstract unix sockets stay reachable (documented residual exposure)"
	out=$(vh_talk 127.0.0.2 19132)
	vh_contains "K5 (no Landlock scoping here) the service is still served" "probe=abstract" "$out"
fi
vh_stop_last
vh_done
