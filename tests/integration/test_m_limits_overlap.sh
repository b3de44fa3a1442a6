#!/bin/bash
# Issue 16, the rest of fleet.md table L: row 4 (200 concurrent attempts
# against --max-instances 10: never more than 10 services at once, by the
# services' own clock), row 6 (a daemonising service: the slot is free
# when its first process exits, and its grandchild is gone too), the IPv6
# half of row 2 (sources in one /64 count as one, two /64s as two) and
# row 3 at a larger scale (1,000 connections, services and holders killed
# at random: no slot is left held, the whole limit is usable again; the
# table's 10,000 with VH_L3_CONNECTIONS=10000, doc/design.md says why CI
# runs 1,000).
# Loopback only, ports 19930-19949; the IPv6 part runs in a network
# namespace of its own (unique local addresses on its loopback only).
# /run/virtuald is a tmpfs of this test's mount namespace.
. "$(dirname "$0")/lib.sh"
: "${VH_LOADCLIENT:?set VH_LOADCLIENT to the loadclient binary}"
# an end before vh_done (a signal, a dying shell) is a failure that says
# where it happened
STAGE=setup
NS=
vh_exit() {
	[ "$STAGE" = done ] || echo "not ok - the test ended early, in stage $STAGE"
	[ -z "$NS" ] || ip netns del "$NS" 2>/dev/null
	vh_cleanup
}
trap vh_exit EXIT

mkdir -p /run/virtuald
mount -t tmpfs -o mode=0755 tmpfs /run/virtuald
vh_init_db
J=$F/j
vh_mkjail "$J" "page J"
# directories of the jail the services (run as nobody) write their
# records into: one per part, so that each part counts its own
for d in ov ctl dm st st2; do
	mkdir -m 0700 "$J/$d"
	chown nobody "$J/$d"
done

# count PATTERN: syslog lines since the last mark that match
mark() { VH_MARK_LINE=$(wc -l <"$F/syslog"); }
count() {
	sleep 0.5
	awk -v n="$VH_MARK_LINE" 'NR > n' "$F/syslog" | grep -a -c -- "$1" || true
}
# live ADDRESS: vhostctl list --live --json of the http row at ADDRESS
live() { vh_ctl list --live --json --service http --address "$1" | tr -d ' \n'; }
# tcpserver above the connections a part makes (-c), with a listen queue
# that takes them all at once (-b)
server() {
	local addr=$1 port=$2
	shift 2
	"$TCPSERVER" -H -l 0 -R -c 250 -b 250 "$addr" "$port" "$@" >>"$F/tcpserver.log" 2>&1 &
	VH_PIDS+=($!)
	vh_wait_listen "$port"
}
# overlap DIR: the largest number of services whose [entry, exit]
# intervals (CLOCK_MONOTONIC ns, probe hold) overlap at one instant;
# at equal times an exit counts before an entry. Each interval lies
# within its slot's (taken before the exec, freed after the exit), so
# more than N here would mean more than N slots at once.
overlap() {
	cat "$1"/hold.* 2>/dev/null | awk '{ print $1, 1; print $2, 0 }' | sort -k1,1n -k2,2n |
		awk 'BEGIN { m = 0 } { n += $2 ? 1 : -1; if (n > m) m = n } END { print m }'
}
records() { find "$1" -name 'hold.*' | wc -l; }
# the host pids of our services with exactly this command line
services() { pgrep -f -x "$1" || true; }

# ---- table L row 4: 200 at once against --max-instances 10 ------------
STAGE=row4
vh_ctl add http 127.0.0.2 "$J" --user nobody >/dev/null
vh_ctl set http 127.0.0.2 --max-instances 10 >/dev/null
server 127.0.0.2 19930 "$VIRTUALD" --db "$DB" http /bin/probe hold 1 /ov
mark
"$VH_LOADCLIENT" -n 200 -c 200 -p 19930 -H -t 20000 127.0.0.2=no-token >"$F/ov.out"
served=$(records "$J/ov")
refused=$(count 'status=75 reason="domain http/127.0.0.2 is at its limit of 10 instances')
echo "# row 4: $(tail -n 1 "$F/ov.out"); $served served, $refused refused at the limit"
vh_eq "row 4: every attempt served or refused at the limit" 200 $((served + refused))
vh_check "row 4: some were refused ($refused)" test "$refused" -gt 0
# (more than 10 served in all: slots were freed and taken again while
# attempts still arrived - the records say when)
vh_eq "row 4: at most 10 services at any instant, and 10 reached" 10 "$(overlap "$J/ov")"
vh_contains "row 4: no slot held afterwards" '"instances_held":0' "$(live 127.0.0.2)"
vh_stop_last
# control: no limit, the same 200 - more than 10 at once
STAGE=row4-control
vh_ctl set http 127.0.0.2 --max-instances none >/dev/null
server 127.0.0.2 19935 "$VIRTUALD" --db "$DB" http /bin/probe hold 1 /ctl
"$VH_LOADCLIENT" -n 200 -c 200 -p 19935 -H -t 20000 127.0.0.2=no-token >"$F/ctl.out"
n=$(overlap "$J/ctl")
echo "# row 4 control: $(records "$J/ctl") served, at most $n at once"
vh_check "row 4 control: without the limit more than 10 at once ($n)" test "$n" -gt 10
vh_stop_last

# ---- table L row 6: a service that daemonises -------------------------
STAGE=row6
vh_ctl add http 127.0.0.3 "$J" --user nobody >/dev/null
vh_ctl set http 127.0.0.3 --max-instances 1 >/dev/null
DAEMON="/bin/probe daemon 2 /dm"
server 127.0.0.3 19931 "$VIRTUALD" --db "$DB" http $DAEMON
mark
out=$(vh_talk 127.0.0.3 19931)
vh_contains "row 6: the service forked its daemon and exited" "daemon=started" "$out"
vh_check "row 6: the daemon ran (wrote its record)" grep -q alive "$J"/dm/daemon.*
sleep 0.3
vh_eq "row 6: no process of the service survives its first one" "" "$(services "$DAEMON")"
vh_contains "row 6: the slot is free when the first process exits" '"instances_held":0' "$(live 127.0.0.3)"
out=$(vh_talk 127.0.0.3 19931)
vh_contains "row 6: the next connection is served at once" "daemon=started" "$out"
vh_eq "row 6: none refused at the limit of 1" 0 "$(count 'is at its limit of 1 instances')"
vh_eq "row 6: two served" 2 "$(count 'served service=http local=127.0.0.3')"
vh_stop_last
# (its "survived" line is checked at the end: the daemon would write it
# after 2 s)

# ---- table L row 2, IPv6: one /64 is one source -----------------------
STAGE=row2-ipv6
NS=vhm6.$$
ip netns add "$NS"
ip -n "$NS" link set lo up
P30=fd56:6864:7600:30
P31=fd56:6864:7600:31
for a in $P30::1 $P30::2 $P30::3 $P31::1; do
	ip -n "$NS" -6 addr add "$a/64" dev lo nodad
done
vh_ctl add http "$P30::1" "$J" --user nobody >/dev/null
vh_ctl set http "$P30::1" --max-per-source 1 >/dev/null
ip netns exec "$NS" "$SSA" --inetd --accept -l "[$P30::1]:19932" \
	"$VIRTUALD" --db "$DB" http /bin/probe sleep 30 >>"$F/ssa.log" 2>&1 &
VH_PIDS+=($!)
for _ in $(seq 100); do
	ip netns exec "$NS" grep -q ':4DDC .* 0A ' /proc/net/tcp6 && break
	sleep 0.05
done
HELD=()
hold6() {
	ip netns exec "$NS" socat -T 40 -u "TCP6:[$P30::1]:19932,bind=[$1]" /dev/null >/dev/null 2>&1 &
	HELD+=($!)
	VH_PIDS+=($!)
	sleep 0.8
}
release_all() {
	local p
	for p in "${HELD[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${HELD[@]}"; do wait "$p" 2>/dev/null; done
	HELD=()
	sleep 0.5
}
mark
hold6 "$P30::2"
hold6 "$P30::3"
vh_eq "row 2 IPv6: a second address of the same /64 refused" 1 \
	"$(count "is at its limit of 1 connections from $P30::3/64")"
hold6 "$P31::1"
vh_eq "row 2 IPv6: an address of another /64 served" 2 "$(count 'served service=http')"
vh_contains "row 2 IPv6: two source slots held" '"source_slots_held":2' "$(live "$P30::1")"
release_all
# control: grouped by /128, the second address of the /64 is its own source
vh_ctl set http "$P30::1" --source-prefix 24,128 >/dev/null
mark
hold6 "$P30::2"
hold6 "$P30::3"
vh_eq "row 2 IPv6 control: by /128 both addresses served" 2 "$(count 'served service=http')"
release_all

# ---- table L row 3 at scale: 1,000 connections, random kills ----------
STAGE=row3
# rounds of 200; fleet.md asks for 10,000 (VH_L3_CONNECTIONS=10000,
# over 2 minutes more), CI runs 1,000 (doc/design.md, "Per-domain limits")
L3N=${VH_L3_CONNECTIONS:-1000}
case "$L3N" in *[!0-9]* | "") L3N=0 ;; esac
if [ "$L3N" -lt 200 ] || [ $((L3N % 200)) -ne 0 ]; then
	vh_notok "row 3: VH_L3_CONNECTIONS=${VH_L3_CONNECTIONS:-} must be a multiple of 200"
	L3N=1000
fi
vh_ctl add http 127.0.0.4 "$J" --user nobody >/dev/null
vh_ctl set http 127.0.0.4 --max-instances 50 >/dev/null
STORM="/bin/probe hold 1.5 /st"
server 127.0.0.4 19933 "$VIRTUALD" --db "$DB" http $STORM
TS=${VH_PIDS[-1]}
# rounds of 200 connections (five at 1,000), 100 at a time; in each, while the
# client runs, SIGKILL to up to 15 services and 8 holders (the outer
# virtuald), picked at random from process table scans every 0.1 s until
# the round's quota is reached or the client has finished (a loaded or
# sanitizer machine starts services a few at a time: one scan may see few)
kills=0 ksvc=0 khold=0
: >"$F/st.out"
for round in $(seq $((L3N / 200))); do
	"$VH_LOADCLIENT" -n 200 -c 100 -p 19933 -H -t 20000 127.0.0.4=no-token >>"$F/st.out" &
	LC=$!
	VH_PIDS+=($LC)
	rs=0 rh=0
	while kill -0 "$LC" 2>/dev/null && [ $((rs + rh)) -lt 23 ]; do
		ps -e -o pid=,ppid=,args= >"$F/ps"
		for p in $(awk -v c="$STORM" '{ p = $1; $1 = $2 = ""; sub(/^ +/, "") } $0 == c { print p }' "$F/ps" | shuf -n $((15 - rs))); do
			kill -9 "$p" 2>/dev/null && rs=$((rs + 1))
		done
		for p in $(awk -v t="$TS" '$2 == t { print $1 }' "$F/ps" | shuf -n $((8 - rh))); do
			kill -9 "$p" 2>/dev/null && rh=$((rh + 1))
		done
		sleep 0.1
	done
	ksvc=$((ksvc + rs)) khold=$((khold + rh))
	wait "$LC"
done
kills=$((ksvc + khold))
# summed with awk: bc is not on a fresh Debian
total=$(sed -n 's/^total connections=\([0-9]*\).*/\1/p' "$F/st.out" | awk '{ s += $1 } END { print s + 0 }')
errors=$(sed -n 's/^total .* error=\([0-9]*\).*/\1/p' "$F/st.out" | awk '{ s += $1 } END { print s + 0 }')
echo "# row 3: $total connections, $kills processes killed ($ksvc services, $khold holders), $(records "$J/st") services ended on their own"
vh_eq "row 3: the $L3N connections all ended" "$L3N" "$total"
vh_eq "row 3: none hung (no client timed out)" 0 "$errors"
vh_check "row 3: services were killed ($ksvc)" test "$ksvc" -ge $((L3N / 200))
vh_check "row 3: holders were killed ($khold)" test "$khold" -ge $((L3N / 200))
sleep 0.5
vh_contains "M1 (row 3): after the storm no slot is held" '"instances_held":0' "$(live 127.0.0.4)"
vh_stop_last
# and the whole limit is usable: 50 at once, all served
server 127.0.0.4 19934 "$VIRTUALD" --db "$DB" http /bin/probe hold 1 /st2
mark
"$VH_LOADCLIENT" -n 50 -c 50 -p 19934 -H -t 20000 127.0.0.4=no-token >/dev/null
vh_eq "row 3: after the storm 50 at once are all served" 50 "$(records "$J/st2")"
vh_eq "row 3: and none refused" 0 "$(count 'is at its limit of 50 instances')"
vh_stop_last

# row 6, end: the daemon's grandchildren never wrote "survived" (2 s)
vh_eq "row 6: no daemon outlived its first process" "" "$(grep -l survived "$J"/dm/daemon.* 2>/dev/null)"

STAGE=done
vh_done
