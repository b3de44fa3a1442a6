#!/bin/bash
# cmake --install into a DESTDIR, then one scenario served from the
# installed tree; every installed file in place; the example configs usable.
. "$(dirname "$0")/lib.sh"

R=$F/root
mkdir -m 0755 "$R"
DESTDIR=$R cmake --install "$VH_BUILD" --prefix /usr/local >"$F/install.log" 2>&1
vh_eq "cmake --install succeeds" 0 $?
for f in sbin/virtuald sbin/vhostctl share/man/man8/virtuald.8 share/man/man8/vhostctl.8 \
	share/doc/virtuald/examples/inetd.conf share/doc/virtuald/examples/xinetd.d/virtuald-http \
	share/doc/virtuald/examples/systemd/virtuald-http.socket \
	share/doc/virtuald/examples/systemd/virtuald-http@.service \
	share/bash-completion/completions/vhostctl; do
	vh_check "installed: $f" test -s "$R/usr/local/$f"
done
vh_check "bash completion loads" bash -c ". /usr/share/bash-completion/bash_completion 2>/dev/null; . '$R/usr/local/share/bash-completion/completions/vhostctl' && complete -p vhostctl"

# the installed binaries serve a connection
VIRTUALD=$R/usr/local/sbin/virtuald
VHOSTCTL=$R/usr/local/sbin/vhostctl
vh_init_db
mkdir -m 0755 "$F/jails"
vh_mkjail "$F/jails/a" "installed a"
vh_mkjail "$F/jails/b" "installed b"
vh_ctl add http 127.0.0.2 "$F/jails/a" --user nobody >/dev/null
vh_ctl add http 127.0.0.3 "$F/jails/b" --user nobody >/dev/null
vh_tcpserver 0 18150 "$VIRTUALD" --db "$DB" http /bin/busybox httpd -i -h /www
vh_eq "installed virtuald serves 127.0.0.2" "installed a" "$(vh_get 127.0.0.2 18150)"
vh_eq "installed virtuald serves 127.0.0.3" "installed b" "$(vh_get 127.0.0.3 18150)"
vh_stop_last

# the example inetd.conf line, pointed at the installed tree and a test port
line=$(grep -m1 '^http' "$R/usr/local/share/doc/virtuald/examples/inetd.conf")
printf '%s\n' "$line" | sed -e "s|^http|127.0.0.2:18151|" -e "s|/usr/sbin/virtuald|$VIRTUALD|" \
	-e "s|virtuald http|virtuald --db $DB http|" >"$F/inetd.conf"
/usr/sbin/inetd -d -R 100000 "$F/inetd.conf" >"$F/inetd.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 18151
vh_eq "the example inetd.conf line works" "installed a" "$(vh_get 127.0.0.2 18151)"
vh_stop_last

# the example systemd units are valid (checked offline, against the
# installed binary)
U=$F/units
mkdir -m 0755 "$U"
for u in virtuald-http.socket virtuald-http@.service; do
	sed "s|/usr/sbin/virtuald|$VIRTUALD|" "$R/usr/local/share/doc/virtuald/examples/systemd/$u" >"$U/$u"
done
out=$(cd "$U" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no ./virtuald-http.socket 2>&1)
vh_not_contains "systemd-analyze finds no error in the example units" "rror" "$out"
# the service half, as systemd-socket-activate runs it (Accept=yes,
# StandardInput=socket): ExecStart as given in the unit
exec_start=$(sed -n 's/^ExecStart=//p' "$U/virtuald-http@.service")
vh_ssa 127.0.0.2:18152 ${exec_start/virtuald http/virtuald --db $DB http}
vh_eq "the example service's ExecStart serves through a socket activator" "installed a" "$(vh_get 127.0.0.2 18152)"
vh_stop_last

vh_done
