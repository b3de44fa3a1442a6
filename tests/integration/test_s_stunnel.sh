#!/bin/bash
# Issue 17, fleet.md section 6 table S row S1: two customers on ONE
# address and port, each in its own jail with its own certificate.
# tcpserver on 127.0.0.2:20243 runs virtuald --tls-sni https; the jails
# (vhostctl provision --profile stunnel) run stunnel4 in inetd mode with
# the customer's self-signed certificate, and stunnel runs busybox httpd
# on the plain-text side. virtuald peeks the ClientHello's server name,
# chooses the name row, and leaves the handshake queued for stunnel.
#
# - curl and openssl s_client: each name gets its own certificate
#   (subject CN, and curl verifying against that customer's certificate
#   only) and its own page; a name without a row is refused; control:
#   the same jails behind an address row, without --tls-sni (and with:
#   an exact address row beats a name, fleet.md 3.3), serve one customer
#   whatever the name.
# - byte for byte: a live openssl s_client through a recording relay
#   (socat -r) to a probe (probe tlshello) behind virtuald --tls-sni in
#   a jail: the probe reads exactly the ClientHello the relay saw
#   (SHA-256); control: the same connection straight to the probe,
#   without virtuald.
# Ports 20243-20252.
. "$(dirname "$0")/lib.sh"

command -v stunnel4 >/dev/null || {
	echo "not ok - stunnel4 is not installed: run scripts/deps"
	exit 1
}
STUNNEL=$(command -v stunnel4)
A=127.0.0.2
PORT=20243
vh_init_db
vh_test_user tena 41801
vh_test_user tenb 41802
cp -r "$VH_SRC/profiles" "$F/profiles"
chmod -R go-w "$F/profiles"
mkdir -m 0755 "$F/jails" "$F/certs"
t0=$(date +%s)

# customer NAME USER: a jail provisioned with the stunnel profile (one
# command), the customer's own self-signed certificate and key (the key
# root:USER 0640: stunnel, run as USER, reads it and cannot change it),
# its page
customer() {
	local n=$1 u=$2 j=$F/jails/$1 out rc
	out=$(vh_ctl provision "$j" --profile stunnel --profile-dir "$F/profiles" --user "$u" 2>&1)
	rc=$?
	vh_eq "provision --profile stunnel into jail $n exits 0" 0 "$rc"
	[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -5
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$n.example.test" -addext "subjectAltName=DNS:$n.example.test" \
		-keyout "$j/etc/stunnel/key.pem" -out "$j/etc/stunnel/cert.pem" 2>/dev/null ||
		vh_notok "openssl req for $n.example.test"
	chgrp "$u" "$j/etc/stunnel/key.pem"
	chmod 0640 "$j/etc/stunnel/key.pem"
	chmod 0644 "$j/etc/stunnel/cert.pem"
	cp "$j/etc/stunnel/cert.pem" "$F/certs/$n.pem" # what the client trusts
	printf 'page %s\n' "$n" >"$j/www/index.html"
	# the service's environment, as CGI sees it behind stunnel
	mkdir -p "$j/www/cgi-bin"
	for a in sh env grep sort; do ln -sf busybox "$j/bin/$a"; done
	cat >"$j/www/cgi-bin/env" <<CGI
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo jail=$n
env | grep -E '^(VIRTUALD_|TCPLOCAL)' | sort
CGI
	chmod 0755 "$j/www/cgi-bin" "$j/www/cgi-bin/env"
	out=$(vh_ctl add https "$n.example.test" "$j" --user "$u" 2>&1)
	vh_eq "add https $n.example.test (a name row)" 0 "$?"
	vh_not_contains "add https $n.example.test: no finding about the jail" "warning" "$out"
}
customer a tena
customer b tenb

inetd_cmd=$(sed -n 's/^inetd .*virtuald virtuald //p' "$F/profiles/stunnel.profile")
vh_eq "the profile's inetd line" "--tls-sni https /usr/bin/stunnel4 /etc/stunnel/stunnel.conf" "$inetd_cmd"
# shellcheck disable=SC2086 # the inetd line's words
vh_tcpserver $A $PORT "$VIRTUALD" --db "$DB" $inetd_cmd

# tls_get NAME PORT [ADDR] [CACERT]: the body over https, curl verifying
# the server against CACERT (default: NAME's own certificate)
tls_get() {
	curl -sS --max-time 10 --resolve "$1.example.test:$2:${3:-$A}" --cacert "${4:-$F/certs/$1.pem}" \
		"https://$1.example.test:$2${5:-/}" 2>>"$F/curl.err"
}
# subject NAME PORT [ADDR]: the subject of the certificate the server
# presents to openssl s_client -servername NAME.example.test
subject() {
	timeout 10 openssl s_client -servername "$1.example.test" -connect "${3:-$A}:$2" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null
}
# s_page NAME PORT: the page through openssl s_client
s_page() {
	printf 'GET / HTTP/1.0\r\nHost: %s.example.test\r\n\r\n' "$1" |
		timeout 10 openssl s_client -quiet -ign_eof -servername "$1.example.test" -connect "$A:$2" 2>/dev/null |
		tail -n 1
}

# --- each name its own jail, certificate and page ---------------------------
for n in a b; do
	vh_log_mark
	vh_eq "S1: curl https://$n.example.test (verified against $n's certificate only): $n's page" "page $n" \
		"$(tls_get $n $PORT)"
	line=$(vh_log_wait "served service=https local=$A:$PORT ") || line=
	vh_contains "S1: $n: the served line names the SNI" "name=$n.example.test from=sni domain=https/$n.example.test rule=name" "$line"
	vh_contains "S1: $n: run as its customer's user" "user=ten$n" "$line"
	vh_eq "S1: openssl s_client -servername $n.example.test: $n's certificate" "subject=CN = $n.example.test" \
		"$(subject $n $PORT)"
	vh_eq "S1: openssl s_client -servername $n.example.test: $n's page" "page $n" "$(s_page $n $PORT)"
done
# the certificate really is the customer's: verified against the other
# one's, the handshake fails
: >"$F/curl.err"
vh_eq "S1 control: curl for a.example.test trusting only b's certificate fails" "" \
	"$(tls_get a $PORT $A "$F/certs/b.pem")"
vh_contains "S1 control: ... because the certificate does not verify" "SSL certificate problem" "$(cat "$F/curl.err")"
out=$(tls_get a $PORT $A "" /cgi-bin/env)
vh_contains "S1: the service (CGI behind stunnel) sees VIRTUALD_SERVER_NAME" "VIRTUALD_SERVER_NAME=a.example.test" "$out"
vh_contains "S1: ... and the address dialled" "TCPLOCALIP=$A" "$out"
vh_contains "S1: ... in its own jail" "jail=a" "$out"
# upper case and a trailing dot in the SNI: normalised (fleet.md 2.6)
vh_eq "S1: SNI B.Example.TEST. is b.example.test" "subject=CN = b.example.test" \
	"$(timeout 10 openssl s_client -servername B.Example.TEST. -connect $A:$PORT </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null)"

# a real client's ClientHello in several records (OpenSSL fragments it
# at -max_send_frag; the long ALPN list makes it longer than 512 bytes):
# virtuald reassembles the name, stunnel reads every record itself
alpn=$(printf 'proto%02d,' $(seq 40))
vh_log_mark
out=$(timeout 10 openssl s_client -max_send_frag 512 -alpn "${alpn%,}" -servername b.example.test -connect $A:$PORT \
	</dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null)
vh_eq "S1: a ClientHello in several records (-max_send_frag 512): b's certificate" "subject=CN = b.example.test" "$out"
vh_contains "S1: ... chosen by name" "name=b.example.test from=sni" "$(vh_log_wait "served service=https local=$A:$PORT ")"

# inetd gives the service the connection as fd 2 as well (tcpserver:
# its own stderr): on such a line the profile's stunnel.conf still
# writes nothing but TLS to the client (it logs to syslog only)
INETDLIKE=(sh -c 'exec "$@" 2>&1' sh)
# shellcheck disable=SC2086
vh_tcpserver $A $((PORT + 4)) "${INETDLIKE[@]}" "$VIRTUALD" --db "$DB" $inetd_cmd
vh_eq "S1: stderr is the connection (as under inetd): curl still gets a's page" "page a" "$(tls_get a $((PORT + 4)))"
# control: the same with stunnel logging to stderr (foreground = yes)
# breaks the handshake: the check above would catch a log line there
cp "$F/jails/a/etc/stunnel/stunnel.conf" "$F/stunnel.conf.a"
echo "foreground = yes" >>"$F/jails/a/etc/stunnel/stunnel.conf"
vh_eq "S1 control: stunnel logging to stderr (foreground = yes) on that line: no page" "" "$(tls_get a $((PORT + 4)))"
vh_eq "S1 control: ... but with stderr elsewhere (tcpserver's log), the same config serves" "page a" \
	"$(tls_get a $PORT)"
cp "$F/stunnel.conf.a" "$F/jails/a/etc/stunnel/stunnel.conf"

# a name without a row, and no address row or default: refused before
# any byte reaches a service
vh_log_mark
vh_eq "S1: c.example.test (no row): no certificate" "" "$(subject c $PORT)"
line=$(vh_log_wait "refused service=https local=$A:$PORT") || line=
vh_contains "S1: c.example.test refused, naming the name" "c.example.test" "$line"
vh_eq "S1: ... and no stunnel ran for it" "" "$(grep -a 'name=c.example.test' "$F/syslog" | grep -a served)"

# --- control: the rows by address ------------------------------------------
# Without --tls-sni, the name rows are never tried: 127.0.0.2 has no
# address row, so both names are refused.
# shellcheck disable=SC2086
vh_tcpserver $A $((PORT + 1)) "$VIRTUALD" --db "$DB" https $STUNNEL /etc/stunnel/stunnel.conf
vh_log_mark
vh_eq "S1 control: without --tls-sni, a.example.test on $A (name rows only): nothing" "" "$(subject a $((PORT + 1)))"
line=$(vh_log_wait "refused service=https local=$A:$((PORT + 1))") || line=
vh_contains "S1 control: ... refused, no row for the address" "status=" "$line"
vh_not_contains "S1 control: ... the log names no SNI" "name=" "$line"
# An address row for 127.0.0.3 (jail a): without --tls-sni one customer
# answers every name; with --tls-sni too, since an exact address row
# beats a name (fleet.md 3.3 rule 1: a dedicated IP stays its customer's).
vh_ctl add https 127.0.0.3 "$F/jails/a" --user tena >/dev/null
# shellcheck disable=SC2086
vh_tcpserver 127.0.0.3 $((PORT + 2)) "$VIRTUALD" --db "$DB" https $STUNNEL /etc/stunnel/stunnel.conf
# shellcheck disable=SC2086
vh_tcpserver 127.0.0.3 $((PORT + 3)) "$VIRTUALD" --db "$DB" $inetd_cmd
for p in $((PORT + 2)) $((PORT + 3)); do
	how=$([ $p = $((PORT + 2)) ] && echo "without --tls-sni" || echo "with --tls-sni")
	for n in a b; do
		vh_eq "S1 control: address row 127.0.0.3, $how: $n.example.test gets a's certificate" \
			"subject=CN = a.example.test" "$(subject $n $p 127.0.0.3)"
	done
	vh_eq "S1 control: address row, $how: curl for b.example.test fails (a's certificate)" "" \
		"$(tls_get b $p 127.0.0.3)"
	vh_eq "S1 control: address row, $how: a's page for a.example.test" "page a" "$(tls_get a $p 127.0.0.3)"
done
line=$(vh_log_wait "served service=https local=127.0.0.3:$((PORT + 3)) ") || line=
vh_contains "S1 control: with --tls-sni, the exact address row decides (rule exact)" "domain=https/127.0.0.3 rule=exact" "$line"

# --- byte for byte: what a TLS server behind virtuald reads ------------------
# jail p: the probe (probe tlshello reads the ClientHello's records and
# reports them in hex), a name row p.example.test
vh_mkjail "$F/jails/p" "probe"
vh_ctl add https p.example.test "$F/jails/p" --user tena >/dev/null
vh_tcpserver $A $((PORT + 5)) "$VIRTUALD" --db "$DB" --tls-sni https /bin/probe tlshello
# control: the same probe straight from tcpserver, no virtuald
vh_tcpserver $A $((PORT + 6)) "$VH_PROBE" tlshello

# relayed TAG TARGET-PORT: a live openssl s_client (SNI p.example.test)
# through a one-connection recording relay (socat -r: what the client
# sent) to TARGET-PORT. The probe's report comes back in the relay's
# other direction (socat -R). Sets SENT (hex of the ClientHello the
# client sent: its first record(s), up to the probe's read=) and GOT
# (the probe's report).
relayed() {
	local tag=$1 target=$2 rport=$((PORT + 9))
	socat -r "$F/c2s.$tag" -R "$F/s2c.$tag" "TCP-LISTEN:$rport,bind=$A,reuseaddr" "TCP:$A:$target" \
		2>>"$F/socat.err" &
	local relay=$!
	VH_PIDS+=("$relay")
	vh_wait_listen $rport
	timeout 10 openssl s_client -servername p.example.test -connect "$A:$rport" </dev/null >/dev/null 2>&1
	wait $relay 2>/dev/null
	GOT=$(cat "$F/s2c.$tag")
	local n
	n=$(printf '%s\n' "$GOT" | sed -n 's/^hello=.* read=//p')
	# the client wrote the ClientHello, and after the probe's text
	# perhaps an alert: the first read= bytes are the ClientHello's
	SENT=$(head -c "${n:-0}" "$F/c2s.$tag" | od -An -v -tx1 | tr -d ' \n')
}
sha() { printf '%s' "$1" | perl -ne 'chomp; print pack("H*", $_)' | sha256sum | cut -d' ' -f1; }

vh_log_mark
relayed sni $((PORT + 5))
vh_contains "S1 bytes: the probe behind virtuald --tls-sni read one complete ClientHello" "hello=complete records=1" "$GOT"
vh_contains "S1 bytes: ... chosen by its SNI" "VIRTUALD_SERVER_NAME=p.example.test" "$GOT"
got=$(printf '%s\n' "$GOT" | sed -n 's/^hex=//p')
vh_eq "S1 bytes: the ClientHello's first bytes are a TLS handshake record" "1603" "${got:0:4}"
vh_eq "S1 bytes: SHA-256 of what the probe read = of the ClientHello the relay saw the client send" \
	"$(sha "$SENT")" "$(sha "$got")"
vh_eq "S1 bytes: the client got the probe's report first: virtuald wrote nothing to the connection" \
	"probe=tlshello" "$(printf '%s\n' "$GOT" | head -n 1)"
line=$(vh_log_wait "served service=https local=$A:$((PORT + 5)) ") || line=
vh_contains "S1 bytes: served by the name row" "name=p.example.test from=sni domain=https/p.example.test rule=name" "$line"
sni_got=$got
relayed direct $((PORT + 6))
got=$(printf '%s\n' "$GOT" | sed -n 's/^hex=//p')
vh_contains "S1 bytes control: straight to the probe, no virtuald: one complete ClientHello" "hello=complete records=1" "$GOT"
vh_eq "S1 bytes control: straight to the probe: the same SHA-256 comparison holds" "$(sha "$SENT")" "$(sha "$got")"
vh_eq "S1 bytes control: ... and the same length as through virtuald" "${#sni_got}" "${#got}"
vh_check "S1 bytes control: the two connections' ClientHellos differ (client random: the comparison is per connection)" \
	test "$(sha "$sni_got")" != "$(sha "$got")"

echo "# wall time $(($(date +%s) - t0)) s"
vh_done
