#!/bin/bash
# Red team (issue 17, THREATS L5): a PROXY v2 AUTHORITY from a trusted
# balancer and the ClientHello's server name must agree (fleet.md 2.1).
# An AUTHORITY that is an IP literal (a client's outer SNI "127.0.0.5",
# passed on verbatim by a TLS-ending balancer) normalises to no name; the
# ClientHello behind it - written by the client inside the tunnel - must
# not then choose a name row the balancer never saw. Control: no
# AUTHORITY at all (passthrough) lets the ClientHello choose.
. "$(dirname "$0")/lib.sh"
PX=${VH_PXSEND:-$VH_BUILD/tests/integration/vh_pxsend}
CORPUS=$VH_SRC/tests/fuzz/corpus/clienthello

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/a" a
vh_mkjail "$J/d" d
vh_ctl add https a.example.test "$J/a" --user nobody >/dev/null
vh_ctl add https default "$J/d" --user nobody >/dev/null
vh_ctl proxy-trust add 127.0.0.1 --service https >/dev/null

"$TCPSERVER" -H -l 0 -R -c 10 127.0.0.2 20303 "$VIRTUALD" --db "$DB" --tls-sni https /bin/probe sockstate \
	>>"$F/srv.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 20303

HELLO=$(od -An -v -tx1 "$CORPUS/openssl" | tr -d ' \n') # asks for a.example.test
# v2 NAME: PROXY TCP4 127.0.0.9:40000 -> 127.0.0.2:20303, with an
# AUTHORITY TLV NAME when NAME is given
v2() {
	local name=$1 hexname tlv='' len
	if [ -n "$name" ]; then
		hexname=$(printf '%s' "$name" | od -An -v -tx1 | tr -d ' \n')
		tlv=$(printf '02%04x%s' "${#name}" "$hexname")
	fi
	len=$((12 + ${#tlv} / 2))
	printf '0d0a0d0a000d0a515549540a2111%04x7f0000097f0000029c404f4f%s' "$len" "$tlv"
}

vh_log_mark
out=$("$PX" -b 127.0.0.1 -x "$(v2 '')$HELLO" 127.0.0.2 20303 2>/dev/null)
vh_contains "control: no AUTHORITY (passthrough), the ClientHello chooses" "VIRTUALD_ADDRESS=a.example.test" "$out"

vh_log_mark
out=$("$PX" -b 127.0.0.1 -x "$(v2 127.0.0.5)$HELLO" 127.0.0.2 20303 2>/dev/null)
vh_not_contains "AUTHORITY 127.0.0.5 (an IP literal): the tunnel's ClientHello does not choose a.example.test" \
	"VIRTUALD_ADDRESS=a.example.test" "$out"
line=$(vh_log_wait "refused service=https") || line=
vh_contains "... refused, the SNI and the AUTHORITY disagree" "disagree" "$line"
vh_contains "... status 76" "status=76" "$line"

vh_log_mark
out=$("$PX" -b 127.0.0.1 -x "$(v2 127.0.0.5)$(printf 'GET / HTTP/1.0\r\n\r\n' | od -An -v -tx1 | tr -d ' \n')" \
	127.0.0.2 20303 2>/dev/null)
vh_contains "control: AUTHORITY 127.0.0.5 and plaintext: the address chooses (default)" "VIRTUALD_ADDRESS=default" "$out"

vh_done
