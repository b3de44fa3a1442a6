#!/bin/bash
# The foundation end to end: selection through real super-servers
# (tcpserver, systemd-socket-activate), IPv4, IPv6 and v4-mapped, busybox
# httpd in jails, refusals logged and silent on the socket.
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/a" "page A"
vh_mkjail "$J/b" "page B"
vh_mkjail "$J/d" "page default"
vh_mkjail "$J/w" "page wildcard"
vh_mkjail "$J/six" "page six"

vh_ctl add http 127.0.0.2 "$J/a" --user nobody >/dev/null
vh_ctl add http 127.0.0.3 "$J/b" --user nobody >/dev/null
vh_ctl add http default "$J/d" --user nobody >/dev/null
vh_ctl add '*' 127.0.0.5 "$J/w" --user nobody >/dev/null
vh_ctl add http 0:0:0:0:0:0:0:1 "$J/six" --user nobody >/dev/null
vh_ctl add http 127.0.0.6 "$J/a" --user nobody --disabled >/dev/null
# service "web" has exact rows only: anything else is refused
vh_ctl add web 127.0.0.2 "$J/a" --user nobody >/dev/null

HTTPD=(/bin/busybox httpd -i -h /www)

scenario() {
	local sv=$1 p=$2
	vh_eq "$sv: 127.0.0.2 serves jail a" "page A" "$(vh_get 127.0.0.2 "$p")"
	vh_eq "$sv: 127.0.0.3 serves jail b" "page B" "$(vh_get 127.0.0.3 "$p")"
	vh_eq "$sv: 127.0.0.4 falls to the default row" "page default" "$(vh_get 127.0.0.4 "$p")"
	vh_eq "$sv: '*' row beats the service's default" "page wildcard" "$(vh_get 127.0.0.5 "$p")"
	vh_log_mark
	vh_eq "$sv: disabled exact row refuses, never the default" "" "$(vh_get 127.0.0.6 "$p")"
	local line
	line=$(vh_log_wait "refused service=http local=127.0.0.6")
	vh_contains "$sv: disabled refusal logged with status 69" "status=69" "$line"
}

# --- tcpserver (IPv4) ----------------------------------------------------
vh_tcpserver 0 18080 "$VIRTUALD" --db "$DB" http "${HTTPD[@]}"
scenario tcpserver 18080
vh_log_mark
vh_get 127.0.0.2 18080 >/dev/null
line=$(vh_log_wait "served service=http local=127.0.0.2:18080")
vh_contains "served line names the domain" "domain=http/127.0.0.2 rule=exact" "$line"
vh_contains "served line names jail and user" "root=$J/a user=nobody uid=65534" "$line"
vh_contains "served line names the remote" "remote=127.0.0.1:" "$line"
vh_stop_last

vh_tcpserver 0 18082 "$VIRTUALD" --db "$DB" web "${HTTPD[@]}"
vh_eq "web: exact row served" "page A" "$(vh_get 127.0.0.2 18082)"
vh_log_mark
vh_eq "web: no row, no default: nothing on the socket" "" "$(vh_get 127.0.0.9 18082)"
line=$(vh_log_wait "refused service=web")
vh_contains "no-domain refusal logged with status 68" "status=68" "$line"
vh_stop_last

# --- systemd-socket-activate on a dual-stack socket: IPv4 arrives mapped
vh_ssa '[::]:18081' "$VIRTUALD" --db "$DB" http "${HTTPD[@]}"
scenario systemd-socket-activate 18081
vh_eq "IPv6 ::1 serves its own row (stored canonically)" "page six" "$(vh_get '[::1]' 18081)"
vh_log_mark
vh_get 127.0.0.3 18081 >/dev/null
line=$(vh_log_wait "served service=http local=127.0.0.3:18081")
vh_contains "a v4-mapped local address counts as IPv4" "domain=http/127.0.0.3" "$line"
vh_stop_last

vh_done
