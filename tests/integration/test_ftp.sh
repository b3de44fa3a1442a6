#!/bin/bash
# The HOWTO's own case: an anonymous FTP service per domain. Debian's
# inetutils-ftpd is the classic root ftpd (dynamically linked, so its jail
# is built by vhostctl provision; it starts as root and chroots again for
# anonymous sessions), run by openbsd-inetd through virtuald, read with
# curl's ftp client. A hostile root service in the same jail layout still
# cannot get out.
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
for d in a b; do
	out=$(vh_ctl provision "$J/$d" --program /usr/sbin/ftpd 2>&1)
	vh_contains "provision ftpd into jail $d" "provisioned $J/$d" "$out"
	# the anonymous account, inside the jail only (ftpd looks it up there)
	printf 'ftp:x:65534:65534:anonymous ftp:/srv/ftp:/usr/sbin/nologin\n' >>"$J/$d/etc/passwd"
	mkdir -p "$J/$d/srv/ftp/pub"
	printf 'file of domain %s\n' "$d" >"$J/$d/srv/ftp/pub/$d.txt"
	chmod -R go-w "$J/$d"
	vh_ctl add ftp 127.0.0.$([ $d = a ] && echo 2 || echo 3) "$J/$d" >/dev/null 2>&1
done
out=$(vh_ctl check ftp 127.0.0.2 --program /usr/sbin/ftpd)
vh_eq "check: the provisioned ftp jail has no error (one warning: runs as root)" 1 $?
vh_not_contains "check: no error finding" ": error " "$out"

cat >"$F/inetd.conf" <<CONF
127.0.0.2:18021 stream tcp nowait root $VIRTUALD virtuald --db $DB ftp /usr/sbin/ftpd -A
127.0.0.2:21 stream tcp nowait root $VIRTUALD virtuald --db $DB ftp /usr/sbin/ftpd -A
127.0.0.3:18021 stream tcp nowait root $VIRTUALD virtuald --db $DB ftp /usr/sbin/ftpd -A
127.0.0.3:18022 stream tcp nowait root $VIRTUALD virtuald --db $DB ftp /bin/probe escape $F/marker
CONF
echo outside >"$F/marker"
/usr/sbin/inetd -d -R 100000 "$F/inetd.conf" >"$F/inetd.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 18021 && vh_wait_listen 18022

ls_a=$(curl -sS --max-time 10 ftp://127.0.0.2:18021/pub/ 2>&1)
vh_contains "ftp 127.0.0.2: listing shows domain a's file" "a.txt" "$ls_a"
vh_not_contains "ftp 127.0.0.2: listing does not show domain b's file" "b.txt" "$ls_a"
vh_eq "ftp 127.0.0.2: download" "file of domain a" "$(curl -sS --max-time 10 ftp://127.0.0.2:18021/pub/a.txt)"
ls_b=$(curl -sS --max-time 10 ftp://127.0.0.3:18021/pub/ 2>&1)
vh_contains "ftp 127.0.0.3: listing shows domain b's file" "b.txt" "$ls_b"
vh_not_contains "ftp 127.0.0.3: listing does not show domain a's file" "a.txt" "$ls_b"
vh_eq "ftp 127.0.0.3: download" "file of domain b" "$(curl -sS --max-time 10 ftp://127.0.0.3:18021/pub/b.txt)"
vh_eq "ftp 127.0.0.3: domain a's file is not reachable" "" "$(curl -sS --max-time 10 ftp://127.0.0.3:18021/pub/a.txt 2>/dev/null)"
root_ls=$(curl -sS --max-time 10 ftp://127.0.0.2:18021/ 2>&1)
vh_contains "anonymous ftp is chrooted by ftpd itself to /srv/ftp" "pub" "$root_ls"
vh_not_contains "anonymous ftp does not see the jail's /etc" "etc" "$root_ls"
line=$(vh_log_wait "served service=ftp local=127.0.0.2:18021") || line=
vh_contains "served as root in a private namespace" "user=root uid=0" "$line"

# Active mode (the client sends PORT and ftpd connects back). A root
# service keeps CAP_NET_BIND_SERVICE only when its row allows it (K5).
# Debian 12's inetutils ftpd binds an ephemeral data port (port 0, seen
# with strace), not port 20, so active mode works either way; the port-20
# case itself is in test_k5_reach.sh ("--net-bind-service on: the root
# service binds port 20").
vh_wait_listen 21
vh_eq "passive mode on port 21 without --net-bind-service" "file of domain a" \
	"$(curl -sS --max-time 10 ftp://127.0.0.2:21/pub/a.txt 2>/dev/null)"
vh_eq "active mode on port 21 without --net-bind-service (ephemeral data port)" "file of domain a" \
	"$(curl -sS --max-time 10 -P 127.0.0.1 ftp://127.0.0.2:21/pub/a.txt 2>/dev/null)"
vh_ctl set ftp 127.0.0.2 --net-bind-service on >/dev/null
vh_eq "active mode on port 21 with --net-bind-service on" "file of domain a" \
	"$(curl -sS --max-time 10 -P 127.0.0.1 ftp://127.0.0.2:21/pub/a.txt 2>/dev/null)"
vh_ctl set ftp 127.0.0.2 --net-bind-service off >/dev/null

# The hostile service in the same layout (a root service: it may chroot)
cp "$VH_PROBE" "$J/b/bin/probe" 2>/dev/null || { mkdir -p "$J/b/bin" && cp "$VH_PROBE" "$J/b/bin/probe"; }
mkdir -p -m 1777 "$J/b/tmp"
chmod go-w "$J/b/bin"
out=$(vh_talk 127.0.0.3 18022)
vh_contains "hostile root service: chroot works (as for ftpd)" "chroot_sub=ok" "$out"
vh_contains "hostile root service: cannot get out of the jail" "escape=no" "$out"
out=$(chroot "$J/b" /bin/probe escape "$F/marker")
vh_contains "control: the same probe escapes a plain chroot" "escape=yes" "$out"
vh_stop_last
vh_done
