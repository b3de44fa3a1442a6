#!/bin/bash
# Red team (issue 17, THREATS L5): a trusted balancer that
# ended TLS itself sends no AUTHORITY when its client sent no SNI (or
# HAProxy was not told proxy-v2-options authority). On a --tls-sni line
# (test_s_haproxy S9 runs a TLS-ending frontend into one), the bytes
# behind the header are then the client's plaintext, and a made-up
# ClientHello in them chooses any name row - a name the balancer never
# checked (per-SNI client-certificate rules in a crt-list, ACLs on
# ssl_fc_sni). The balancer says it ended TLS in the PP2_TYPE_SSL TLV
# (0x20, client bit PP2_CLIENT_SSL; HAProxy: proxy-v2-options ssl); with
# it, virtuald must not peek for a name.
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
"$TCPSERVER" -H -l 0 -R -c 10 127.0.0.2 20304 "$VIRTUALD" --db "$DB" --tls-sni https /bin/probe sockstate \
	>>"$F/srv.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 20304
HELLO=$(od -An -v -tx1 "$CORPUS/openssl" | tr -d ' \n') # asks for a.example.test
# v2 TLVHEX: PROXY TCP4 127.0.0.9:40000 -> 127.0.0.2:20304 with these TLVs
v2() { printf '0d0a0d0a000d0a515549540a2111%04x7f0000097f0000029c404f50%s' $((12 + ${#1} / 2)) "$1"; }
SSL_TLV=2000050100000000 # PP2_TYPE_SSL: client PP2_CLIENT_SSL, verify 0, no sub-TLV

out=$("$PX" -b 127.0.0.1 -x "$(v2 '')$HELLO" 127.0.0.2 20304 2>/dev/null)
vh_contains "control: passthrough (no SSL TLV), the ClientHello chooses" "VIRTUALD_ADDRESS=a.example.test" "$out"
out=$("$PX" -b 127.0.0.1 -x "$(v2 $SSL_TLV)$HELLO" 127.0.0.2 20304 2>/dev/null)
vh_not_contains "the balancer ended TLS (SSL TLV): a ClientHello in the plaintext chooses no name row" \
	"VIRTUALD_ADDRESS=a.example.test" "$out"
vh_done
