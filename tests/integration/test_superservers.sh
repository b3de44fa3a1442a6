#!/bin/bash
# One scenario under every super-server operators run (PRODUCT §2, §3,
# issue "super-server matrix"): two domains on 127.0.0.2 and 127.0.0.3, a
# default, a '*' row, a disabled row, ::1, and a service without default
# that refuses an unknown address. Real clients (curl), busybox httpd -i
# in jails, refusals silent on the socket and logged.
#
# Super-servers: ucspi-tcp tcpserver (IPv4 only in Debian), systemd's
# systemd-socket-activate --inetd --accept (the stand-in for a socket unit
# with Accept=yes; dual-stack, so IPv4 arrives v4-mapped), openbsd-inetd in
# the foreground with its own config, and xinetd (it conflicts with
# openbsd-inetd as a package: scripts/deps unpacks its binary without
# installing it) with its own config.
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
for s in a b d w six; do
	vh_mkjail "$J/$s" "page $s"
done
vh_ctl add http 127.0.0.2 "$J/a" --user nobody >/dev/null
vh_ctl add http 127.0.0.3 "$J/b" --user nobody >/dev/null
vh_ctl add http default "$J/d" --user nobody >/dev/null
vh_ctl add '*' 127.0.0.5 "$J/w" --user nobody >/dev/null
vh_ctl add http 0:0:0:0:0:0:0:1 "$J/six" --user nobody >/dev/null
vh_ctl add http 127.0.0.6 "$J/a" --user nobody --disabled >/dev/null
vh_ctl add web 127.0.0.2 "$J/a" --user nobody >/dev/null   # no default for web
HTTPD="/bin/busybox httpd -i -h /www"

# scenario NAME HTTP_PORT WEB_PORT IPV6(yes|no)
scenario() {
	local sv=$1 p=$2 q=$3 v6=$4 line
	vh_eq "$sv: 127.0.0.2 serves its jail" "page a" "$(vh_get 127.0.0.2 "$p")"
	vh_eq "$sv: 127.0.0.3 serves its jail" "page b" "$(vh_get 127.0.0.3 "$p")"
	vh_eq "$sv: an unknown address falls to the service's default" "page d" "$(vh_get 127.0.0.4 "$p")"
	vh_eq "$sv: a '*' row beats the service's default" "page w" "$(vh_get 127.0.0.5 "$p")"
	vh_log_mark
	vh_eq "$sv: a disabled row refuses, never falls to the default" "" "$(vh_get 127.0.0.6 "$p")"
	line=$(vh_log_wait "refused service=http local=127.0.0.6") || line=
	vh_contains "$sv: disabled: logged at warning with status 69" "daemon.warn" "$line"
	vh_contains "$sv: disabled: status 69" "status=69 " "$line"
	if [ "$v6" = yes ]; then
		vh_eq "$sv: ::1 serves its own row" "page six" "$(vh_get '[::1]' "$p")"
	fi
	vh_log_mark
	vh_eq "$sv: web on 127.0.0.2 served (exact row)" "page a" "$(vh_get 127.0.0.2 "$q")"
	line=$(vh_log_wait "served service=web") || line=
	vh_contains "$sv: served line at info" "daemon.info" "$line"
	vh_contains "$sv: served line names the domain and rule" "domain=web/127.0.0.2 rule=exact" "$line"
	vh_contains "$sv: served line names jail and user" "root=$J/a user=nobody uid=65534 gid=65534" "$line"
	vh_contains "$sv: served line names the remote" "remote=127.0.0.1:" "$line"
	vh_log_mark
	vh_eq "$sv: web on an unknown address: nothing on the socket" "" "$(vh_get 127.0.0.9 "$q")"
	line=$(vh_log_wait "refused service=web") || line=
	vh_contains "$sv: no domain: status 68" "status=68 " "$line"
}

# --- ucspi-tcp tcpserver (IPv4 only) ----------------------------------------
vh_tcpserver 0 18110 "$VIRTUALD" --db "$DB" http $HTTPD
vh_tcpserver 0 18111 "$VIRTUALD" --db "$DB" web $HTTPD
scenario tcpserver 18110 18111 no
vh_stop_last
vh_stop_last

# --- systemd-socket-activate on a dual-stack socket ------------------------
vh_ssa '[::]:18120' "$VIRTUALD" --db "$DB" http $HTTPD
vh_ssa '[::]:18121' "$VIRTUALD" --db "$DB" web $HTTPD
scenario systemd-socket-activate 18120 18121 yes
vh_log_mark
vh_get 127.0.0.3 18120 >/dev/null
line=$(vh_log_wait "served service=http local=127.0.0.3:18120") || line=
vh_contains "systemd-socket-activate: a v4-mapped local address counts as IPv4 (G1)" "domain=http/127.0.0.3" "$line"
vh_stop_last
vh_stop_last

# --- openbsd-inetd, foreground, own config ----------------------------------
cat >"$F/inetd.conf" <<CONF
0.0.0.0:18130 stream tcp  nowait root $VIRTUALD virtuald --db $DB http $HTTPD
[::1]:18130   stream tcp6 nowait root $VIRTUALD virtuald --db $DB http $HTTPD
0.0.0.0:18131 stream tcp  nowait root $VIRTUALD virtuald --db $DB web $HTTPD
CONF
/usr/sbin/inetd -d -R 100000 "$F/inetd.conf" >"$F/inetd.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 18130 && vh_wait_listen 18131
scenario openbsd-inetd 18130 18131 yes
vh_stop_last

# --- xinetd, foreground, own config ----------------------------------------
XINETD=/var/cache/virtuald-test/xinetd/usr/sbin/xinetd
if [ -x "$XINETD" ]; then
	sed -e "s|@VIRTUALD@|$VIRTUALD|g" -e "s|@DB@|$DB|g" -e "s|@LOG@|$F/xinetd.log|g" \
		"$VH_SRC/tests/integration/data/xinetd.conf.in" >"$F/xinetd.conf"
	"$XINETD" -dontfork -f "$F/xinetd.conf" -pidfile "$F/xinetd.pid" >>"$F/xinetd.out" 2>&1 &
	VH_PIDS+=($!)
	vh_wait_listen 18140 && vh_wait_listen 18141
	scenario xinetd 18140 18141 yes
	vh_stop_last
else
	vh_notok "xinetd: $XINETD missing - run scripts/deps"
fi

vh_done
