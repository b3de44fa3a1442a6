#!/bin/bash
# virtuald behind a balancer (issue 15): the PROXY acceptance table P of
# ../shared/design/fleet.md section 6, with its controls, through a real
# super-server (tcpserver) on loopback, without HAProxy (the HAProxy,
# namespace and curl cases are another test's). THREATS L1 (a header from
# an untrusted peer), L2 (slow, split or missing header), L3 (a byte of
# the service's stream eaten), L4 (malformed or oversized header), L6
# (socket state left for the service), L7 (two headers); L5's AUTHORITY
# rules are test_proxy.c's. Also fleet C1/C4 (prefix rows) chosen by a proxied
# destination.
#
# A client (pxsend) sends exact bytes in timed pieces from 127.0.0.1 (a
# trusted balancer), 127.0.0.5 (trusted for v2 only) or 127.0.0.9 (not
# trusted); the service is the probe's "sockstate": the socket's state,
# the TCP* and VIRTUALD_* variables and exactly the bytes it could read,
# as hex. virtuald's exit status is tcpserver -v's "end ... status"
# (a wait status) and the "refused ... status=N" log line.
# Every refusal asserts: no exec (nothing written, no "served" line),
# the status and reason, and the time bound.
. "$(dirname "$0")/lib.sh"
PX=${VH_PXSEND:-$VH_BUILD/tests/integration/vh_pxsend}
STRACE=$(command -v strace)

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
for j in two three parking x y p8; do
	vh_mkjail "$J/$j" "$j"
done
vh_ctl add px 127.0.0.2 "$J/two" --user nobody >/dev/null
vh_ctl add px 127.0.0.3 "$J/three" --user nobody >/dev/null
vh_ctl add px default "$J/parking" --user nobody >/dev/null

# srv NAME ADDR PORT VIRTUALD-OPTIONS...: tcpserver -v (its log tells
# each child's exit) running virtuald and the probe's sockstate.
srv() {
	local name=$1 addr=$2 port=$3
	shift 3
	: >>"$F/srv$port.log"
	"$TCPSERVER" -v -H -l 0 -R -c 50 "$addr" "$port" "$@" >>"$F/srv$port.log" 2>&1 &
	VH_PIDS+=($!)
	vh_wait_listen "$port"
}
vsrv() {
	local name=$1 addr=$2 port=$3
	shift 3
	srv "$name" "$addr" "$port" "$VIRTUALD" --db "$DB" "$@" px /bin/probe sockstate
}

# px HOST PORT PXSEND-OPTIONS...: one connection. Sets OUT (what the
# client got back), RC (pxsend's status), MS (the client's wall time),
# ST (virtuald's exit status, from tcpserver's "end" line) and LOG (the
# syslog lines written meanwhile).
px() {
	local host=$1 port=$2 before line
	shift 2
	before=$(grep -c ' end ' "$F/srv$port.log")
	vh_log_mark
	local t0=${EPOCHREALTIME/./}
	OUT=$("$PX" "$@" "$host" "$port" 2>>"$F/pxsend.err")
	RC=$?
	MS=$(((${EPOCHREALTIME/./} - t0) / 1000))
	ST=none line=
	for _ in $(seq 100); do
		line=$(grep ' end ' "$F/srv$port.log" | sed -n "$((before + 1))p")
		if [ -n "$line" ]; then
			ST=$((${line##* } / 256))
			break
		fi
		sleep 0.05
	done
	# "tcpserver: end PID status WSTAT": virtuald's last line (ended or
	# refused) is sent before it exits, syslogd writes it soon after; a
	# quiet close writes none, so wait for it at most 0.4 s
	local pid=${line#*end }
	pid=${pid%% *}
	for _ in $(seq 8); do
		grep -qE "virtuald\[$pid\]: (ended|refused) " "$F/syslog" && break
		sleep 0.05
	done
	LOG=$(cat "$F/syslog")
}

# refused CASE STATUS REASON MAXMS [MINMS]: the last px was refused.
refused() {
	local c=$1 st=$2 why=$3 max=$4 min=${5:-0} line
	vh_eq "$c: exit status $st" "$st" "$ST"
	vh_eq "$c: nothing written to the client (no exec)" "" "$OUT"
	# EOF, or a reset when the client's unread bytes were left queued
	case $RC in 0 | 4) vh_ok "$c: the client read EOF or a reset, nothing else ($RC)" ;;
	*) vh_notok "$c: pxsend status $RC (2 connect failed, 3 timed out)" ;; esac
	line=$(vh_log_wait "refused service=px") || line=
	vh_contains "$c: log status=$st" "status=$st " "$line"
	vh_contains "$c: reason" "$why" "$line"
	vh_not_contains "$c: no served line" "served service" "$LOG"
	if [ "$MS" -le "$max" ] && [ "$MS" -ge "$min" ]; then
		vh_ok "$c: refused within ${min}-${max} ms ($MS ms)"
	else
		vh_notok "$c: refused after $MS ms, expected ${min}-${max} ms"
	fi
}

# served CASE ROW EXPECTED-HEX: the probe ran in the row's jail and read
# exactly the expected bytes (L3).
served() {
	local c=$1 row=$2 hex=$3
	vh_eq "$c: exit status 0" 0 "$ST"
	vh_contains "$c: served by the row $row" "VIRTUALD_ADDRESS=$row"$'\n' "$OUT"
	vh_eq "$c: the service read exactly the client's bytes (L3)" "hex=$hex" "$(grep '^hex=' <<<"$OUT")"
	vh_eq "$c: one served line" 1 "$(grep -c 'served service=px' <<<"$LOG")"
}

# served_direct CASE ROW EXPECTED-HEX: as served, for a balancer's own
# connection (LOCAL, the v1 health-check form): its served and ended
# lines are written only with --verbose (fleet.md 1.5)
served_direct() {
	local c=$1 row=$2 hex=$3
	vh_eq "$c: exit status 0" 0 "$ST"
	vh_contains "$c: served by the row $row" "VIRTUALD_ADDRESS=$row"$'\n' "$OUT"
	vh_eq "$c: the service read exactly the client's bytes (L3)" "hex=$hex" "$(grep '^hex=' <<<"$OUT")"
	vh_eq "$c: no served line without --verbose (a check is no audit event)" 0 "$(grep -c 'served service=px' <<<"$LOG")"
}

# quiet CASE: exit 0, nothing written, no log line at all
quiet() {
	vh_eq "$1: exit status 0" 0 "$ST"
	vh_eq "$1: nothing written to the client (no exec)" "" "$OUT"
	vh_eq "$1: no log line" "" "$LOG"
}

hexof() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
ip4() {
	local IFS=.
	# shellcheck disable=SC2086
	printf '%02x' $1
}
SIG=0d0a0d0a000d0a515549540a
# v2 VERCMD FAM BODY-HEX: a v2 header, its length computed
v2() { printf '%s%s%s%04x%s' "$SIG" "$1" "$2" $((${#3} / 2)) "$3"; }
# v2 PROXY TCP4 SRC DST SPORT DPORT [TLV-HEX]
v2p4() { v2 21 11 "$(ip4 "$1")$(ip4 "$2")$(printf '%04x%04x' "$3" "$4")${5:-}"; }
# The first piece of a split header is followed by FIRST ms, so that
# virtuald has started and peeked it before the rest comes, even when it
# starts slowly (the sanitizer build): then it really waits.
FIRST=500
PAY=$(hexof "GET /payload HTTP/1.0 - the client's own bytes")
H2=$(v2p4 127.0.0.10 127.0.0.3 40000 80)

# --- servers -----------------------------------------------------------------
vsrv main 127.0.0.2 19850
vsrv t1 127.0.0.2 19851 --first-bytes-timeout 1
vsrv fast 127.0.0.2 19852 --first-bytes-timeout 0.01
vsrv req 127.0.0.2 19853 --proxy=required
vsrv norow 127.0.0.4 19854
vsrv norowv 127.0.0.4 19855 --verbose
vsrv slow 127.0.0.2 19856 --first-bytes-timeout 8
srv direct 127.0.0.2 19857 "$J/two/bin/probe" sockstate
srv lowat 127.0.0.2 19858 "$J/two/bin/probe" lowat 7
# the reset cases and P11: virtuald starts 0.3 s after the accept, so
# that what the client sent at once has certainly arrived before it looks
# (a reset: a balancer's L4 check resets at once, and a reset arriving
# after getpeername is served like any other connection; P11: the one
# peek never waits, by design, so bytes not yet queued are not seen)
srv reset 127.0.0.2 19860 sh -c 'sleep 0.3; exec "$@"' sh "$VIRTUALD" --db "$DB" px /bin/probe sockstate
srv strace 127.0.0.2 19859 "$STRACE" -f -q -e trace=recvfrom,poll,ppoll,setsockopt -o "$F/p16.trace" \
	"$VIRTUALD" --db "$DB" px /bin/probe sockstate

# --- no proxy_sources row at all ---------------------------------------------
# P1 control (L3): the same bytes from a peer that is not trusted reach
# the service whole - the comparison does catch an unconsumed header -
# and the real local address selects.
px 127.0.0.2 19850 -b 127.0.0.9 -x "$H2$PAY"
served "P1 control L1 L3 (no rows, untrusted)" 127.0.0.2 "$H2$PAY"
vh_contains "P1 control: TCPREMOTEIP is the real peer" "TCPREMOTEIP=127.0.0.9"$'\n' "$OUT"
vh_contains "P1 control: not proxied" "VIRTUALD_PROXY=(unset)" "$OUT"
# control of P9's quiet reset below: without trusted balancers, a
# connection reset before virtuald looked is refused as it always was
px 127.0.0.2 19860 -b 127.0.0.1 -r
vh_eq "P9 control (no rows): a reset connection is refused, status 76" 76 "$ST"
vh_contains "P9 control (no rows): the refusal is logged" "refused service=px" "$LOG"
# P16: no rows - not one recvfrom, poll or setsockopt
: >"$F/p16.trace"
px 127.0.0.2 19859 -b 127.0.0.9 -x "$PAY"
served "P16 no rows, under strace" 127.0.0.2 "$PAY"
vh_eq "P16: no recvfrom/poll/ppoll/setsockopt without proxy_sources rows" "" \
	"$(grep -E 'recvfrom|poll|setsockopt' "$F/p16.trace")"
vh_check "P16 control: the trace holds virtuald's calls (strace worked)" grep -q 'exited with 0' "$F/p16.trace"

# --- trusted balancers -------------------------------------------------------
vh_check "proxy-trust add 127.0.0.1 --service px" vh_ctl proxy-trust add 127.0.0.1 --service px
vh_check "proxy-trust add 127.0.0.5 --service px --versions 2" \
	vh_ctl proxy-trust add 127.0.0.5 --service px --versions 2

# P16 with a row: an untrusted peer costs the one peek
: >"$F/p16.trace"
px 127.0.0.2 19859 -b 127.0.0.9 -x "$PAY"
served "P16 with a row, under strace" 127.0.0.2 "$PAY"
vh_eq "P16 with a row: exactly one recvfrom, a MSG_PEEK|MSG_DONTWAIT" 1 \
	"$(grep -cE 'recvfrom\(0, .*MSG_PEEK\|MSG_DONTWAIT' "$F/p16.trace")"
vh_eq "P16 with a row: no poll or setsockopt for an untrusted peer" "" \
	"$(grep -E 'poll|setsockopt' "$F/p16.trace")"

# ... and a trusted balancer's header: in one write, the peek and the
# exact read only; split, SO_RCVLOWAT raised for the wait, then 1 again (L6)
: >"$F/p16.trace"
px 127.0.0.2 19859 -b 127.0.0.1 -x "$H2$PAY"
served "P16 trusted, one write, under strace" 127.0.0.3 "$PAY"
vh_eq "P16 trusted, one write: two recvfrom (peek, exact read of 28 bytes)" \
	"MSG_PEEK|MSG_DONTWAIT MSG_DONTWAIT|MSG_WAITALL 28" \
	"$(grep -oE 'recvfrom\(0, .*\) += [0-9]+' "$F/p16.trace" | grep -oE 'MSG_[A-Z|_]+|= 28$' | tr -d '= ' | tr '\n' ' ' | sed 's/ $//')"
vh_eq "P16 trusted, one write: no poll or setsockopt" "" "$(grep -E 'poll|setsockopt' "$F/p16.trace")"
: >"$F/p16.trace"
# under strace virtuald starts slowly: the rest comes 1.5 s after the
# first piece (the deadline is 3 s), so that it surely waits for it
px 127.0.0.2 19859 -b 127.0.0.1 -x "$H2$PAY" -p 5 -g 1500
served "P16 trusted, split at 5, under strace" 127.0.0.3 "$PAY"
vh_eq "P16 L6 trusted, split: SO_RCVLOWAT set to 16 for the wait, then back to 1" "[16] [1]" \
	"$(grep -oE 'setsockopt\(0, SOL_SOCKET, SO_RCVLOWAT, \[[0-9]+\]' "$F/p16.trace" | grep -oE '\[[0-9]+\]' | tr '\n' ' ' | sed 's/ $//')"
vh_check "P16 trusted, split: virtuald waited in poll" grep -qE '^[0-9]+ +poll\(\[\{fd=0, events=POLLIN\|POLLPRI\|POLLRDHUP' "$F/p16.trace"

# P1: v2 TCP4, header and payload in one write, trusted peer
px 127.0.0.2 19850 -b 127.0.0.1 -x "$H2$PAY"
served "P1 L3 v2 TCP4 in one write" 127.0.0.3 "$PAY"
vh_contains "P1: TCPREMOTEIP is the header's source" "TCPREMOTEIP=127.0.0.10"$'\n' "$OUT"
vh_contains "P1: TCPREMOTEPORT" "TCPREMOTEPORT=40000"$'\n' "$OUT"
vh_contains "P1: TCPLOCALIP is the header's destination" "TCPLOCALIP=127.0.0.3"$'\n' "$OUT"
vh_contains "P1: TCPLOCALPORT" "TCPLOCALPORT=80"$'\n' "$OUT"
vh_contains "P1: VIRTUALD_PROXY=v2" "VIRTUALD_PROXY=v2"$'\n' "$OUT"
vh_contains "P1: VIRTUALD_PEERIP is the real peer" "VIRTUALD_PEERIP=127.0.0.1"$'\n' "$OUT"
vh_contains "P1: no VIRTUALD_PROXY_ID without UNIQUE_ID" "VIRTUALD_PROXY_ID=(unset)" "$OUT"
vh_contains "P1: log via=proxy-v2 and the balancer" "via=proxy-v2 peer=127.0.0.1:" "$LOG"
vh_contains "P1: log names the original addresses" "local=127.0.0.3:80 remote=127.0.0.10:40000" "$LOG"

# P2: v2 TCP6 with mapped addresses selects the IPv4 row
H6=$(v2 21 21 "00000000000000000000ffff7f00000a00000000000000000000ffff7f0000039c400050")
px 127.0.0.2 19850 -b 127.0.0.1 -x "$H6$PAY"
served "P2 v2 TCP6 ::ffff:127.0.0.3" 127.0.0.3 "$PAY"
vh_contains "P2: TCPLOCALIP is IPv4" "TCPLOCALIP=127.0.0.3"$'\n' "$OUT"

# P4 (L2): the header cut before every byte, 50 ms apart
H1=$(hexof $'PROXY TCP4 127.0.0.10 127.0.0.3 40000 80\r\n')
NOOP=$(printf '04%04x' 3000)$(head -c 3000 /dev/zero | od -An -tx1 -v | tr -d ' \n' | tr 0 a)
HB=$(v2p4 127.0.0.10 127.0.0.3 40000 80 "$NOOP")
BIGLEN=$((${#HB} / 2))
for v in v1:$H1 v2:$H2; do
	name=${v%%:*} h=${v#*:}
	px 127.0.0.2 19856 -b 127.0.0.1 -x "$h$PAY" -p "$(seq -s, 1 $((${#h} / 2)))" -g 50 -G "$FIRST"
	served "P4 L2 $name cut before every byte" 127.0.0.3 "$PAY"
	vh_check "P4 $name: the pieces took their time (${MS} ms)" test "$MS" -ge $(((${#h} / 2 - 2) * 50 + FIRST))
done
cuts="$(seq -s, 1 40),1000,2000,$(seq -s, $((BIGLEN - 10)) $BIGLEN)"
px 127.0.0.2 19856 -b 127.0.0.1 -x "$HB$PAY" -p "$cuts" -g 50 -G "$FIRST"
served "P4 L2 v2 with a 3,000-byte NOOP TLV, cut at 40 first, sampled, 10 last offsets" 127.0.0.3 "$PAY"
# two pieces, one connection per offset (all at once)
bad='' kids=()
for k in $(seq 1 $((${#H2} / 2))); do
	"$PX" -b 127.0.0.1 -x "$H2$PAY" -p "$k" -g "$FIRST" 127.0.0.2 19850 >"$F/p4.$k" 2>>"$F/pxsend.err" &
	kids+=($!)
done
wait "${kids[@]}"
for k in $(seq 1 $((${#H2} / 2))); do
	grep -q "^hex=$PAY\$" "$F/p4.$k" && grep -q "^VIRTUALD_ADDRESS=127.0.0.3\$" "$F/p4.$k" || bad="$bad $k"
done
vh_eq "P4 L2 v2 in two pieces at each offset 1..$((${#H2} / 2)): all served, payload exact" "" "$bad"
px 127.0.0.2 19852 -b 127.0.0.1 -x "$H2$PAY" -p 5 -g "$FIRST"
refused "P4 control (--first-bytes-timeout 0.01, split at 5)" 75 "no complete PROXY header" $((FIRST + 1000))

# P5 (L2): a stalled balancer, --first-bytes-timeout 1
px 127.0.0.2 19850 -b 127.0.0.1 -k -t 6000
refused "P5 L2 trusted peer sends nothing, the default deadline" 75 "within 3000 ms (0 of 16 bytes)" 3600 2950
px 127.0.0.2 19851 -b 127.0.0.1 -k -t 5000
refused "P5 L2 trusted peer sends nothing" 75 "within 1000 ms" 1600 950
px 127.0.0.2 19851 -b 127.0.0.1 -x "${H2:0:20}" -k -t 5000
refused "P5 L2 10 bytes then a stall" 75 "(10 of 16 bytes)" 1600 950
px 127.0.0.2 19851 -b 127.0.0.1 -x "$H2$PAY" -p 10 -g 600
served "P5 control: the rest 0.6 s later, before the deadline" 127.0.0.3 "$PAY"

# P6 (L4): the v1 rules, one case each
v1case() {
	px 127.0.0.2 19850 -b 127.0.0.1 -x "$(hexof "$2")$PAY"
	refused "P6 L4 $1" 76 "$3" 1500
}
v1case "v1-1 no CRLF in 107 bytes" "PROXY TCP4 127.0.0.10 127.0.0.3 40000 80$(printf '%080d' 0)" "without CRLF within 107"
v1case "v1-2 lone LF" $'PROXY TCP4 127.0.0.10 127.0.0.3 40000 80\n' "lone CR or LF"
v1case "v1-3 two spaces" $'PROXY TCP4 127.0.0.10  127.0.0.3 40000 80\r\n' "not exactly one space"
v1case "v1-4 TCP5" $'PROXY TCP5 127.0.0.10 127.0.0.3 40000 80\r\n' "not TCP4 or TCP6"
v1case "v1-5 leading zero in an address" $'PROXY TCP4 127.0.0.010 127.0.0.3 40000 80\r\n' "not an address of its family"
v1case "v1-6 port with a leading zero" $'PROXY TCP4 127.0.0.10 127.0.0.3 040000 80\r\n' "port is not 1..65535"
v1case "v1-7 missing field" $'PROXY TCP4 127.0.0.10 127.0.0.3 40000\r\n' "missing or extra field"
px 127.0.0.2 19850 -b 127.0.0.1 -x "$(hexof 'PROXY TCP4 127.0.0.10 127.0.0.3 4')ff$(hexof $'0000 80\r\n')$PAY"
refused "P6 L4 v1-8 an 8-bit byte" 76 "outside printable ASCII" 1500
v1case "v1-9 multicast destination" $'PROXY TCP4 127.0.0.10 224.0.0.1 40000 80\r\n' "PROXY destination is unspecified"
v1case "v1-10 broadcast source" $'PROXY TCP4 255.255.255.255 127.0.0.3 40000 80\r\n' "PROXY source is unspecified"
v1case "v1-11 UNKNOWN (P10)" $'PROXY UNKNOWN\r\n' "PROXY UNKNOWN"
px 127.0.0.2 19850 -b 127.0.0.1 -x "$H1$PAY"
served "P6 control: a well-formed v1 line" 127.0.0.3 "$PAY"
vh_contains "P6 control: VIRTUALD_PROXY=v1" "VIRTUALD_PROXY=v1"$'\n' "$OUT"
vh_contains "P6 control: log via=proxy-v1" "via=proxy-v1" "$LOG"

# P7 (L4): v2 errors
v2case() {
	px 127.0.0.2 19850 -b 127.0.0.1 -x "$2$PAY"
	refused "P7 L4 $1" 76 "$3" 1500
}
A4="$(ip4 127.0.0.10)$(ip4 127.0.0.3)9c400050"
v2case "version nibble 1" "$(v2 11 11 "$A4")" "version nibble is not 2"
v2case "command 2" "$(v2 22 11 "$A4")" "neither LOCAL nor PROXY"
v2case "family 4" "$(v2 21 41 "$A4")" "family or transport out of range"
v2case "len 8 < the address block" "$(v2 21 11 "${A4:0:16}")" "shorter than its address block"
v2case "len 4081 (4097 bytes)" "${SIG}21110ff1${A4}" "exceeds 4096"
v2case "a TLV past the end" "$(v2 21 11 "${A4}040010aabb")" "runs past the end"
v2case "CRC32C wrong" "$(v2 21 11 "${A4}030004deadbeef")" "CRC32C mismatch"
v2case "AUTHORITY empty" "$(v2 21 11 "${A4}020000")" "AUTHORITY is empty"
v2case "PROXY with AF_UNSPEC (P10)" "$(v2 21 00 "")" "AF_UNSPEC"
v2case "UDP over IPv4" "$(v2 21 12 "$A4")" "UDP, UNIX"

# P8: TLVs accepted
px 127.0.0.2 19850 -b 127.0.0.1 -x "$(v2p4 127.0.0.10 127.0.0.3 40000 80 050000040003aabbcce0000201020100026832)$PAY"
served "P8 zero-length UNIQUE_ID, NOOP, 0xE0, ALPN" 127.0.0.3 "$PAY"
vh_contains "P8: no VIRTUALD_PROXY_ID for an empty UNIQUE_ID" "VIRTUALD_PROXY_ID=(unset)" "$OUT"
px 127.0.0.2 19850 -b 127.0.0.1 -x "$(v2p4 127.0.0.10 127.0.0.3 40000 80 050004deadbeef)$PAY"
served "P8 a UNIQUE_ID" 127.0.0.3 "$PAY"
vh_contains "P8: VIRTUALD_PROXY_ID in hex" "VIRTUALD_PROXY_ID=deadbeef"$'\n' "$OUT"
# HAProxy 2.6.12's own header (fleet.md X1: CRC32C and an empty UNIQUE_ID)
X1=${SIG}211100167f0000017f0000029474005003000434 X1=${X1}3f5ea7050000
px 127.0.0.2 19850 -b 127.0.0.1 -x "$X1$PAY"
served "P8 HAProxy 2.6's captured header, CRC32C verified" 127.0.0.2 "$PAY"

# P9: the balancer's own connections
LOCAL=$(v2 20 00 "")
px 127.0.0.4 19854 -b 127.0.0.1 -x "$LOCAL"
quiet "P9 v2 LOCAL, no row for the real local address (a default row exists)"
px 127.0.0.4 19855 -b 127.0.0.1 -x "$LOCAL"
vh_eq "P9 --verbose: exit status 0" 0 "$ST"
vh_contains "P9 --verbose: the quiet close is logged" "no row for its local address" "$LOG"
vh_not_contains "P9 --verbose: no served line" "served service" "$LOG"
px 127.0.0.2 19850 -b 127.0.0.1 -x "$LOCAL$PAY"
served_direct "P9 v2 LOCAL with an exact row for the balancer-facing address" 127.0.0.2 "$PAY"
vh_contains "P9 LOCAL: the real peer in TCPREMOTEIP" "TCPREMOTEIP=127.0.0.1"$'\n' "$OUT"
vh_contains "P9 LOCAL: not proxied" "VIRTUALD_PROXY=(unset)" "$OUT"
px 127.0.0.4 19854 -b 127.0.0.1 -B 19898 -x "$(hexof $'PROXY TCP4 127.0.0.1 127.0.0.4 19898 19854\r\n')"
quiet "P9 v1 health-check form, no row"
px 127.0.0.2 19850 -b 127.0.0.1 -B 19897 -x "$(hexof $'PROXY TCP4 127.0.0.1 127.0.0.2 19897 19850\r\n')$PAY"
served_direct "P9 v1 health-check form with a row" 127.0.0.2 "$PAY"
vh_contains "P9 v1 health-check form: not proxied" "VIRTUALD_PROXY=(unset)" "$OUT"
px 127.0.0.4 19854 -b 127.0.0.1 -B 19896 -x "$(hexof $'PROXY TCP4 127.0.0.1 127.0.0.4 19895 19854\r\n')$PAY"
served "P9 control: a v1 header whose source port differs is proxied (default row)" default "$PAY"
vh_contains "P9 control: VIRTUALD_PROXY=v1" "VIRTUALD_PROXY=v1"$'\n' "$OUT"
px 127.0.0.2 19850 -b 127.0.0.1
quiet "P9 trusted peer connecting and closing at once"
px 127.0.0.2 19860 -b 127.0.0.1 -r
quiet "P9 trusted peer resetting at once (HAProxy's L4 check)"
px 127.0.0.2 19860 -b 127.0.0.9 -r
quiet "P9 any peer resetting at once where balancers are trusted"

# P11 (L1): untrusted peers' headers never select
px 127.0.0.2 19860 -b 127.0.0.9 -x "$H2$PAY"
refused "P11 L1 untrusted peer sends a v2 header" 76 "vhostctl proxy-trust add 127.0.0.9 --service px" 1500
vh_contains "P11: a warning, not an error" "daemon.warn" "$LOG"
px 127.0.0.2 19860 -b 127.0.0.9 -x "$(hexof 'PROXY TCP4 ')$PAY"
refused "P11 L1 untrusted peer sends 'PROXY TCP4 '" 76 "PROXY header from untrusted peer 127.0.0.9" 1500
px 127.0.0.2 19850 -b 127.0.0.9 -x "$PAY"
served "P11 control: untrusted ordinary data, served directly" 127.0.0.2 "$PAY"

# P12 (L7): two headers
px 127.0.0.2 19850 -b 127.0.0.1 -x "$H2$H2$PAY"
refused "P12 L7 two v2 headers" 76 "second PROXY header" 1500
px 127.0.0.2 19850 -b 127.0.0.1 -x "$H1$H1$PAY"
refused "P12 L7 two v1 headers" 76 "second PROXY header" 1500
px 127.0.0.2 19850 -b 127.0.0.1 -x "$H2$PAY"
served "P12 control: one header" 127.0.0.3 "$PAY"

# P13: --proxy=required
px 127.0.0.2 19853 -b 127.0.0.9 -x "$PAY"
refused "P13 L1 --proxy=required, untrusted peer" 76 "no trusted balancer on a --proxy=required line" 1500
px 127.0.0.2 19853 -b 127.0.0.1 -x "$H2$PAY"
served "P13 --proxy=required, trusted peer" 127.0.0.3 "$PAY"

# P14: a source trusted for v2 only
px 127.0.0.2 19850 -b 127.0.0.5 -x "$H1$PAY"
refused "P14 v1 from a v2-only source" 76 "trusted for v2 only" 1500
px 127.0.0.2 19850 -b 127.0.0.5 -x "$H2$PAY"
served "P14 control: v2 from it" 127.0.0.3 "$PAY"

# P15 (L6): the socket as the service gets it, after a header that made
# virtuald wait (SO_RCVLOWAT raised), against direct connections
state() { grep -E '^(rcvlowat|fl|rcvbuf)=' <<<"$1" | tr '\n' ' '; }
px 127.0.0.2 19856 -b 127.0.0.1 -x "$H2$PAY" -p 5 -g "$FIRST"
served "P15 proxied, split so that virtuald waited" 127.0.0.3 "$PAY"
P15P=$(state "$OUT")
px 127.0.0.2 19850 -b 127.0.0.9 -x "$PAY"
P15U=$(state "$OUT")
px 127.0.0.2 19857 -b 127.0.0.9 -x "$PAY"
P15D=$(state "$OUT")
vh_contains "P15 L6: SO_RCVLOWAT is 1 in the service" "rcvlowat=1 " "$P15P"
vh_eq "P15 L6: socket state equals a direct connection through virtuald" "$P15U" "$P15P"
vh_eq "P15 L6: socket state equals tcpserver's without virtuald" "$P15D" "$P15P"
px 127.0.0.2 19858 -b 127.0.0.9 -x "$PAY"
vh_contains "P15 control: the probe sees a changed SO_RCVLOWAT" "rcvlowat=7"$'\n' "$OUT"

# fleet C1 and C4: prefix rows chosen by the proxied destination
vh_ctl add px 127.0.0.0/8 "$J/p8" --user nobody >/dev/null
vh_ctl add px 127.0.1.0/24 "$J/x" --user nobody >/dev/null
vh_ctl add px 127.0.1.5 "$J/y" --user nobody >/dev/null
for c in 127.0.1.5:127.0.1.5 127.0.1.7:127.0.1.0/24 127.0.2.1:127.0.0.0/8; do
	d=${c%%:*} row=${c#*:}
	px 127.0.0.2 19850 -b 127.0.0.1 -x "$(v2p4 127.0.0.10 "$d" 40000 80)$PAY"
	served "fleet C1 proxied destination $d" "$row" "$PAY"
done
vh_ctl disable px 127.0.1.0/24 >/dev/null
px 127.0.0.2 19850 -b 127.0.0.1 -x "$(v2p4 127.0.0.10 127.0.1.7 40000 80)$PAY"
refused "fleet C4 a disabled /24 inside an enabled /8: no fall-through" 69 "disabled" 1500

vh_done
