#!/bin/bash
# Issue 15: virtuald behind a real HAProxy 2.6 (THREATS L1)
# (../shared/design/fleet.md 1.5, 1.7, 5.5; table P rows P1, P3, P9 and
# table C row C1). Two network namespaces of the test's own, joined by a
# veth pair (addresses exist only inside them):
#
#   lb  (HAProxy, the clients)  10.231.0.1, 10.231.0.2   fd56:6864:7600:1::1, ::9
#   h   (tcpserver/systemd-socket-activate running virtuald, busybox httpd
#        jails)                 10.231.0.11, 10.231.0.12 fd56:6864:7600:1::11
#                               AnyIP fd56:6864:7600:20::/63 on lo
#
# 10.231.0.1 is the trusted balancer (a proxy_sources row), 10.231.0.2
# is not. The jails' CGI /cgi-bin/env prints what the service got. Also
# P2's second half (a v2 TCP6 header with a ULA destination, sent by
# pxsend from the balancer's address) and P1's byte comparison through
# HAProxy (the probe behind send-proxy-v2 reads exactly the client's
# bytes, SHA-256; THREATS L3).
# Ports are those of the namespaces, not the host's: nothing here can
# meet another test's listener.
. "$(dirname "$0")/lib.sh"

command -v haproxy >/dev/null || {
	echo "not ok - haproxy is not installed: run scripts/deps"
	exit 1
}
PX=${VH_PXSEND:-$VH_BUILD/tests/integration/vh_pxsend}
NSL=vhl-lb-$$
NSH=vhl-h-$$
P6=fd56:6864:7600
netns_cleanup() {
	vh_cleanup
	# whatever still runs inside the two namespaces is the test's own
	local ns p
	for ns in "$NSL" "$NSH"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
}
trap netns_cleanup EXIT
# nsenter --net switches the network namespace only: the private /dev
# (syslog) and the pids cgroup of lib.sh stay (ip netns exec would
# remount /sys). It execs the command: started in the background as a
# simple command (not through a function, whose subshell would be $!),
# $! is the server's own PID.
LB=(nsenter --net="/run/netns/$NSL")
H=(nsenter --net="/run/netns/$NSH")
in_lb() { "${LB[@]}" "$@"; }
in_h() { "${H[@]}" "$@"; }

ip netns add "$NSL" && ip netns add "$NSH" || {
	echo "not ok - ip netns add failed"
	exit 1
}
ip -n "$NSL" link set lo up
ip -n "$NSH" link set lo up
ip -n "$NSL" link add eth0 type veth peer name eth0 netns "$NSH"
ip -n "$NSL" addr add 10.231.0.1/24 dev eth0
ip -n "$NSL" addr add 10.231.0.2/24 dev eth0
ip -n "$NSL" addr add $P6:1::1/64 dev eth0 nodad
ip -n "$NSL" addr add $P6:1::9/64 dev eth0 nodad
ip -n "$NSH" addr add 10.231.0.11/24 dev eth0
ip -n "$NSH" addr add 10.231.0.12/24 dev eth0
ip -n "$NSH" addr add $P6:1::11/64 dev eth0 nodad
ip -n "$NSL" link set eth0 up
ip -n "$NSH" link set eth0 up
# fleet.md C1: every address of fd56:6864:7600:20::/63 is local on h (AnyIP);
# the lb namespace routes it there
ip -n "$NSH" -6 route add local $P6:20::/63 dev lo
ip -n "$NSL" -6 route add $P6:20::/63 via $P6:1::11
in_lb busybox ping -c1 -W2 10.231.0.11 >/dev/null || {
	echo "not ok - the veth pair does not carry IPv4"
	exit 1
}

# wait_listen NS PORT: until something listens on TCP PORT inside NS.
wait_listen() {
	local hex i
	hex=$(printf ':%04X ' "$2")
	for i in $(seq 100); do
		"$1" grep -q "$hex.* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null && return 0
		sleep 0.05
	done
	echo "not ok - nothing listens on port $2 in $1"
	return 1
}

# --- jails and rows -----------------------------------------------------------
vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
cgi_jail() { # DIR NAME: a jail whose /cgi-bin/env prints its name and environment
	vh_mkjail "$1" "page $2"
	mkdir -p "$1/www/cgi-bin"
	local a
	for a in sh env grep sort; do ln -s busybox "$1/bin/$a"; done
	cat >"$1/www/cgi-bin/env" <<CGI
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo jail=$2
env | grep -E '^(PROTO|TCP|VIRTUALD_|REMOTE_ADDR)' | sort
CGI
	chmod 0755 "$1/www/cgi-bin" "$1/www/cgi-bin/env"
	echo "$2 /health" >"$1/www/health"
	chmod -R go-w "$1"
}
for s in a b health parking six net; do cgi_jail "$J/$s" "$s"; done
vh_ctl add http 127.0.0.2 "$J/a" --user nobody >/dev/null
vh_ctl add http 127.0.0.3 "$J/b" --user nobody >/dev/null
# the backend's own address: the L7 checks' row (fleet.md 1.5)
vh_ctl add http 10.231.0.11 "$J/health" --user nobody >/dev/null
# a parking default: ordinary connections to unknown addresses land
# there, a balancer's own connections never do
vh_ctl add http default "$J/parking" --user nobody >/dev/null
# fleet.md C1 (IPv4) behind the balancer: a /24, and an exact row inside it
vh_ctl add http 127.0.1.0/24 "$J/net" --user nobody >/dev/null
vh_ctl add http 127.0.1.5 "$J/b" --user nobody >/dev/null
# fleet.md C1: one prefix row for a /64 (its neighbour /64 is local too, no row)
vh_ctl add http $P6:20::/64 "$J/six" --user nobody >/dev/null ||
	vh_notok "fleet C1: vhostctl add takes an IPv6 /64 prefix row"
# the trusted balancer: v1 and v2, for service http
vh_ctl proxy-trust add 10.231.0.1 --service http --versions 1,2 >/dev/null ||
	vh_notok "vhostctl proxy-trust add 10.231.0.1 --service http --versions 1,2"
# the same balancer over IPv6 (fleet.md 1.7: server ipv6@...), v2 only,
# trusted through a prefix: fd56:6864:7600:1::0-7 (the lb namespace's
# clients use fd56:6864:7600:1::9, outside it)
vh_ctl proxy-trust add $P6:1::/125 --service http --versions 2 >/dev/null ||
	vh_notok "vhostctl proxy-trust add $P6:1::/125 --service http --versions 2"

# P1's byte comparison: service "bytes" runs the probe, which reads its
# connection to EOF and reports every byte (hex); the balancer is
# trusted for it, v2 only
vh_ctl add bytes 127.0.0.2 "$J/a" --user nobody >/dev/null
vh_ctl proxy-trust add 10.231.0.1 --service bytes --versions 2 >/dev/null ||
	vh_notok "vhostctl proxy-trust add 10.231.0.1 --service bytes --versions 2"

# --- the backend: super-servers running virtuald in namespace h -------------
HTTPD="/bin/busybox httpd -i -h /www"
srv() { # PORT VIRTUALD-ARGS...: tcpserver on 0.0.0.0:PORT in h
	local port=$1
	shift
	"${H[@]}" "$TCPSERVER" -H -l 0 -R -c 200 0 "$port" "$VIRTUALD" --db "$DB" "$@" >>"$F/tcpserver.log" 2>&1 &
	VH_PIDS+=($!)
	wait_listen in_h "$port"
}
srv 80 http $HTTPD   # traffic and the L7 checks
srv 81 http $HTTPD   # the L4 checks, nothing else
srv 82 --verbose http $HTTPD   # the L4 checks' control: the same, --verbose
srv 85 bytes /bin/probe sockstate   # P1's bytes through send-proxy-v2
# its control: the same probe straight under tcpserver, no virtuald (so
# nothing consumes the header: the comparison must see it)
"${H[@]}" "$TCPSERVER" -H -l 0 -R -c 20 0 86 "$VH_PROBE" sockstate >>"$F/tcpserver.log" 2>&1 &
VH_PIDS+=($!)
wait_listen in_h 86
"${H[@]}" "$SSA" --inetd --accept -l "[::]:8080" "$VIRTUALD" --db "$DB" http $HTTPD >>"$F/ssa.log" 2>&1 &
VH_PIDS+=($!)
wait_listen in_h 8080

# --- the balancer, in namespace lb -------------------------------------------
cat >"$F/haproxy.cfg" <<CFG
global
    stats socket $F/haproxy.sock level admin
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout check 5s
    retries 3
    option redispatch 1
frontend v2
    bind 127.0.0.2:80
    bind 127.0.0.3:80
    bind 127.0.1.5:80
    bind 127.0.1.7:80
    bind 127.0.2.1:80
    default_backend be_v2
# the backend reached over IPv6 (systemd-socket-activate on [::]:8080)
frontend v2six
    bind 127.0.0.2:84
    default_backend be_v2six
frontend v1
    bind 127.0.0.2:81
    bind 127.0.0.3:81
    default_backend be_v1
# a plain TCP relay: the client's own header arrives from the balancer
frontend relay
    bind 127.0.0.3:82
    default_backend be_relay
# P1's bytes: the probe behind virtuald, and without it (the control)
frontend bytes
    bind 127.0.0.2:85
    default_backend be_bytes
frontend bytesctl
    bind 127.0.0.2:86
    default_backend be_bytesctl
# a balancer the backend does not trust
frontend untrusted
    bind 127.0.0.2:83
    default_backend be_untrusted
backend be_v2
    server h1 10.231.0.11:80 send-proxy-v2 proxy-v2-options crc32c
backend be_v1
    server h1 10.231.0.11:80 send-proxy
backend be_relay
    server h1 10.231.0.11:80
backend be_v2six
    server h1 ipv6@$P6:1::11:8080 send-proxy-v2 proxy-v2-options crc32c source [$P6:1::1]:0
backend be_bytes
    server h1 10.231.0.11:85 send-proxy-v2 proxy-v2-options crc32c
backend be_bytesctl
    server h1 10.231.0.11:86 send-proxy-v2 proxy-v2-options crc32c
backend be_untrusted
    server h1 10.231.0.11:80 send-proxy-v2 source 10.231.0.2
# L4 checks: to an address without a row of its own (a default exists),
# to the backend's own address (its row), and the first again --verbose
backend chk_l4
    default-server check inter 500ms fall 2 rise 2
    server l4v2 10.231.0.12:81 send-proxy-v2 proxy-v2-options crc32c
    server l4v1 10.231.0.12:81 send-proxy
    server l4own 10.231.0.11:81 send-proxy-v2 proxy-v2-options crc32c
    server l4verbose 10.231.0.12:82 send-proxy-v2
backend chk_l7
    option httpchk GET /health
    http-check expect string health\ /health
    default-server check inter 500ms fall 2 rise 2
    server l7v2 10.231.0.11:80 send-proxy-v2 proxy-v2-options crc32c
    server l7v1 10.231.0.11:80 send-proxy
    server l7verbose 10.231.0.11:82 send-proxy-v2
    server l7nodefault 10.231.0.12:80 send-proxy-v2
CFG
vh_log_mark
"${LB[@]}" haproxy -f "$F/haproxy.cfg" -db >"$F/haproxy.log" 2>&1 &
HAPROXY=$!
VH_PIDS+=($HAPROXY)
wait_listen in_lb 80 || {
	cat "$F/haproxy.log"
	exit 1
}
t0=$(date +%s)

lbget() { # URL [CURL-ARGS...]: the body, "" when refused
	local url=$1
	shift
	in_lb curl -sS -g --max-time 10 "$@" "$url" 2>/dev/null
}
field() { # NAME TEXT: the value of the line NAME=...
	printf '%s\n' "$2" | sed -n "s/^$1=//p"
}

# --- P1: send-proxy-v2 -------------------------------------------------------
for vip in 2 3; do
	out=$(lbget http://127.0.0.$vip/cgi-bin/env --interface 127.0.0.9)
	j=$([ $vip = 2 ] && echo a || echo b)
	vh_eq "P1: v2 to VIP 127.0.0.$vip lands in its jail" "$j" "$(field jail "$out")"
	vh_eq "P1: v2 to 127.0.0.$vip: TCPREMOTEIP is the client" "127.0.0.9" "$(field TCPREMOTEIP "$out")"
	vh_eq "P1: v2 to 127.0.0.$vip: TCPLOCALIP is the VIP dialled" "127.0.0.$vip" "$(field TCPLOCALIP "$out")"
	vh_eq "P1: v2 to 127.0.0.$vip: TCPLOCALPORT is the port dialled" "80" "$(field TCPLOCALPORT "$out")"
	vh_eq "P1: v2 to 127.0.0.$vip: VIRTUALD_PEERIP is the balancer" "10.231.0.1" "$(field VIRTUALD_PEERIP "$out")"
	vh_eq "P1: v2 to 127.0.0.$vip: VIRTUALD_PROXY" "v2" "$(field VIRTUALD_PROXY "$out")"
	# what a service's own getpeername() gives: busybox httpd's CGI
	# REMOTE_ADDR (README "Behind a load balancer")
	vh_eq "P1: v2 to 127.0.0.$vip: httpd's own REMOTE_ADDR (getpeername) is the balancer" "10.231.0.1" \
		"$(field REMOTE_ADDR "$out")"
done
line=$(vh_log_wait "served service=http local=127.0.0.3:80 ") || line=
vh_contains "P1: log line says via=proxy-v2 and names the balancer" "via=proxy-v2 peer=10.231.0.1:" "$line"
vh_contains "P1: log line names the client" "remote=127.0.0.9:" "$line"
vh_contains "P1: log line names the row of the header's destination" "domain=http/127.0.0.3 rule=exact" "$line"
vh_eq "P1: a static page through v2" "page b" "$(lbget http://127.0.0.3/)"
# control: the same header from a peer that is not trusted selects
# nothing: refused (76) before any byte reaches a service
vh_log_mark
vh_eq "P1 control: v2 from the untrusted 10.231.0.2: nothing served" "" "$(lbget http://127.0.0.2:83/cgi-bin/env)"
line=$(vh_log_wait "refused service=http local=10.231.0.11:80") || line=
vh_contains "L1 (P1 control): an untrusted balancer's header refused, naming vhostctl proxy-trust" "PROXY header from untrusted peer 10.231.0.2" "$line"
vh_contains "P1 control: status 76" "status=76" "$line"
# control: a plain connection from the trusted balancer is refused too
# (the header is mandatory); its bytes select nothing
vh_log_mark
vh_eq "P1 control: the trusted balancer without a header: nothing served" "" \
	"$(lbget http://10.231.0.11/cgi-bin/env --interface 10.231.0.1)"
line=$(vh_log_wait "refused service=http local=10.231.0.11:80") || line=
vh_contains "P1 control: trusted balancer without a header refused" "status=76" "$line"
# and the untrusted peer's own connection is an ordinary one: by its real
# local address (here no row: the parking default)
vh_eq "P1 control: the untrusted peer without a header: real address, the default" "parking" \
	"$(field jail "$(lbget http://10.231.0.12/cgi-bin/env --interface 10.231.0.2)")"

# the balancer over IPv6 (a trusted prefix), the client's IPv4 in the header
out=$(lbget http://127.0.0.2:84/cgi-bin/env --interface 127.0.0.9)
vh_eq "P1: v2 over IPv6 (server ipv6@...) lands in the dialled VIP's jail" "a" "$(field jail "$out")"
vh_eq "P1: v2 over IPv6: TCPREMOTEIP is the IPv4 client" "127.0.0.9" "$(field TCPREMOTEIP "$out")"
vh_eq "P1: v2 over IPv6: VIRTUALD_PEERIP is the balancer's IPv6 address" "$P6:1::1" "$(field VIRTUALD_PEERIP "$out")"
vh_eq "P1: v2 over IPv6: PROTO is the original connection's" "TCP" "$(field PROTO "$out")"

# fleet.md C1 (IPv4) through the balancer: the header's destination picks
# exact before prefix, prefix before default
vh_eq "fleet C1: v2 to 127.0.1.5: its exact row, inside the /24" "b" "$(field jail "$(lbget http://127.0.1.5/cgi-bin/env)")"
vh_eq "fleet C1: v2 to 127.0.1.7: the /24 prefix row" "net" "$(field jail "$(lbget http://127.0.1.7/cgi-bin/env)")"
vh_eq "fleet C1: v2 to 127.0.2.1: outside the /24, the default" "parking" \
	"$(field jail "$(lbget http://127.0.2.1/cgi-bin/env)")"
line=$(vh_log_wait "served service=http local=127.0.1.7:80 ") || line=
vh_contains "fleet C1: the log line names the prefix row" "domain=http/127.0.1.0/24 rule=prefix" "$line"

# P1 (L3): the service behind send-proxy-v2 reads exactly the client's
# bytes - 3,000 random ones, half-closed - never a byte of the header
head -c 3000 /dev/urandom >"$F/c2s"
sha=$(sha256sum <"$F/c2s")
unhex() { perl -ne 'chomp; print pack("H*", $_)'; }
out=$(in_lb "$PX" -b 127.0.0.9 -f "$F/c2s" -t 10000 127.0.0.2 85 2>>"$F/pxsend.err")
vh_eq "P1 (L3): through send-proxy-v2 the probe ran in the dialled VIP's row" "127.0.0.2" "$(field VIRTUALD_ADDRESS "$out")"
vh_eq "P1 (L3): ... and read 3000 bytes" "read=3000" "$(printf '%s\n' "$out" | grep -o '^read=[0-9]*')"
vh_eq "P1 (L3): ... exactly the client's bytes (SHA-256)" "$sha" "$(field hex "$out" | unhex | sha256sum)"
# control: the same bytes through the same send-proxy-v2 to the probe
# without virtuald: the header is there, and the comparison catches it
out=$(in_lb "$PX" -b 127.0.0.9 -f "$F/c2s" -t 10000 127.0.0.2 86 2>>"$F/pxsend.err")
hex=$(field hex "$out")
vh_eq "P1 (L3) control: without virtuald the probe's first bytes are the v2 signature" "0d0a0d0a000d0a515549540a" "${hex:0:24}"
got=$(printf '%s\n' "$hex" | unhex | sha256sum)
[ -n "$hex" ] && [ "$got" != "$sha" ] && vh_ok "P1 (L3) control: ... and the SHA-256 comparison fails" ||
	vh_notok "P1 (L3) control: the comparison did not tell the header apart ($got)"

# --- P3: send-proxy (v1) and curl --haproxy-protocol ------------------------
for vip in 2 3; do
	out=$(lbget http://127.0.0.$vip:81/cgi-bin/env --interface 127.0.0.8)
	j=$([ $vip = 2 ] && echo a || echo b)
	vh_eq "P3: v1 to VIP 127.0.0.$vip lands in its jail" "$j" "$(field jail "$out")"
	vh_eq "P3: v1 to 127.0.0.$vip: TCPREMOTEIP is the client" "127.0.0.8" "$(field TCPREMOTEIP "$out")"
	vh_eq "P3: v1 to 127.0.0.$vip: TCPLOCALPORT is the port dialled" "81" "$(field TCPLOCALPORT "$out")"
	vh_eq "P3: v1 to 127.0.0.$vip: VIRTUALD_PROXY" "v1" "$(field VIRTUALD_PROXY "$out")"
done
line=$(vh_log_wait "served service=http local=127.0.0.3:81 ") || line=
vh_contains "P3: log line says via=proxy-v1" "via=proxy-v1 peer=10.231.0.1:" "$line"
# curl's own v1 header, carried by the balancer as plain TCP: its source
# is not the real peer, so it is a proxied connection (P9's control too)
out=$(lbget http://127.0.0.3:82/cgi-bin/env --haproxy-protocol --interface 127.0.0.7)
vh_eq "P3: curl --haproxy-protocol through a relay lands in the dialled VIP's jail" "b" "$(field jail "$out")"
vh_eq "P3: curl --haproxy-protocol: TCPREMOTEIP is curl's address" "127.0.0.7" "$(field TCPREMOTEIP "$out")"
vh_eq "P9 control: a v1 header from the balancer whose source is not the balancer is proxied" "v1" \
	"$(field VIRTUALD_PROXY "$out")"
# curl --haproxy-protocol straight from the trusted source: its header
# describes its own connection (the v1 health-check form): the real local
# address chooses, never a default
out=$(lbget http://10.231.0.11/cgi-bin/env --haproxy-protocol --interface 10.231.0.1)
vh_eq "P3: curl --haproxy-protocol straight from the balancer: the backend's own row" "health" "$(field jail "$out")"
vh_eq "P3: ... not a proxied connection (no VIRTUALD_PROXY)" "" "$(field VIRTUALD_PROXY "$out")"
vh_eq "P3: ... TCPREMOTEIP is the balancer itself" "10.231.0.1" "$(field TCPREMOTEIP "$out")"
vh_log_mark
vh_eq "P3: ... to an address without a row: closed, the default never answers" "" \
	"$(lbget http://10.231.0.12/cgi-bin/env --haproxy-protocol --interface 10.231.0.1)"
sleep 0.3
vh_eq "P3: ... and that close writes no log line" "" "$(grep -a 'local=10.231.0.12:80' "$F/syslog")"

# --- fleet.md C1: one IPv6 prefix row for a whole /64 (AnyIP) -----------
for a in $P6:20::5 $P6:20:abcd::9; do
	out=$(lbget "http://[$a]:8080/cgi-bin/env" --interface $P6:1::9)
	vh_eq "fleet C1: $a is served by the /64 prefix row" "six" "$(field jail "$out")"
	vh_eq "fleet C1: $a: TCPLOCALIP is the address dialled" "$a" "$(field TCPLOCALIP "$out")"
done
line=$(vh_log_wait "served service=http local=\[$P6:20:abcd::9\]") || line=
vh_contains "fleet C1: the log line names the prefix row" "domain=http/$P6:20::/64" "$line"
vh_eq "fleet C1 control: the neighbouring /64 (local, no row) gets the default" "parking" \
	"$(field jail "$(lbget "http://[$P6:21::5]:8080/cgi-bin/env" --interface $P6:1::9)")"

# fleet.md P2: a v2 TCP6 header whose destination is a ULA address of
# the /64 row (not a mapped one), sent by pxsend from the trusted
# balancer's address over IPv4: the header's destination selects the
# IPv6 prefix row. Source fd56:6864:7600:99::7 port 40001, destination
# fd56:6864:7600:20::77 port 80.
P2H=0d0a0d0a000d0a515549540a21210024
P2H+=fd566864760000990000000000000007 # the source, fd56:6864:7600:99::7
P2H+=fd566864760000200000000000000077 # the destination, fd56:6864:7600:20::77
P2H+=9c410050
P2GET=$(printf 'GET /cgi-bin/env HTTP/1.0\r\n\r\n' | od -An -tx1 -v | tr -d ' \n')
vh_log_mark
out=$(in_lb "$PX" -b 10.231.0.1 -x "$P2H$P2GET" -t 10000 10.231.0.11 80 2>>"$F/pxsend.err")
vh_eq "P2: v2 TCP6 with a ULA destination: the IPv6 /64 row's jail" "six" "$(field jail "$out")"
vh_eq "P2: ... TCPLOCALIP is the header's ULA destination" "$P6:20::77" "$(field TCPLOCALIP "$out")"
vh_eq "P2: ... TCPLOCALPORT the header's" "80" "$(field TCPLOCALPORT "$out")"
vh_eq "P2: ... TCPREMOTEIP the header's IPv6 source" "$P6:99::7" "$(field TCPREMOTEIP "$out")"
vh_eq "P2: ... VIRTUALD_PEERIP the balancer (IPv4)" "10.231.0.1" "$(field VIRTUALD_PEERIP "$out")"
line=$(vh_log_wait "served service=http local=\[$P6:20::77\]:80 ") || line=
vh_contains "P2: the log line names the /64 row and the proxy" "domain=http/$P6:20::/64 rule=prefix" "$line"
vh_contains "P2: ... via=proxy-v2 from the balancer" "via=proxy-v2 peer=10.231.0.1:" "$line"
# control: the same header and request from the untrusted 10.231.0.2 is
# never used for selection: refused (76), the /64 row never chosen
vh_log_mark
vh_eq "P2 control: the same header from the untrusted 10.231.0.2: nothing served" "" \
	"$(in_lb "$PX" -b 10.231.0.2 -x "$P2H$P2GET" -t 10000 10.231.0.11 80 2>>"$F/pxsend.err")"
line=$(vh_log_wait "refused service=http local=10.231.0.11:80") || line=
vh_contains "P2 control: refused as an untrusted peer's header (76)" "PROXY header from untrusted peer 10.231.0.2" "$line"
vh_contains "P2 control: status 76" "status=76" "$line"
vh_eq "P2 control: no connection served by the ULA destination" "" "$(grep -a "local=\[$P6:20::77\]" "$F/syslog")"

# --- P9: health checks -------------------------------------------------------
vh_log_mark # from here on, only the checks connect
t1=$(date +%s)
# wait until every check has run at least a few rounds (inter 500ms,
# rise 2 / fall 2), at most 15 s after HAProxy started
stat() { echo "show stat" | socat -T 5 stdio "UNIX-CONNECT:$F/haproxy.sock"; }
col() { # BACKEND SERVER COLUMN: one column of show stat
	stat | awk -F, -v b="$1" -v s="$2" -v c="$3" '
		NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) n[$i] = i; next }
		$1 == b && $2 == s { v = $n[c]; sub(/^\* /, "", v); print v }' # "* ": a check under way
}
while [ $(($(date +%s) - t0)) -lt 15 ]; do
	[ "$(col chk_l7 l7nodefault status)" = DOWN ] && [ "$(col chk_l7 l7v1 status)" = UP ] &&
		[ "$(col chk_l4 l4v1 status)" = UP ] && [ "$(date +%s)" -ge $((t1 + 3)) ] && break
	sleep 0.5
done
for s in l4v2 l4v1 l4own l4verbose; do
	vh_eq "P9: L4 check, $s: UP" "UP" "$(col chk_l4 $s status)"
	vh_eq "P9: L4 check, $s: L4OK" "L4OK" "$(col chk_l4 $s check_status)"
done
for s in l7v2 l7v1 l7verbose; do
	vh_eq "P9: L7 check (httpchk), $s: UP" "UP" "$(col chk_l7 $s status)"
	vh_eq "P9: L7 check, $s: answered by the health row's jail (L7OK)" "L7OK" "$(col chk_l7 $s check_status)"
	vh_eq "P9: L7 check, $s: never failed" "0" "$(col chk_l7 $s chkfail)"
done
# control: a backend address no row names, with a parking default in
# place (which serves the untrusted peer above): the check is closed,
# the server goes DOWN - a default never answers a check
vh_eq "P9 control: L7 check of an address without a row: DOWN" "DOWN" "$(col chk_l7 l7nodefault status)"
vh_not_contains "P9 control: ... never answered by the parking jail" "L7OK" "$(col chk_l7 l7nodefault check_status)"
logs=$(cat "$F/syslog")
vh_eq "P9: L4 checks (v1 and v2) leave no log line: no refused, no served" "" \
	"$(grep -a "local=10.231.0.12:81" "$F/syslog")"
vh_contains "P9 control: the same L4 checks with --verbose do reach virtuald" "detail quiet service=http local=10.231.0.12:82" "$logs"
vh_not_contains "P9: ... and the --verbose one refuses none either" "refused service=http local=10.231.0.12:82" "$logs"
# An L4 check sends its LOCAL header, then resets. Nearly always the reset
# is there before virtuald looks (quiet); when the header alone is, the
# backend's own row answers it like an L7 check (its service then sees
# the reset). Never refused, never the default.
vh_eq "P9: L4 checks of the backend's own address: never refused, never the default" "" \
	"$(grep -a "local=10.231.0.11:81" "$F/syslog" | grep -a -e refused -e domain=http/default)"
# fleet.md 1.5: a balancer's own connection that a row answers is served,
# its served and ended lines only with --verbose (at debug): checks every
# 500 ms are no audit event. L7OK above proves the health jail answered.
vh_eq "P9: L7 checks served by the backend's own row leave no line without --verbose" "" \
	"$(grep -a "served service=http local=10.231.0.11:80 remote=10.231.0.1:" "$F/syslog")"
vh_contains "P9 control: with --verbose the same L7 checks' served lines are there (debug)" \
	"served service=http local=10.231.0.11:82 remote=10.231.0.1:" "$logs"
vh_not_contains "P9: no check is refused" "refused service=http local=10.231.0.1" "$logs"
vh_not_contains "P9: no check lands in the parking default" "domain=http/default" \
	"$(printf '%s\n' "$logs" | grep -a 'remote=10.231.0.1:')"

echo "# an L4 check, as virtuald --verbose saw it:" \
	"$(grep -a "local=10.231.0.12:82" "$F/syslog" | tail -n 1 | sed 's/.*virtuald\[[0-9]*\]: //')"
echo "# wall time $(($(date +%s) - t0)) s after HAProxy started"
vh_done
