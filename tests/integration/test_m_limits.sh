#!/bin/bash
# Issue 16: per-domain limits (THREATS M1-M4; ../shared/design/fleet.md
# table L). Slots are kernel locks on the domain's running file, held by
# the service's waiting parent (src/lib/slots.h). /run/virtuald is a
# tmpfs of this test's own mount namespace: the host's is never touched.
# Loopback only, ports 19900-19949; the M4 attack runs inside a network
# namespace of its own, whose loopback is the only interface.
. "$(dirname "$0")/lib.sh"

mkdir -p /run/virtuald
mount -t tmpfs -o mode=0755 tmpfs /run/virtuald
vh_init_db
vh_mkjail "$F/a" "page A"
vh_mkjail "$F/b" "page B"
vh_ctl add http 127.0.0.2 "$F/a" --user nobody >/dev/null
vh_ctl add http 127.0.0.3 "$F/b" --user nobody >/dev/null
SLEEPER=("$VIRTUALD" --db "$DB" http /bin/probe sleep 30)

# hold HOST PORT: a client that keeps its connection open (its PID in HELD)
HELD=()
hold() {
	socat -T 40 -u "TCP:$1:$2" /dev/null >/dev/null 2>&1 &
	HELD+=($!)
	VH_PIDS+=($!)
}
release_all() {
	local p
	for p in "${HELD[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${HELD[@]}"; do wait "$p" 2>/dev/null; done
	HELD=()
}
# count PATTERN: lines of the syslog since the last mark that match
count() {
	grep -a -c -- "$1" "$F/syslog.mark" 2>/dev/null || true
}
snap() {
	sleep "${1:-0.5}"
	awk -v n="$VH_MARK_LINE" 'NR > n' "$F/syslog" >"$F/syslog.mark"
}
mark() {
	VH_MARK_LINE=$(wc -l <"$F/syslog")
}
# the host pids of our services: processes whose command is the probe
# below our super-server (we started them; killed by PID only)
services_below() {
	local root=$1 p
	# the service's own command line exactly (virtuald's and the
	# super-server's hold the same words)
	for p in $(pgrep -f -x "/bin/probe sleep 30"); do
		local q=$p
		while [ "$q" -gt 1 ]; do
			[ "$q" = "$root" ] && { echo "$p"; break; }
			q=$(awk '{print $4}' "/proc/$q/stat" 2>/dev/null || echo 1)
		done
	done
}
live() {
	vh_ctl list --live --json | tr -d ' \n'
}

vh_tcpserver 127.0.0.2 19901 "${SLEEPER[@]}"
TS=${VH_PIDS[-1]}

# L1: at most N at once; a freed slot is taken again at once
vh_ctl set http 127.0.0.2 --max-instances 2 >/dev/null
mark
hold 127.0.0.2 19901
hold 127.0.0.2 19901
snap 0.8
hold 127.0.0.2 19901
snap 0.8
vh_eq "row 1: two served under a limit of 2" 2 "$(count 'served service=http')"
vh_eq "row 1: the third refused with 75" 1 "$(count 'status=75 reason="domain http/127.0.0.2 is at its limit of 2 instances')"
vh_contains "row 1: list --live shows 2 of 2" '"instances_held":2' "$(live)"
# a service killed (SIGKILL): its slot is free at once (M1)
victim=$(services_below "$TS" | head -n 1)
vh_check "row 1: a service of ours found to kill" test -n "$victim"
kill -9 "$victim"
sleep 0.5
mark
hold 127.0.0.2 19901
snap 0.8
vh_eq "row 1, M1: after a SIGKILL the next is served" 1 "$(count 'served service=http')"
# the holder killed (SIGKILL of the outer virtuald): the slot is free and
# its service goes with it
holder=$(pgrep -P "$TS" | head -n 1)
svc_of_holder=$(services_below "$holder" | head -n 1)
kill -9 "$holder"
sleep 0.5
vh_check "M1: a killed holder's service is gone with it" test ! -e "/proc/$svc_of_holder"
vh_contains "M1: list --live after holder killed" '"instances_held":1' "$(live)"
release_all
sleep 0.5
# control: the limit removed, a third is served
vh_ctl set http 127.0.0.2 --max-instances none >/dev/null
mark
hold 127.0.0.2 19901
hold 127.0.0.2 19901
hold 127.0.0.2 19901
snap 0.8
vh_eq "row 1 control: without the limit three are served" 3 "$(count 'served service=http')"
release_all

# L2: per source, grouped by prefix
vh_ctl set http 127.0.0.2 --max-per-source 1 --source-prefix 24,64 >/dev/null
mark
hold 127.0.0.2 19901
snap 0.8
socat -T 40 -u "TCP:127.0.0.2:19901,bind=127.0.0.9" /dev/null >/dev/null 2>&1 &
HELD+=($!)
VH_PIDS+=($!)
snap 0.8
vh_eq "row 2: a second source in the same /24 refused" 1 "$(count 'is at its limit of 1 connections from 127.0.0.9/24')"
socat -T 40 -u "TCP:127.0.0.2:19901,bind=127.0.1.9" /dev/null >/dev/null 2>&1 &
HELD+=($!)
VH_PIDS+=($!)
snap 0.8
vh_eq "row 2: another /24 served" 2 "$(count 'served service=http')"
release_all
vh_ctl set http 127.0.0.2 --max-per-source none >/dev/null

# L2, the PROXY half: behind a trusted balancer the source counted is the
# original client of the header, not the balancer. Every connection comes
# from the one real peer 127.0.0.1 (trusted for v2); the headers name A
# or B. Counting by the real peer would refuse B too; counting by the
# header serves it. virtuald's exit status is tcpserver -v's "end PID
# status WSTAT".
PX=${VH_PXSEND:-$VH_BUILD/tests/integration/vh_pxsend}
SIG=0d0a0d0a000d0a515549540a
ip4() {
	local IFS=.
	# shellcheck disable=SC2086
	printf '%02x' $1
}
# v2 PROXY TCP4 header from SRC to 127.0.0.2:19906
v2from() { printf '%s2111000c%s%s%04x%04x' "$SIG" "$(ip4 "$1")" "$(ip4 127.0.0.2)" 40000 19906; }
PXA=198.51.100.7 PXB=203.0.113.9
# pxhold SRC TAG: a client that sends SRC's header and keeps the
# connection open (what it reads in $F/px.TAG; its PID in HELD)
pxhold() {
	"$PX" -b 127.0.0.1 -x "$(v2from "$1")" -k -t 40000 127.0.0.2 19906 >"$F/px.$2" 2>>"$F/pxsend.err" &
	HELD+=($!)
	VH_PIDS+=($!)
}
# pxstatus N: virtuald's exit status of the Nth connection that ended
# (from tcpserver -v's log), "none" if it has not ended within 5 s
pxstatus() {
	local i line
	for i in $(seq 100); do
		line=$(grep ' end ' "$F/px.log" | sed -n "${1}p")
		[ -n "$line" ] && { echo $((${line##* } / 256)); return; }
		sleep 0.05
	done
	echo none
}
for p in $(pgrep -P "$TS"); do kill -9 "$p" 2>/dev/null; done # L2's holders (ours)
sleep 0.5
vh_check "L2 proxy: proxy-trust add 127.0.0.1 --service http --versions 2" \
	vh_ctl proxy-trust add 127.0.0.1 --service http --versions 2
: >"$F/px.log"
"$TCPSERVER" -v -H -l 0 -R -c 50 127.0.0.2 19906 "${SLEEPER[@]}" >>"$F/px.log" 2>&1 &
PXS=$!
VH_PIDS+=("$PXS")
vh_wait_listen 19906
px_round() {
	mark
	pxhold "$PXA" a1
	snap 0.8
	pxhold "$PXA" a2
	snap 0.8
	pxhold "$PXB" b1
	snap 0.8
}
vh_ctl set http 127.0.0.2 --max-per-source 1 --source-prefix 32,64 >/dev/null
px_round
vh_contains "row 2 proxy: the first from A served" "sleeping=" "$(cat "$F/px.a1")"
vh_eq "row 2 proxy: the second from A ended with 75" 75 "$(pxstatus 1)"
vh_eq "row 2 proxy: the second from A refused, the reason names the domain, the limit and A (the header's source)" 1 \
	"$(count "status=75 reason=\"domain http/127.0.0.2 is at its limit of 1 connections from $PXA/32")"
vh_eq "row 2 proxy: nothing written to the second A (no exec)" "" "$(cat "$F/px.a2")"
vh_eq "row 2 proxy: not counted by the real peer 127.0.0.1" 0 "$(count 'connections from 127.0.0.1/')"
vh_contains "row 2 proxy: B, from the same real peer, served" "sleeping=" "$(cat "$F/px.b1")"
vh_eq "row 2 proxy: A served once, by its header" 1 "$(count "served service=http local=127.0.0.2:19906 remote=$PXA:40000 via=proxy-v2 peer=127.0.0.1:")"
vh_eq "row 2 proxy: B served, by its header" 1 "$(count "served service=http local=127.0.0.2:19906 remote=$PXB:40000 via=proxy-v2 peer=127.0.0.1:")"
release_all
for p in $(pgrep -P "$PXS"); do kill -9 "$p" 2>/dev/null; done
sleep 0.5
# control: without the limit the second A is served
vh_ctl set http 127.0.0.2 --max-per-source none >/dev/null
: >"$F/px.log"
px_round
vh_contains "row 2 proxy control: without the limit the second A is served" "sleeping=" "$(cat "$F/px.a2")"
vh_eq "row 2 proxy control: A served twice, by its header" 2 "$(count "served service=http local=127.0.0.2:19906 remote=$PXA:40000 via=proxy-v2")"
vh_eq "row 2 proxy control: none refused" 0 "$(count 'status=75')"
release_all
for p in $(pgrep -P "$PXS"); do kill -9 "$p" 2>/dev/null; done
kill "$PXS"
wait "$PXS" 2>/dev/null
vh_check "L2 proxy: proxy-trust remove 127.0.0.1 (the rest connect directly)" \
	vh_ctl proxy-trust remove 127.0.0.1 --service http
sleep 0.5

# L3: many connections, services and holders killed at random: no slot
# is left held afterwards; a stopped holder does hold its slot
vh_ctl set http 127.0.0.2 --max-instances 50 >/dev/null
for round in $(seq 8); do
	for i in $(seq 6); do hold 127.0.0.2 19901; done
	sleep 0.6
	for p in $(services_below "$TS" | shuf -n 2); do kill -9 "$p" 2>/dev/null; done
	for p in $(pgrep -P "$TS" | shuf -n 2); do kill -9 "$p" 2>/dev/null; done
done
release_all
for p in $(pgrep -P "$TS"); do kill -9 "$p" 2>/dev/null; done
sleep 1
vh_contains "row 3, M1: after the random kills no slot is held" '"instances_held":0' "$(live)"
hold 127.0.0.2 19901
sleep 0.8
holder=$(pgrep -P "$TS" | head -n 1)
kill -STOP "$holder"
for p in $(services_below "$TS"); do kill -9 "$p" 2>/dev/null; done
sleep 0.5
vh_contains "row 3 control: a stopped holder still holds its slot" '"instances_held":1' "$(live)"
kill -CONT "$holder"
release_all
sleep 0.5

# L5: a limited row's service still gets fds 0-2 only
vh_stop_last
vh_ctl set http 127.0.0.2 --max-instances 3 --max-per-source 2 >/dev/null
vh_tcpserver 127.0.0.2 19902 "$VIRTUALD" --db "$DB" http /bin/probe info
out=$(vh_talk 127.0.0.2 19902)
vh_contains "row 5: only fds 0-2 in a limited row" "fds=0,1,2"$'\n' "$out"
vh_stop_last

# L7: a row without a limit pays nothing for limits. One connection each,
# traced whole (strace -f: virtuald, the service's PID 1 and the service,
# every system call), counted by name:
#   base  127.0.0.3, a row that never had a limit;
#   none  127.0.0.2, whose limits were set and removed;
#   inst  127.0.0.2 --max-instances 5;
#   both  127.0.0.2 --max-instances 5 --max-per-source 2.
# none must equal base call for call; inst and both (the controls: the
# comparison does see a change) differ from none by exactly the limits'
# calls, which README and virtuald(8) state as their cost. Every row opens
# and flocks its running file (issue 13, for vhostctl disable --kill):
# that is in base too. The calls whose number depends on timing (reads,
# writes, waits, interrupted sleeps) are left out of the comparison.
SC_NOISE='^(read|write|wait4|waitid|rt_sigreturn|restart_syscall|futex|nanosleep|clock_nanosleep|poll|ppoll|select|pselect6)$'
sc_trace() { # TAG ADDR PORT: one connection traced into $F/strace.TAG
	vh_tcpserver "$2" "$3" strace -f -qq -e trace=all -o "$F/strace.$1" "$VIRTUALD" --db "$DB" http /bin/probe info
	vh_talk "$2" "$3" >"$F/strace.$1.out"
	sleep 0.3
	vh_stop_last
}
sc_counts() { # TAG: "name count" per system call, sorted by name
	sed -nE 's/^[0-9]+ +([a-z_0-9]+)\(.*/\1/p' "$F/strace.$1" | grep -Ev "$SC_NOISE" | sort | uniq -c |
		awk '{ print $2, $1 }'
}
sc_diff() { # FROM TO: "name +n" for every call TO makes n more times than FROM
	join -a1 -a2 -e 0 -o 0,1.2,2.2 <(sc_counts "$1") <(sc_counts "$2") |
		awk '$2 != $3 { d = $3 - $2; printf "%s %s%d ", $1, (d > 0 ? "+" : ""), d }' | sed 's/ $//'
}
vh_ctl set http 127.0.0.2 --max-instances none --max-per-source none >/dev/null
if command -v strace >/dev/null; then
	sc_trace base 127.0.0.3 19903
	sc_trace none 127.0.0.2 19904
	vh_ctl set http 127.0.0.2 --max-instances 5 >/dev/null
	sc_trace inst 127.0.0.2 19907
	vh_ctl set http 127.0.0.2 --max-per-source 2 >/dev/null
	sc_trace both 127.0.0.2 19908
	for t in base none inst both; do
		vh_contains "row 7: the traced $t connection was served" "uid=" "$(cat "$F/strace.$t.out")"
	done
	vh_eq "row 7: a row without a limit makes exactly the system calls of one that never had one" "" "$(sc_diff base none)"
	vh_eq "row 7 control: --max-instances adds getpid (the first slot tried), the M3 checks of /run/virtuald and its running/ (2 newfstatat), one F_OFD_SETLK and one F_OFD_GETLK" \
		"fcntl +2 getpid +1 newfstatat +2" "$(sc_diff none inst)"
	vh_eq "row 7 control: --max-per-source adds the key (openat, fstat, pread64, close) and its own F_OFD_SETLK and F_OFD_GETLK" \
		"close +1 fcntl +4 getpid +1 newfstatat +3 openat +1 pread64 +1" "$(sc_diff none both)"
	vh_eq "row 7: no lock without a limit" 0 "$(grep -c F_OFD_ "$F/strace.none")"
	vh_eq "row 7 control: each of the two limits takes an F_OFD_SETLK and an F_OFD_GETLK" 4 "$(grep -c 'F_OFD_SETLK\|F_OFD_GETLK' "$F/strace.both")"
	vh_eq "row 7: nor the M3 check of /run/virtuald without a limit" 0 \
		"$(grep -c 'newfstatat(AT_FDCWD, "/run/virtuald"' "$F/strace.none")"
	vh_check "row 7 control: a limited row checks /run/virtuald (M3)" \
		grep -q 'newfstatat(AT_FDCWD, "/run/virtuald"' "$F/strace.inst"
	vh_eq "row 7: nor the key without a limit" 0 "$(grep -c 'limits.key' "$F/strace.none")"
	vh_eq "row 7 control: a per-source limit opens the key once" 1 "$(grep -c 'openat(.*limits.key' "$F/strace.both")"
	vh_eq "row 7: the running file opened and flocked as by a row that never had a limit (issue 13's, every row's)" \
		"$(grep -cE 'run/virtuald/running|flock\(' "$F/strace.base")" "$(grep -cE 'run/virtuald/running|flock\(' "$F/strace.none")"
	for t in none inst both; do
		vh_eq "row 7: no extra process for $t (clone, clone3, fork, vfork as base)" \
			"$(grep -cE '^[0-9]+ +(clone|clone3|fork|vfork)\(' "$F/strace.base")" \
			"$(grep -cE '^[0-9]+ +(clone|clone3|fork|vfork)\(' "$F/strace.$t")"
	done
else
	vh_notok "row 7: strace is not installed (scripts/deps installs it)"
fi
vh_ctl set http 127.0.0.2 --max-instances 5 --max-per-source none >/dev/null

# M3: a running directory others can write refuses a limited row, and
# the unlimited row is still served (the check is the limits': a row
# without one pays nothing for it)
chmod 0777 /run/virtuald/running
vh_tcpserver 127.0.0.2 19905 "$VIRTUALD" --db "$DB" http /bin/probe info
vh_tcpserver 127.0.0.3 19905 "$VIRTUALD" --db "$DB" http /bin/probe info
mark
vh_talk 127.0.0.2 19905 >/dev/null
vh_talk 127.0.0.3 19905 >"$F/m3.out"
snap 0.5
vh_eq "M3: the limited row refused (78)" 1 "$(count 'status=78 reason="/run/virtuald/running is not a root-owned directory')"
vh_contains "M3 control: the unlimited row served" "uid=" "$(cat "$F/m3.out")"
chmod 0700 /run/virtuald/running
vh_stop_last
vh_stop_last

# M4, the attack that found it: one super-server with one global limit
# (tcpserver -c 40) for two customers; customer A holds 40 connections.
# Without a limit B is starved; with A limited to 10, B is served.
NS=vhm4.$$
ip netns add "$NS"
trap 'ip netns del "$NS" 2>/dev/null; vh_cleanup' EXIT
ip -n "$NS" link set lo up
m4_round() {
	ip netns exec "$NS" "$TCPSERVER" -H -l 0 -R -c 40 0.0.0.0 19910 "${SLEEPER[@]}" >>"$F/tcpserver.log" 2>&1 &
	local srv=$!
	VH_PIDS+=($srv)
	sleep 0.5
	local i
	for i in $(seq 40); do
		ip netns exec "$NS" socat -T 40 -u TCP:127.0.0.2:19910 /dev/null >/dev/null 2>&1 &
		HELD+=($!)
		VH_PIDS+=($!)
	done
	sleep 2
	# B: a real request answered within 3 s?
	ip netns exec "$NS" timeout 4 socat -T 3 - TCP:127.0.0.3:19910 </dev/null 2>/dev/null | head -c 64
	release_all
	kill "$srv"
	wait "$srv" 2>/dev/null
	for p in $(services_below "$srv"); do kill -9 "$p" 2>/dev/null; done
	sleep 0.5
}
vh_ctl set http 127.0.0.2 --max-instances none >/dev/null
out=$(m4_round)
vh_eq "M4 control: without a limit customer B is starved" "" "$out"
vh_ctl set http 127.0.0.2 --max-instances 10 >/dev/null
out=$(m4_round)
vh_contains "M4: with A limited to 10, customer B is served" "sleeping=" "$out"

vh_done
