#!/bin/bash
# Descriptors per super-server (THREATS D3, D4) and sockets on fd 0 that
# are not one TCP connection (G4, G5), through real super-servers:
# openbsd-inetd (the socket on 0, 1, 2), tcpserver (0, 1; its stderr on
# 2), systemd-socket-activate --inetd (0, 1; its stderr on 2), and
# systemd-socket-activate without --inetd (connection on fd 3 with
# LISTEN_FDS, fd 0 /dev/null: refused with a clear message).
. "$(dirname "$0")/lib.sh"
INETD=$(command -v inetd || echo /usr/sbin/inetd)

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/u" "user jail"
vh_ctl add probe 127.0.0.2 "$J/u" --user nobody >/dev/null
vh_ctl add probe 127.0.0.3 "$J/u" >/dev/null
PROBE=(probe /bin/probe stdio)
# stdio ADDR PORT: the probe's report on fds 0-2
stdio() { vh_talk "$1" "$2" | grep '^fd0='; }

# start_inetd CONF-LINES...: openbsd-inetd in the foreground (-d) on a
# config of its own; waits until the first line's port listens (TCP).
start_inetd() {
	printf '%s\n' "$@" >"$F/inetd.conf"
	"$INETD" -d -R 1000 "$F/inetd.conf" >>"$F/inetd.log" 2>&1 &
	VH_PIDS+=($!)
	sleep 0.3
}

# --- D4: what fds 0, 1, 2 are, per super-server -------------------------------
vh_tcpserver 0 18500 "$VIRTUALD" --db "$DB" "${PROBE[@]}"
vh_eq "D4 tcpserver: socket on 0 and 1, tcpserver's stderr on 2 (user)" "fd0=socket fd1=socket=0 fd2=file" \
	"$(stdio 127.0.0.2 18500)"
vh_eq "D4 tcpserver: the same for a root service" "fd0=socket fd1=socket=0 fd2=file" "$(stdio 127.0.0.3 18500)"
vh_log_mark
vh_eq "D4 tcpserver: a refusal sends nothing" "" "$(vh_talk 127.0.0.9 18500)"
vh_log_wait "refused service=probe local=127.0.0.9" >/dev/null
vh_stop_last
vh_not_contains "D4 tcpserver: virtuald wrote nothing on fd 2 (tcpserver's log)" "virtuald" "$(cat "$F/tcpserver.log")"

vh_ssa 127.0.0.2:18501 "$VIRTUALD" --db "$DB" "${PROBE[@]}"
vh_eq "D4 systemd-socket-activate --inetd: socket on 0 and 1, its stderr on 2" "fd0=socket fd1=socket=0 fd2=file" \
	"$(stdio 127.0.0.2 18501)"
vh_stop_last
vh_not_contains "D4 systemd-socket-activate: virtuald wrote nothing on fd 2" "refused" "$(cat "$F/ssa.log")"

start_inetd "127.0.0.2:18502 stream tcp nowait root $VIRTUALD virtuald --db $DB ${PROBE[*]}" \
	"127.0.0.9:18502 stream tcp nowait root $VIRTUALD virtuald --db $DB ${PROBE[*]}"
vh_wait_listen 18502
vh_eq "D4 openbsd-inetd: the socket on 0, 1 and 2" "fd0=socket fd1=socket=0 fd2=socket=0" "$(stdio 127.0.0.2 18502)"
vh_log_mark
out=$(socat -T 5 - TCP:127.0.0.9:18502 </dev/null 2>/dev/null | wc -c)
vh_eq "D4 openbsd-inetd: a refusal writes nothing to 0-2 (all the client): bytes received" 0 "$out"
line=$(vh_log_wait "refused service=probe local=127.0.0.9")
vh_contains "D4 openbsd-inetd: the refusal went to syslog only" "status=68" "$line"
vh_stop_last

# --- G5: a listening socket on fd 0 (inetd "wait" for a stream service) -----
vh_log_mark
start_inetd "127.0.0.2:18503 stream tcp wait root $VIRTUALD virtuald --db $DB ${PROBE[*]}"
vh_wait_listen 18503
out=$(socat -T 2 - TCP:127.0.0.2:18503 </dev/null 2>/dev/null)
vh_eq "G5 listening socket on fd 0: nothing served" "" "$out"
line=$(vh_log_wait "refused service=probe")
vh_contains "G5 listening socket on fd 0: refused with status 76" "status=76" "$line"
vh_contains "G5 the message says what to change" "listening socket" "$line"
vh_stop_last

# --- G4: a UDP socket on fd 0 (inetd "dgram udp wait") ------------------------
vh_log_mark
start_inetd "127.0.0.2:18504 dgram udp wait root $VIRTUALD virtuald --db $DB ${PROBE[*]}"
out=$(printf 'hello\n' | socat -T 2 - UDP:127.0.0.2:18504 2>/dev/null)
vh_eq "G4 UDP socket on fd 0: nothing sent back" "" "$out"
line=$(vh_log_wait "refused service=probe")
vh_contains "G4 UDP socket on fd 0: refused with status 76" "status=76" "$line"
vh_contains "G4 the message names a datagram socket" "datagram" "$line"
vh_stop_last

# --- D3: systemd Accept=yes without StandardInput=socket ----------------------
# The connection is on fd 3 (LISTEN_FDS=1, LISTEN_PID), fd 0 is /dev/null.
vh_log_mark
"$SSA" --accept -l 127.0.0.2:18505 "$VIRTUALD" --db "$DB" "${PROBE[@]}" </dev/null >>"$F/ssa3.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 18505
vh_eq "D3 connection on fd 3, fd 0 /dev/null: nothing served" "" "$(vh_talk 127.0.0.2 18505)"
line=$(vh_log_wait "refused service=probe")
vh_contains "D3 refused with status 76 (fd 0 is not a socket)" "status=76" "$line"
vh_contains "D3 the message tells the systemd fix" "StandardInput=socket" "$line"
vh_stop_last
vh_eq "D3 nothing written to systemd's stdout/stderr" "" "$(grep -v -e '^Listening on' -e '^Communication attempt' -e '^Execing' "$F/ssa3.log" | grep -i refused)"

vh_done
