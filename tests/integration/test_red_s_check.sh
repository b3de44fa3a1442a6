#!/bin/bash
# Red team (issue 17): vhostctl check's name-never-chosen must judge the
# inetd.conf lines as virtuald reads them. virtuald selects rows by its
# SERVICE argument (the word after its options), not by inetd.conf's
# first column, and its options are parsed by getopt_long, which takes
# any unambiguous prefix ("--tls" is --tls-sni). A check that reads the
# line otherwise warns about rows that virtuald does choose by name, and
# is silent about rows it never can.
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
vh_ctl add web b.example.test "$J/a" --user nobody >/dev/null

# --- the abbreviation is --tls-sni to virtuald -----------------------------
"$TCPSERVER" -H -l 0 -R -c 10 127.0.0.2 20302 "$VIRTUALD" --db "$DB" --tls https /bin/probe sockstate \
	>>"$F/srv.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 20302
out=$("$PX" -b 127.0.0.1 -f "$CORPUS/openssl" 127.0.0.2 20302 2>/dev/null)
vh_contains "virtuald --tls (a prefix of --tls-sni) chooses the name row" "VIRTUALD_ADDRESS=a.example.test" "$out"

# --- check reads the same line the same way ---------------------------------
printf 'https stream tcp nowait root /usr/sbin/virtuald virtuald --db %s --tls https /bin/probe\n' "$DB" \
	>"$F/abbrev.conf"
out=$(vh_ctl check --inetd-conf "$F/abbrev.conf" 2>&1)
vh_not_contains "check: --tls is --tls-sni, no name-never-chosen for https" \
	"https/a.example.test: warning [name-never-chosen]" "$out"

# the first column says https, virtuald's SERVICE is web: web's name row
# is chosen by name, https's never
printf 'https stream tcp nowait root /usr/sbin/virtuald virtuald --db %s --tls-sni web /bin/probe\n' "$DB" \
	>"$F/svc.conf"
out=$(vh_ctl check --inetd-conf "$F/svc.conf" 2>&1)
vh_not_contains "check: virtuald's SERVICE web has --tls-sni: no warning for web's name row" \
	"web/b.example.test: warning [name-never-chosen]" "$out"
vh_contains "check: nothing runs SERVICE https with --tls-sni: https's name row is warned about" \
	"https/a.example.test: warning [name-never-chosen]" "$out"

# '--' ends virtuald's options: SERVICE is the word after it
printf 'https stream tcp nowait root /usr/sbin/virtuald virtuald --db %s --tls-sni -- https /bin/probe\n' "$DB" \
	>"$F/dashes.conf"
out=$(vh_ctl check --inetd-conf "$F/dashes.conf" 2>&1)
vh_not_contains "check: --tls-sni -- https: no warning for https's name row" \
	"https/a.example.test: warning [name-never-chosen]" "$out"

vh_done
