#!/bin/bash
# Issue 17, fleet.md section 6 table S row S9: virtuald --tls-sni behind
# a real HAProxy 2.6. Two network namespaces of the test's own, joined
# by a veth pair, as test_l_haproxy.sh does:
#
#   lb  (HAProxy, the clients)   10.232.0.1 (trusted), 10.232.0.2 (not)
#   h   (tcpserver running virtuald; jails)   10.232.0.11
#
# - TLS passthrough: HAProxy mode tcp, send-proxy-v2 with
#   proxy-v2-options authority, to tcpserver + virtuald --tls-sni https:
#   virtuald consumes the header, then peeks the SNI (HAProxy sends no
#   AUTHORITY when it does not end TLS, fleet.md X1); each name reaches
#   its jail, whose stunnel4 (profiles/stunnel.profile) completes the
#   handshake: curl verifies the customer's own certificate end to end.
#   A probe behind the same kind of line reads a ClientHello as the
#   first bytes: nothing of the header is left.
# - TLS-ending frontend (bind ... ssl crt) with send-proxy-v2
#   proxy-v2-options authority, to a backend virtuald whose jails run
#   plain busybox httpd: the AUTHORITY TLV chooses the jail, the service
#   gets plaintext.
# - A made-up header (pxsend from the trusted balancer's address): a v2
#   header whose AUTHORITY is a.example.test, then a ClientHello for
#   b.example.test: refused, 76 "disagree"; control: AUTHORITY
#   b.example.test with the same ClientHello is served.
# Ports are those of the namespaces, not the host's.
. "$(dirname "$0")/lib.sh"

for c in haproxy stunnel4; do
	command -v $c >/dev/null || {
		echo "not ok - $c is not installed: run scripts/deps"
		exit 1
	}
done
PX=${VH_PXSEND:-$VH_BUILD/tests/integration/vh_pxsend}
NSL=vhs-lb-$$
NSH=vhs-h-$$
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
# (syslog) and the pids cgroup of lib.sh stay
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
ip -n "$NSL" addr add 10.232.0.1/24 dev eth0
ip -n "$NSL" addr add 10.232.0.2/24 dev eth0
ip -n "$NSH" addr add 10.232.0.11/24 dev eth0
ip -n "$NSL" link set eth0 up
ip -n "$NSH" link set eth0 up
in_lb busybox ping -c1 -W2 10.232.0.11 >/dev/null || {
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
t0=$(date +%s)

# --- jails and rows -----------------------------------------------------------
vh_init_db
vh_test_user tena 41811
vh_test_user tenb 41812
cp -r "$VH_SRC/profiles" "$F/profiles"
chmod -R go-w "$F/profiles"
J=$F/jails
mkdir -m 0755 "$J" "$F/certs"
# cert FILE-PREFIX NAME: a self-signed EC certificate for NAME
cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$2" \
		-addext "subjectAltName=DNS:$2" -keyout "$1.key" -out "$1.pem" 2>/dev/null ||
		vh_notok "openssl req for $2"
}
# stunnel jails (passthrough): service https, one name row each
for n in a b; do
	j=$J/tls-$n
	u=ten$n
	out=$(vh_ctl provision "$j" --profile stunnel --profile-dir "$F/profiles" --user $u 2>&1)
	vh_eq "provision --profile stunnel into jail tls-$n" 0 "$?"
	cert "$j/etc/stunnel/cert" $n.example.test
	mv "$j/etc/stunnel/cert.key" "$j/etc/stunnel/key.pem"
	chgrp $u "$j/etc/stunnel/key.pem"
	chmod 0640 "$j/etc/stunnel/key.pem"
	chmod 0644 "$j/etc/stunnel/cert.pem"
	cp "$j/etc/stunnel/cert.pem" "$F/certs/$n.pem"
	printf 'tls page %s\n' $n >"$j/www/index.html"
	vh_ctl add https $n.example.test "$j" --user $u >/dev/null || vh_notok "add https $n.example.test"
done
# plain jails (behind the TLS-ending frontend): service www, name rows;
# /cgi-bin/env prints the jail and what the service got
for n in a b; do
	j=$J/plain-$n
	vh_mkjail "$j" "plain page $n"
	mkdir -p "$j/www/cgi-bin"
	for a in sh env grep sort; do ln -s busybox "$j/bin/$a"; done
	cat >"$j/www/cgi-bin/env" <<CGI
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo jail=plain-$n
env | grep -E '^(VIRTUALD_|TCP|HTTPS|SERVER_PROTOCOL)' | sort
CGI
	chmod 0755 "$j/www/cgi-bin" "$j/www/cgi-bin/env"
	chmod -R go-w "$j"
	vh_ctl add www $n.example.test "$j" --user ten$n >/dev/null || vh_notok "add www $n.example.test"
done
# the probe: what the TLS server reads first behind the balancer
vh_mkjail "$J/probe" "probe"
vh_ctl add https p.example.test "$J/probe" --user tena >/dev/null
vh_ctl proxy-trust add 10.232.0.1 --service https >/dev/null || vh_notok "proxy-trust add 10.232.0.1 --service https"
vh_ctl proxy-trust add 10.232.0.1 --service www >/dev/null || vh_notok "proxy-trust add 10.232.0.1 --service www"

# --- the backend: tcpserver running virtuald in namespace h -------------------
srv() { # PORT VIRTUALD-ARGS...: tcpserver on 0.0.0.0:PORT in h
	local port=$1
	shift
	"${H[@]}" "$TCPSERVER" -H -l 0 -R -c 200 0 "$port" "$VIRTUALD" --db "$DB" "$@" >>"$F/tcpserver.log" 2>&1 &
	VH_PIDS+=($!)
	wait_listen in_h "$port"
}
INETD=$(sed -n 's/^inetd .*virtuald virtuald //p' "$F/profiles/stunnel.profile")
# shellcheck disable=SC2086 # the profile's inetd line's words
srv 443 $INETD
srv 444 --tls-sni https /bin/probe tlshello
srv 80 www /bin/busybox httpd -i -h /www
# the same plain service on a --tls-sni line: the first byte is no TLS
# handshake, the AUTHORITY alone chooses
srv 81 --tls-sni www /bin/busybox httpd -i -h /www

# --- the balancer, in namespace lb -------------------------------------------
cert "$F/certs/lb-a" a.example.test
cert "$F/certs/lb-b" b.example.test
cat "$F/certs/lb-a.pem" "$F/certs/lb-a.key" >"$F/certs/lb-a.crt"
cat "$F/certs/lb-b.pem" "$F/certs/lb-b.key" >"$F/certs/lb-b.crt"
cat >"$F/haproxy.cfg" <<CFG
global
    stats socket $F/haproxy.sock level admin
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
# TLS passthrough: HAProxy does not end TLS, the jail's stunnel does
frontend pass
    bind 127.0.0.2:443
    default_backend be_pass
frontend pass_probe
    bind 127.0.0.2:444
    default_backend be_pass_probe
# TLS ends here: HAProxy's certificate for each name, plaintext behind
frontend term
    bind 127.0.0.2:8443 ssl crt $F/certs/lb-a.crt crt $F/certs/lb-b.crt
    default_backend be_term
frontend term_sni
    bind 127.0.0.2:8444 ssl crt $F/certs/lb-a.crt crt $F/certs/lb-b.crt
    default_backend be_term_sni
backend be_pass
    server h1 10.232.0.11:443 send-proxy-v2 proxy-v2-options authority
backend be_pass_probe
    server h1 10.232.0.11:444 send-proxy-v2 proxy-v2-options authority
backend be_term
    server h1 10.232.0.11:80 send-proxy-v2 proxy-v2-options authority
backend be_term_sni
    server h1 10.232.0.11:81 send-proxy-v2 proxy-v2-options authority
CFG
"${LB[@]}" haproxy -f "$F/haproxy.cfg" -db >"$F/haproxy.log" 2>&1 &
VH_PIDS+=($!)
wait_listen in_lb 8444 || {
	cat "$F/haproxy.log"
	exit 1
}

# lbget NAME PORT PATH CACERT: the body over https through HAProxy's
# 127.0.0.2:PORT, curl verifying against CACERT; "" when refused
lbget() {
	in_lb curl -sS --max-time 10 --resolve "$1:$2:127.0.0.2" --cacert "$4" "https://$1:$2$3" 2>>"$F/curl.err"
}
field() { # NAME TEXT: the value of the line NAME=...
	printf '%s\n' "$2" | sed -n "s/^$1=//p"
}

# --- S9: passthrough, the header consumed, then the SNI -----------------------
for n in a b; do
	vh_log_mark
	vh_eq "S9: passthrough to $n.example.test: curl verifies $n's own certificate (stunnel in jail tls-$n) and gets its page" \
		"tls page $n" "$(lbget $n.example.test 443 / "$F/certs/$n.pem")"
	line=$(vh_log_wait "served service=https local=127.0.0.2:443 ") || line=
	vh_contains "S9: passthrough $n: proxied (header consumed) by the trusted balancer" "via=proxy-v2 peer=10.232.0.1:" "$line"
	vh_contains "S9: passthrough $n: chosen by the SNI alone (HAProxy sent no AUTHORITY: X1)" \
		"name=$n.example.test from=sni domain=https/$n.example.test rule=name" "$line"
	vh_eq "S9: passthrough $n: openssl s_client sees $n's certificate" "subject=CN = $n.example.test" \
		"$(in_lb timeout 10 openssl s_client -servername $n.example.test -connect 127.0.0.2:443 </dev/null 2>/dev/null |
			openssl x509 -noout -subject 2>/dev/null)"
done
vh_eq "S9 control: passthrough, curl for a.example.test trusting only b's certificate fails" "" \
	"$(lbget a.example.test 443 / "$F/certs/b.pem")"
# the first bytes a TLS server reads behind the balancer: a ClientHello,
# nothing of the PROXY header. The probe's report is no TLS: a relay in
# front of HAProxy records it (socat -R) and what the client sent (-r).
in_lb socat -r "$F/c2s" -R "$F/s2c" TCP-LISTEN:9001,bind=127.0.0.1,reuseaddr TCP:127.0.0.2:444 2>>"$F/socat.err" &
relay=$!
VH_PIDS+=("$relay")
wait_listen in_lb 9001
in_lb timeout 10 openssl s_client -servername p.example.test -connect 127.0.0.1:9001 </dev/null >/dev/null 2>&1
wait $relay 2>/dev/null
out=$(cat "$F/s2c")
vh_contains "S9: passthrough: the probe reads one complete ClientHello" "hello=complete records=1" "$out"
vh_eq "S9: passthrough: the probe's first bytes are a TLS handshake record, not the PROXY header" "1603" \
	"$(field hex "$out" | cut -c1-4)"
vh_eq "S9: passthrough: the probe has VIRTUALD_SERVER_NAME" "p.example.test" "$(field VIRTUALD_SERVER_NAME "$out")"
n=$(printf '%s\n' "$out" | sed -n 's/^hello=.* read=//p')
vh_eq "S9: passthrough: the probe read exactly the ClientHello the client sent (SHA-256)" \
	"$(head -c "${n:-0}" "$F/c2s" | sha256sum)" "$(field hex "$out" | perl -ne 'chomp; print pack("H*", $_)' | sha256sum)"

# --- S9: TLS ends at HAProxy, AUTHORITY chooses, plaintext behind ------------
for n in a b; do
	vh_log_mark
	out=$(lbget $n.example.test 8443 /cgi-bin/env "$F/certs/lb-$n.pem")
	vh_eq "S9: TLS-ending frontend, $n.example.test: the AUTHORITY's jail (plain busybox httpd)" "plain-$n" "$(field jail "$out")"
	vh_eq "S9: TLS-ending frontend, $n: VIRTUALD_SERVER_NAME is the AUTHORITY" "$n.example.test" \
		"$(field VIRTUALD_SERVER_NAME "$out")"
	vh_eq "S9: TLS-ending frontend, $n: VIRTUALD_PROXY" "v2" "$(field VIRTUALD_PROXY "$out")"
	line=$(vh_log_wait "served service=www local=127.0.0.2:8443 ") || line=
	vh_contains "S9: TLS-ending frontend, $n: chosen by the AUTHORITY" \
		"name=$n.example.test from=authority domain=www/$n.example.test rule=name" "$line"
	# the same through a --tls-sni line: plaintext is no TLS, no SNI
	out=$(lbget $n.example.test 8444 /cgi-bin/env "$F/certs/lb-$n.pem")
	vh_eq "S9: TLS-ending frontend to a --tls-sni line: plaintext, the AUTHORITY still chooses" "plain-$n" \
		"$(field jail "$out")"
done
vh_eq "S9: TLS-ending frontend: the static page, plaintext behind HAProxy" "plain page b" \
	"$(lbget b.example.test 8443 / "$F/certs/lb-b.pem")"

# --- S9: a made-up AUTHORITY against the SNI --------------------------------
# A ClientHello for b.example.test, as openssl s_client sends it, caught
# by a listener that only records (in the lb namespace).
in_lb socat -u TCP-LISTEN:9000,bind=127.0.0.1,reuseaddr "OPEN:$F/hello-b,creat,trunc" 2>>"$F/socat.err" &
VH_PIDS+=($!)
wait_listen in_lb 9000
in_lb timeout 2 openssl s_client -servername b.example.test -connect 127.0.0.1:9000 </dev/null >/dev/null 2>&1
HELLO=$(od -An -v -tx1 "$F/hello-b" | tr -d ' \n')
vh_eq "S9: the recorded ClientHello is a TLS handshake record" "1603" "${HELLO:0:4}"
# v2 header TLV AUTHORITY (0x02) NAME: PROXY TCP4 127.0.0.9:40000 ->
# 127.0.0.2:443 with one AUTHORITY TLV
v2_authority() {
	local name=$1 hexname tlv len
	hexname=$(printf '%s' "$name" | od -An -v -tx1 | tr -d ' \n')
	tlv=$(printf '02%04x%s' "${#name}" "$hexname")
	len=$((12 + ${#tlv} / 2))
	printf '0d0a0d0a000d0a515549540a2111%04x7f0000097f0000029c4001bb%s' "$len" "$tlv"
}
for auth in a b; do
	vh_log_mark
	out=$(in_lb "$PX" -b 10.232.0.1 -x "$(v2_authority $auth.example.test)$HELLO" -t 5000 10.232.0.11 443 2>>"$F/pxsend.err" |
		od -An -tx1 | head -c 60)
	if [ $auth = a ]; then
		line=$(vh_log_wait "refused service=https local=127.0.0.2:443") || line=
		vh_contains "S9: AUTHORITY a.example.test with a ClientHello for b.example.test: refused, they disagree" \
			"SNI b.example.test and PROXY authority a.example.test disagree" "$line"
		vh_contains "S9: ... status 76" "status=76" "$line"
		vh_eq "S9: ... nothing written to the connection" "" "$out"
		vh_eq "S9: ... no service ran" "" "$(grep -a 'served service=https' "$F/syslog")"
	else
		line=$(vh_log_wait "served service=https local=127.0.0.2:443") || line=
		vh_contains "S9 control: AUTHORITY b.example.test with the same ClientHello: served, both agree" \
			"name=b.example.test from=sni+authority domain=https/b.example.test rule=name" "$line"
	fi
done

echo "# wall time $(($(date +%s) - t0)) s"
vh_done
