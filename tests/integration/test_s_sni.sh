#!/bin/bash
# Selection by TLS server name (issue 17): the SNI acceptance table S of
# ../shared/design/fleet.md section 6, rows S2-S8 and S10's end-to-end
# half, with their controls, through a real super-server (tcpserver) on
# loopback (S1 and S9, with stunnel and HAProxy, are other tests'; S11
# is the fuzz target). THREATS L2 (a slow, split or missing ClientHello),
# L3 (a byte of the service's stream eaten), L4 (a malformed ClientHello),
# L5 (which name chooses).
#
# The client (pxsend) sends exact bytes in timed pieces: ClientHellos
# captured from OpenSSL and curl (tests/fuzz/corpus/clienthello, the
# same as tests/unit/test_tls.c's), re-cut into other records, and
# made-up ones built below from hex. The service is the probe's
# "sockstate": its TCP* and VIRTUALD_* variables and exactly the bytes it
# could read (hex and length): every byte of the ClientHello must reach
# it, since virtuald only peeks. virtuald's exit status is tcpserver -v's
# "end ... status" and the "refused ... status=N" log line. Every refusal
# asserts no exec (nothing written, no "served" line), the status, the
# reason and the time bound.
. "$(dirname "$0")/lib.sh"
PX=${VH_PXSEND:-$VH_BUILD/tests/integration/vh_pxsend}
STRACE=$(command -v strace)
CORPUS=$VH_SRC/tests/fuzz/corpus/clienthello

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
for j in a b c w x p d o; do
	vh_mkjail "$J/$j" "$j"
done
# Customers a and b share 127.0.0.2 (no exact row there); *.w.example.test
# is a wildcard; c.example.test a row for every service; 127.0.0.3 is a
# dedicated address; 127.0.2.0/24 parks a block of VIPs; the default
# row takes the rest.
vh_ctl add https a.example.test "$J/a" --user nobody >/dev/null
vh_ctl add https b.example.test "$J/b" --user nobody >/dev/null
vh_ctl add https '*.w.example.test' "$J/w" --user nobody >/dev/null
vh_ctl add '*' c.example.test "$J/c" --user nobody >/dev/null
vh_ctl add https 127.0.0.3 "$J/x" --user nobody >/dev/null
vh_ctl add https 127.0.2.0/24 "$J/p" --user nobody >/dev/null
vh_ctl add https default "$J/d" --user nobody >/dev/null
vh_ctl add https o.example.test "$J/o" --user nobody >/dev/null
vh_ctl disable https o.example.test >/dev/null
vh_eq "the name rows are stored (list shows them)" 4 \
	"$(vh_ctl list | grep -cE 'a\.example\.test|b\.example\.test|\*\.w\.example\.test|c\.example\.test')"

# srv ADDR PORT COMMAND...: tcpserver -v (its log tells each child's exit)
srv() {
	local addr=$1 port=$2
	shift 2
	: >>"$F/srv$port.log"
	"$TCPSERVER" -v -H -l 0 -R -c 50 "$addr" "$port" "$@" >>"$F/srv$port.log" 2>&1 &
	VH_PIDS+=($!)
	vh_wait_listen "$port"
}
# vsrv ADDR PORT VIRTUALD-OPTIONS...: virtuald running the probe's sockstate
vsrv() {
	local addr=$1 port=$2
	shift 2
	srv "$addr" "$port" "$VIRTUALD" --db "$DB" "$@" https /bin/probe sockstate
}

# px HOST PORT PXSEND-OPTIONS...: one connection, from 127.0.0.1. Sets
# OUT (what the client got back), RC (pxsend's status), MS (the client's
# wall time), ST (virtuald's exit status, from tcpserver's "end" line)
# and LOG (the syslog lines written meanwhile).
px() {
	local host=$1 port=$2 before line
	shift 2
	before=$(grep -c ' end ' "$F/srv$port.log")
	vh_log_mark
	local t0=${EPOCHREALTIME/./}
	OUT=$("$PX" -b 127.0.0.1 "$@" "$host" "$port" 2>>"$F/pxsend.err")
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
	# virtuald's last line (served, ended, refused or closed) is sent
	# before it exits; syslogd writes it soon after
	local pid=${line#*end }
	pid=${pid%% *}
	for _ in $(seq 20); do
		grep -qE "virtuald\[$pid\]: (ended|refused|closed) " "$F/syslog" && break
		sleep 0.05
	done
	LOG=$(cat "$F/syslog")
}

# refused CASE STATUS REASON MAXMS [MINMS]: the last px was refused.
refused() {
	local c=$1 st=$2 why=$3 max=$4 min=${5:-0} line
	vh_eq "$c: exit status $st" "$st" "$ST"
	vh_eq "$c: nothing written to the client (no exec)" "" "$OUT"
	case $RC in 0 | 4) vh_ok "$c: the client read EOF or a reset, nothing else ($RC)" ;;
	*) vh_notok "$c: pxsend status $RC (2 connect failed, 3 timed out)" ;; esac
	line=$(vh_log_wait "refused service=https") || line=
	vh_contains "$c: log status=$st" "status=$st " "$line"
	vh_contains "$c: reason" "$why" "$line"
	vh_not_contains "$c: no served line" "served service" "$LOG"
	if [ "$MS" -le "$max" ] && [ "$MS" -ge "$min" ]; then
		vh_ok "$c: refused within ${min}-${max} ms ($MS ms)"
	else
		vh_notok "$c: refused after $MS ms, expected ${min}-${max} ms"
	fi
}

# fnv HEX: FNV-1a 64 of the bytes, as the probe computes it (its offset
# basis included)
fnv() {
	local h=1469598103934665603 i
	for ((i = 0; i < ${#1}; i += 2)); do
		h=$(((h ^ 0x${1:i:2}) * 1099511628211))
	done
	printf '%016x' "$h"
}

# served CASE ROW RULE NAME HEX: the probe ran in the jail of row ROW,
# chosen by RULE, with VIRTUALD_SERVER_NAME=NAME ("(unset)": none), and
# read exactly the bytes HEX (L3: the ClientHello is the service's): its
# length and FNV-1a, and the bytes themselves (the probe shows 4 KiB).
served() {
	local c=$1 row=$2 rule=$3 name=$4 hex=$5 line
	vh_eq "$c: exit status 0" 0 "$ST"
	vh_contains "$c: served by the row $row" "VIRTUALD_ADDRESS=$row"$'\n' "$OUT"
	vh_contains "$c: VIRTUALD_SERVER_NAME" "VIRTUALD_SERVER_NAME=$name"$'\n' "$OUT"
	vh_eq "$c: the service read every byte sent (L3)" "read=$((${#hex} / 2)) fnv=$(fnv "$hex") hex=${hex:0:8192}" \
		"$(grep '^read=' <<<"$OUT") $(grep '^hex=' <<<"$OUT")"
	vh_eq "$c: one served line" 1 "$(grep -c 'served service=https' <<<"$LOG")"
	line=$(grep 'served service=https' <<<"$LOG")
	vh_contains "$c: served line rule=$rule" " rule=$rule " "$line"
	if [ "$name" = "(unset)" ]; then
		vh_not_contains "$c: served line names no name" " name=" "$line"
	else
		vh_contains "$c: served line name=$name from=sni" " name=$name from=sni " "$line"
	fi
}

# --- ClientHellos --------------------------------------------------------------
hexof() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
filehex() { od -An -tx1 -v "$1" | tr -d ' \n'; }
# v8/v16/v24 HEX: a TLS vector, its 1-, 2- or 3-byte length first
v8() { printf '%02x%s' $((${#1} / 2)) "$1"; }
v16() { printf '%04x%s' $((${#1} / 2)) "$1"; }
v24() { printf '%06x%s' $((${#1} / 2)) "$1"; }
# ext TYPE DATA: an extension (RFC 8446 4.2), all hex
ext() { printf '%s' "$1" && v16 "$2"; }
# snx NAMEHEX...: a server_name extension with one host_name entry per
# argument (RFC 6066 3); sni NAME: with the one name NAME
snx() {
	local l='' n
	for n; do l=$l$(printf '00' && v16 "$n"); done
	ext 0000 "$(v16 "$l")"
}
sni() { snx "$(hexof "$1")"; }
# the fields of a made-up ClientHello body (RFC 8446 4.1.2), each with
# its length, changed one at a time by the refusal cases
RND=$(printf 'a5%.0s' $(seq 32))
SID=$(v8 "$(printf '5a%.0s' $(seq 32))")
CS=$(v16 130113021303c02bc02f)
COMP=$(v8 00)
SV=$(ext 002b 0403040303) # supported_versions: TLS 1.3, 1.2
# body EXTS: a ClientHello body with these extensions (hex), the fields
# as the variables above say
body() { printf '0303%s%s%s%s' "$RND" "$SID" "$CS" "$COMP" && v16 "$1"; }
hs() { printf '01' && v24 "$1"; } # the handshake message around a body
# recs N MSG [VER]: the handshake message cut into N records as evenly
# as possible (record version VER, default 0301)
recs() {
	local n=$1 m=$2 v=${3:-0301} len=$((${#2} / 2)) off=0 i sz
	for ((i = 0; i < n; i++)); do
		sz=$(((len - off) / (n - i)))
		printf '16%s%04x%s' "$v" "$sz" "${m:off*2:sz*2}"
		off=$((off + sz))
	done
}
# hello NAME [EXTRA-EXTS]: a one-record ClientHello asking for NAME
hello() { recs 1 "$(hs "$(body "$(sni "$1")$SV${2:-}")")"; }
# msgof HELLO: the handshake message of a one-record hello (a capture)
msgof() { printf '%s' "${1:10}"; }

OPENSSL=$(filehex "$CORPUS/openssl") # openssl s_client -servername a.example.test
SPLIT2=$(filehex "$CORPUS/split2")   # the same with -max_send_frag 512: 2 records
SPLIT4=$(filehex "$CORPUS/split4")   # 4 records
CURL12=$(filehex "$CORPUS/curl12")   # curl --tls-max 1.2 b.example.test
NONAME=$(filehex "$CORPUS/noname")   # openssl s_client -noservername
IPLIT=$(filehex "$CORPUS/ip")        # -servername 127.0.0.2
UPPER=$(filehex "$CORPUS/upper")     # -servername A.Example.TEST.
GET=$(hexof $'GET / HTTP/1.0\r\nHost: a.example.test\r\n\r\n')
vh_check "the captures are there" test "${#OPENSSL}" = 640 -a "${#SPLIT2}" = 1238 -a "${#UPPER}" = 642
vh_contains "the openssl capture asks for a.example.test" "$(hexof a.example.test)" "$OPENSSL"
vh_eq "the -max_send_frag capture is 2 records (512 + 97)" "1603010200 1603010061" \
	"${SPLIT2:0:10} ${SPLIT2:1034:10}"
# The first piece of a split hello is followed by FIRST ms, so that
# virtuald has started and peeked it before the rest comes, even when it
# starts slowly (a sanitizer build): then it really waits.
FIRST=500

# --- servers ---------------------------------------------------------------------
vsrv 127.0.0.2 20100 --tls-sni
vsrv 127.0.0.2 20101 --tls-sni --verbose
vsrv 127.0.0.2 20102 --tls-sni --first-bytes-timeout 0.05
vsrv 127.0.0.2 20103 --tls-sni --first-bytes-timeout 1
vsrv 127.0.2.1 20104 --tls-sni
vsrv 127.0.0.3 20105 --tls-sni
vsrv 127.0.0.2 20106
srv 127.0.0.2 20107 "$STRACE" -f -q -e trace=recvfrom,recvmsg,read,poll,ppoll,setsockopt -o "$F/strace.out" \
	"$VIRTUALD" --db "$DB" https /bin/probe exit 0
srv 127.0.0.2 20108 "$STRACE" -f -q -e trace=recvfrom,recvmsg,read,poll,ppoll,setsockopt -o "$F/strace.out" \
	"$VIRTUALD" --db "$DB" --tls-sni https /bin/probe exit 0

# --- the name path ---------------------------------------------------------------
px 127.0.0.2 20100 -x "$OPENSSL"
served "openssl's hello for a.example.test" a.example.test name a.example.test "$OPENSSL"
px 127.0.0.2 20100 -x "$CURL12"
served "curl's TLS 1.2 hello for b.example.test" b.example.test name b.example.test "$CURL12"
H=$(hello x.w.example.test)
px 127.0.0.2 20100 -x "$H"
served "x.w.example.test: the wildcard" '*.w.example.test' wildcard x.w.example.test "$H"
H=$(hello y.x.w.example.test)
px 127.0.0.2 20100 -x "$H"
served "y.x.w.example.test: two labels below the wildcard, not matched (default)" default default \
	y.x.w.example.test "$H"
H=$(hello w.example.test)
px 127.0.0.2 20100 -x "$H"
served "w.example.test: the wildcard's own name, not matched (default)" default default w.example.test "$H"
H=$(hello c.example.test)
px 127.0.0.2 20100 -x "$H"
served "c.example.test: a row for every service" c.example.test name-any-service c.example.test "$H"
H=$(hello a.example.test)
px 127.0.0.3 20105 -x "$H"
served "a dedicated address beats a name (127.0.0.3 asked for a.example.test)" 127.0.0.3 exact a.example.test "$H"
px 127.0.2.1 20104 -x "$H"
served "a name beats a prefix" a.example.test name a.example.test "$H"
H=$(hello o.example.test)
px 127.0.0.2 20100 -x "$H"
refused "a disabled name row refuses, no fall-through to the default" 69 "disabled" 1500
H=$(hello localhost)
px 127.0.0.2 20100 -x "$H"
served "a name of one label (localhost): the address chooses" default default localhost "$H"

# Nothing peeked without --tls-sni: the address decides, not the name
px 127.0.0.2 20106 -x "$OPENSSL"
served "without --tls-sni a.example.test's hello goes to the default row" default default "(unset)" "$OPENSSL"
: >"$F/strace.out"
px 127.0.0.2 20107 -x "$OPENSSL"
vh_eq "without --tls-sni: not one recvfrom, read, poll or setsockopt on the socket before exec" "" \
	"$(grep -E '(recvfrom|recvmsg|read|poll|ppoll|setsockopt)\(0,' "$F/strace.out" | grep -v 'execve')"
vh_check "... and the trace holds virtuald's calls (strace worked)" grep -q 'exited with 0' "$F/strace.out"
: >"$F/strace.out"
px 127.0.0.2 20108 -x "$OPENSSL"
vh_check "with --tls-sni: the hello is peeked (MSG_PEEK)" grep -qE 'recvfrom\(0, .*MSG_PEEK' "$F/strace.out"
vh_eq "with --tls-sni: no recvfrom or read of the socket without MSG_PEEK (nothing consumed)" "" \
	"$(grep -E '(recvfrom|recvmsg|read)\(0,' "$F/strace.out" | grep -v MSG_PEEK)"

# The control of every "read every byte" check: one byte eaten before
# virtuald runs (dd), the probe reads one byte fewer, and the comparison
# sees it; a hello without its first byte is no TLS, the address chooses.
srv 127.0.0.2 20109 sh -c 'dd bs=1 count=1 of=/dev/null 2>/dev/null; exec "$@"' sh \
	"$VIRTUALD" --db "$DB" --tls-sni https /bin/probe sockstate
px 127.0.0.2 20109 -x "$OPENSSL"
vh_eq "L3 control: a byte eaten before virtuald shows in the probe's count and hash" \
	"read=$((${#OPENSSL} / 2 - 1)) fnv=$(fnv "${OPENSSL:2}")" "$(grep '^read=' <<<"$OUT")"
vh_not_contains "L3 control: ... which differ from the whole hello's" "fnv=$(fnv "$OPENSSL")" "$OUT"
vh_contains "L3 control: no TLS first byte, the address chose" "VIRTUALD_ADDRESS=default"$'\n' "$OUT"

# --- S2: records -----------------------------------------------------------------
px 127.0.0.2 20100 -x "$SPLIT2"
served "S2 openssl -max_send_frag 512: 2 records" a.example.test name a.example.test "$SPLIT2"
px 127.0.0.2 20100 -x "$SPLIT4"
served "S2 openssl -max_send_frag 512: 4 records" a.example.test name a.example.test "$SPLIT4"
M=$(msgof "$OPENSSL")
H=$(recs 16 "$M")
px 127.0.0.2 20100 -x "$H"
served "S2 openssl's hello re-cut into 16 records" a.example.test name a.example.test "$H"
H=$(recs 32 "$M")
px 127.0.0.2 20100 -x "$H"
served "S2 ... into 32 records (the most)" a.example.test name a.example.test "$H"
px 127.0.0.2 20100 -x "$(recs 33 "$M")"
refused "S2 ... into 33 records" 76 "bad TLS ClientHello from 127.0.0.1:" 1500
vh_contains "S2 33 records: the reason" "in more than 32 records" "$LOG"
vh_contains "S2 33 records: a warning (the client's doing)" "daemon.warn" "$LOG"

# --- S3: segments ----------------------------------------------------------------
L=$((${#OPENSSL} / 2))
N=$(hexof a.example.test)
NOFF=${OPENSSL%%"$N"*}
MID=$((${#NOFF} / 2 + 7))
CUTS=1,5,6,9,43,$MID,$((L - 1))
px 127.0.0.2 20100 -x "$OPENSSL" -p "$CUTS" -g 100 -G "$FIRST"
served "S3 openssl's hello cut at $CUTS (SNI at $((MID - 7))), 100 ms apart" a.example.test name \
	a.example.test "$OPENSSL"
vh_check "S3: the pieces took their time (${MS} ms)" test "$MS" -ge $((FIRST + 5 * 100))
# a made-up 2 KB hello: a post-quantum-sized key_share (X25519Kyber768, 1,216 bytes) and padding
KS=$(ext 0033 "$(v16 "6399$(v16 "$(head -c 1216 /dev/zero | tr '\0' '\7' | od -An -tx1 -v | tr -d ' \n')")")")
PAD=$(ext 0015 "$(printf '00%.0s' $(seq 700))")
BIG=$(hello b.example.test "$KS$PAD")
vh_check "S3 the made-up hello is about 2 KB ($((${#BIG} / 2)) bytes)" test $((${#BIG} / 2)) -ge 2000
px 127.0.0.2 20100 -x "$BIG" -p 1000 -g "$FIRST"
served "S3 a 2 KB hello in two segments (cut at 1000)" b.example.test name b.example.test "$BIG"
# the largest: a 16,384-byte body (a padding extension) in 2 records,
# over two segments cut in the second record
B=$(body "$(sni b.example.test)$SV$KS")
PADMAX=$(ext 0015 "$(head -c $((16384 - ${#B} / 2 - 4)) /dev/zero | od -An -tx1 -v | tr -d ' \n')")
MAX=$(recs 2 "$(hs "$(body "$(sni b.example.test)$SV$KS$PADMAX")")")
vh_eq "S3 the largest hello: 16,384 bytes of body in 2 records" "16384 $((16384 + 4 + 10))" \
	"$((0x${MAX:12:6})) $((${#MAX} / 2))"
px 127.0.0.2 20100 -x "$MAX" -p 12000 -g "$FIRST"
served "S3 the largest hello, 2 records, 2 segments" b.example.test name b.example.test "$MAX"
px 127.0.0.2 20102 -x "$OPENSSL" -p "$CUTS" -g 100 -G "$FIRST"
refused "S3 control: --first-bytes-timeout 0.05 with the same cuts" 75 "no complete TLS ClientHello" $((FIRST + 1000))
px 127.0.0.2 20102 -x "$BIG" -p 1000 -g "$FIRST"
refused "S3 control: --first-bytes-timeout 0.05, the 2 KB hello in two segments" 75 "(1000 of " $((FIRST + 1000))

# --- S4: no name -----------------------------------------------------------------
px 127.0.0.2 20100 -x "$NONAME"
served "S4 openssl -noservername: the default row" default default "(unset)" "$NONAME"
px 127.0.2.1 20104 -x "$NONAME"
served "S4 openssl -noservername on a parked VIP: the prefix row" 127.0.2.0/24 prefix/24 "(unset)" "$NONAME"
px 127.0.0.2 20100 -x "$IPLIT"
served "S4 SNI 127.0.0.2 (an IP literal): the default row" default default "(unset)" "$IPLIT"
px 127.0.2.1 20104 -x "$IPLIT"
served "S4 SNI 127.0.0.2 on a parked VIP: the prefix row" 127.0.2.0/24 prefix/24 "(unset)" "$IPLIT"
px 127.0.2.1 20104 -x "$OPENSSL"
served "S4 control: with SNI a.example.test on the parked VIP, the name row" a.example.test name a.example.test \
	"$OPENSSL"
H=$(recs 1 "$(hs "$(body "$SV")")")
px 127.0.0.2 20101 -x "$H"
served "S4 a made-up hello without server_name" default default "(unset)" "$H"
vh_contains "S4 --verbose: sni=(none)" "sni=(none)" "$LOG"
H=$(recs 1 "$(hs "0303$RND$SID$CS$COMP")")
px 127.0.0.2 20100 -x "$H"
served "S4 a TLS 1.2 hello without any extensions" default default "(unset)" "$H"

# --- S5: not TLS -----------------------------------------------------------------
px 127.0.0.2 20100 -x "$GET"
served "S5 plain GET / to the TLS port: the address chooses" default default "(unset)" "$GET"
px 127.0.0.2 20101 -x "$GET"
vh_contains "S5 --verbose: the address chooses" "first byte is no TLS handshake" "$LOG"
H=80$(hexof 'an SSLv2-style hello to a.example.test')
px 127.0.0.2 20100 -x "$H"
served "S5 first byte 0x80 (SSLv2 style)" default default "(unset)" "$H"
# with a 0.05 s deadline: waiting for more than the first byte would be 75
px 127.0.0.2 20102 -x "$GET" -p 1 -g "$FIRST"
served "S5 'G', then the rest 0.5 s later (--first-bytes-timeout 0.05): decided on the first byte" default default \
	"(unset)" "$GET"
px 127.0.0.2 20100 -x "$OPENSSL"
served "S5 control: first byte 0x16, the name path" a.example.test name a.example.test "$OPENSSL"

# --- S6: malformed ---------------------------------------------------------------
bad() {
	px 127.0.0.2 20100 -x "$2"
	refused "S6 L4 $1" 76 "${3:-bad TLS ClientHello from 127.0.0.1:}" 1500
	vh_contains "S6 $1: the reason" "$4" "$LOG"
}
E=$(sni a.example.test)$SV
M=$(hs "$(body "$E")")
bad "record version 0x0200" "$(recs 1 "$M" 0200)" "" "record version is not 3.0"
bad "record length 0" "1603010000$(recs 1 "$M")" "" "record length is 0 or over 16384"
bad "record length 16385" "1603014001$M" "" "record length is 0 or over 16384"
R2=$(recs 2 "$M")
bad "an alert record between the fragments" "${R2:0:$(((5 + ${#M} / 4) * 2))}15030300020228${R2:$(((5 + ${#M} / 4) * 2))}" \
	"" "record of another type between the fragments"
bad "msg_type 2 (a ServerHello)" "$(recs 1 "02${M:2}")" "" "does not start with a ClientHello"
PADBIG=$(ext 0015 "$(head -c $((16385 - ${#M} / 2 + 4 - 4)) /dev/zero | od -An -tx1 -v | tr -d ' \n')")
MB=$(hs "$(body "$E$PADBIG")")
vh_eq "the oversized hello's body is 16,385 bytes" 16385 $((${#MB} / 2 - 4))
bad "a ClientHello over 16 KiB (16,385 bytes in 2 records)" "$(recs 2 "$MB")" "" "length is outside 41..16384"
bad "session id of 33 bytes" "$(recs 1 "$(hs "$(SID=$(v8 "$(printf '5a%.0s' $(seq 33))") body "$E")")")" "" \
	"session id is longer than 32 bytes"
bad "odd cipher-suite length" "$(recs 1 "$(hs "$(CS=0003130113 body "$E")")")" "" "odd length"
bad "no compression methods" "$(recs 1 "$(hs "$(COMP=00 body "$E")")")" "" "no compression method"
B=$(body "$E")
EL=$((${#E} / 2))
bad "extensions length one more than the bytes left" \
	"$(recs 1 "$(hs "${B:0:$((${#B} - ${#E} - 4))}$(printf '%04x' $((EL + 1)))$E")")" "" "extensions length is not"
bad "extensions length one less" \
	"$(recs 1 "$(hs "${B:0:$((${#B} - ${#E} - 4))}$(printf '%04x' $((EL - 1)))$E")")" "" "extensions length is not"
bad "an extension running past the end" "$(recs 1 "$(hs "$(body "$E$(printf '0017')0004aa")")")" "" \
	"extension runs past the end"
bad "a duplicate extension (supported_versions twice)" "$(hello a.example.test "$SV")" "" "same extension twice"
bad "two host_names" "$(recs 1 "$(hs "$(body "$(snx "$(hexof a.example.test)" "$(hexof b.example.test)")$SV")")")" \
	"" "two host names"
bad "an unknown name_type (1)" \
	"$(recs 1 "$(hs "$(body "$(ext 0000 "$(v16 "01$(v16 "$(hexof a.example.test)")")")$SV")")")" "" \
	"not a host name"
bad "an empty host_name" "$(recs 1 "$(hs "$(body "$(snx "")$SV")")")" "" "host name is empty"
bad "an empty server_name extension (a ServerHello's)" "$(recs 1 "$(hs "$(body "$(ext 0000 "")$SV")")")" "" \
	"server_name extension is empty"
bname() { bad "$1" "$(recs 1 "$(hs "$(body "$(snx "$2")$SV")")")" "" "$3"; }
bname "a NUL in the name" "$(hexof a)00$(hexof .example.test)" "byte other than a letter"
bname "a space in the name" "$(hexof 'a b.example.test')" "byte other than a letter"
bname "an 8-bit byte in the name (a U-label)" "$(hexof caf)c3a9$(hexof .example.test)" "byte other than a letter"
bname "an underscore in the name" "$(hexof a_b.example.test)" "byte other than a letter"
L63=$(printf 'x%.0s' $(seq 63))
bname "a label of 64 bytes" "$(hexof "${L63}y.example.test")" "longer than 63 bytes"
N253=$L63.$L63.$L63.$(printf 'z%.0s' $(seq 61))
vh_eq "the long name is 253 bytes" 253 "${#N253}"
bname "a name of 254 bytes" "$(hexof "a$N253")" "longer than 253 bytes"
bname "a leading hyphen" "$(hexof -a.example.test)" "starting or ending with a hyphen"
bname "an empty label" "$(hexof a..example.test)" "empty label"
bname "two trailing dots" "$(hexof a.example.test..)" "empty label"
H=$(hello a.example.test)
bad "trailing bytes after the ClientHello in its record" \
	"16030$(printf '1%04x' $((${#H} / 2 - 5 + 3)))${H:10}000000" "" "bytes after the end of the ClientHello"
# the controls: a 253-byte name is valid (and chooses no row here);
# upper case and a trailing dot are normalised, and served
H=$(recs 1 "$(hs "$(body "$(sni "$N253")$SV")")")
px 127.0.0.2 20100 -x "$H"
served "S6 control: a name of 253 bytes is valid (no row: default)" default default "$N253" "$H"
px 127.0.0.2 20100 -x "$UPPER"
served "S6 control: openssl -servername A.Example.TEST. normalised and served" a.example.test name \
	a.example.test "$UPPER"
H=$(hello B.EXAMPLE.test.)
px 127.0.0.2 20100 -x "$H"
served "S6 control: B.EXAMPLE.test. normalised and served" b.example.test name b.example.test "$H"
H=$(printf '%s' "$OPENSSL" "17030300050102030405")
px 127.0.0.2 20100 -x "$H"
served "S6 control: a record after the ClientHello's (0-RTT data) is the service's" a.example.test name \
	a.example.test "$H"

# --- S7: stalled and gone ----------------------------------------------------------
px 127.0.0.2 20100 -k -t 6000
refused "S7 L2 connect and send nothing, the default 3 s" 75 "within 3000 ms (0 of 1 bytes)" 3600 2950
px 127.0.0.2 20103 -k -t 5000
refused "S7 L2 connect and send nothing, --first-bytes-timeout 1" 75 "no complete TLS ClientHello" 1600 950
px 127.0.0.2 20103 -x "${OPENSSL:0:320}" -k -t 5000
refused "S7 L2 half a ClientHello, then a stall" 75 "(160 of 320 bytes)" 1600 950
px 127.0.0.2 20103 -x "${OPENSSL:0:320}" -t 5000
refused "S7 L2 half a ClientHello, then EOF" 76 "cut off after 160 of 320 bytes" 1500
px 127.0.0.2 20103 -x "$OPENSSL" -p 160 -g 600
served "S7 control: the other half 0.6 s later, before the deadline" a.example.test name a.example.test \
	"$OPENSSL"
px 127.0.0.2 20100
vh_eq "S7 EOF at once: exit status 0" 0 "$ST"
vh_eq "S7 EOF at once: nothing written (no exec)" "" "$OUT"
vh_log_wait "reason=eof-before-data" >/dev/null
LOG=$(cat "$F/syslog")
vh_eq "S7 EOF at once: one line, closed ... reason=eof-before-data" 1 "$(grep -c . <<<"$LOG")"
vh_contains "S7 EOF at once: at LOG_INFO" "daemon.info" "$LOG"
vh_contains "S7 EOF at once: the line" "closed service=https local=127.0.0.2:20100 remote=127.0.0.1:" "$LOG"

# --- S8: ECH ---------------------------------------------------------------------
# encrypted_client_hello (0xfe0d), the outer form (RFC draft 9849: type
# 0, HPKE suite, config id, enc, payload): never decrypted, the outer
# name chooses
ECH=$(ext fe0d "0000010001$(printf 2a)$(v16 "$(printf '11%.0s' $(seq 32))")$(v16 "$(printf '22%.0s' $(seq 200))")")
H=$(hello b.example.test "$ECH")
px 127.0.0.2 20101 -x "$H"
served "S8 a hello with encrypted_client_hello and outer SNI b.example.test" b.example.test name b.example.test "$H"
vh_contains "S8 --verbose: ech=1 in the detail line" "sni=b.example.test ech=1" "$LOG"
vh_contains "S8 --verbose: the detail line" "detail tls-sni remote=127.0.0.1:" "$LOG"
H=$(filehex "$CORPUS/made-ech")
px 127.0.0.2 20101 -x "$H"
served "S8 the corpus' ECH hello (outer name public.example.test, no row: default)" default default \
	public.example.test "$H"
vh_contains "S8 corpus: ech=1" "ech=1" "$LOG"
px 127.0.0.2 20101 -x "$OPENSSL"
vh_contains "S8 control: openssl's hello without ECH, ech=0" "records=1 version=0x0303 sni=a.example.test ech=0" "$LOG"

# --- S10: lookup --name explains what virtuald served -----------------------------
for c in 127.0.0.2:a.example.test:20100 127.0.0.2:x.w.example.test:20100 127.0.0.2:c.example.test:20100 \
	127.0.0.2:a.b.w.example.test:20100 127.0.0.3:b.example.test:20105 127.0.2.1:d.example.test:20104 \
	127.0.2.1:a.example.test:20104; do
	IFS=: read -r ip name port <<<"$c"
	px "$ip" "$port" -x "$(hello "$name")"
	got=$(grep -o ' domain=[^ ]* rule=[^ ]*' <<<"$LOG")
	js=$(vh_ctl lookup https "$ip" --name "$name" --json | jq -r '" domain=\(.row.service)/\(.row.address) rule=\(.rule)"')
	vh_eq "S10 lookup https $ip --name $name --json agrees with virtuald (${got# })" "$got" "$js"
done

vh_done
