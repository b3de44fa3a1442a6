#!/bin/bash
# Red team (issue 11, commit 4838fbd): attacks on the root service's user
# namespace that HELD, kept as regression guards, each with its control.
#  1. signals to PID 1 of its namespace (host uid 0 without caps): once
#     the service was uid 0 too and could; as ns root (host 1879048192)
#     it is EPERM;
#  2. a chown to an ns uid that a host user has (1000) makes a file of
#     host uid 1000 only through the jail's idmapped mount: the process
#     itself is host 1879048192+1000, and a file it makes with that uid
#     is disk uid 1000 (the tenant's own jail, as before);
#  3. the A11 owner translation: a system directory that is NOT root's
#     on disk (uid 1879048192 on disk, or 65534) never shows as the
#     outer virtuald's "root" (1879048192) through the idmapped mount:
#     refused; control: root's is served;
#  4. a jail on a file system without idmapped mounts (ramfs): refused,
#     status 72, a log line naming the fix, no exec, no fallback to host
#     root; control: the same jail on tmpfs is served;
#  5. run-as rows make no user namespace (host uid as configured).
. "$(dirname "$0")/lib.sh"
B=1879048192
vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/a" "page a"
mkdir -m 1777 "$J/a/tmp"
vh_ctl add sh 127.0.0.2 "$J/a" >/dev/null
run() { # PORT SCRIPT: the root service runs busybox sh -c SCRIPT
	vh_tcpserver 127.0.0.2 "$1" "$VIRTUALD" --db "$DB" sh /bin/busybox sh -c "$2"
	vh_talk 127.0.0.2 "$1"
	vh_stop_last
}
# 1
out=$(run 18960 'kill -0 1 2>/dev/null && echo pid1=reached || echo pid1=refused; kill -0 $$ && echo self=ok')
vh_contains "control: the service signals its own processes" "self=ok" "$out"
vh_contains "the root service cannot signal PID 1 (host uid 0)" "pid1=refused" "$out"
# 2
out=$(run 18961 'touch /tmp/f1000 && chown 1000:1000 /tmp/f1000 && echo chown=ok; cat /proc/self/status 2>/dev/null | grep Uid; echo done')
vh_contains "control: ns root chowns a jail file to ns uid 1000" "chown=ok" "$out"
vh_eq "... which is disk uid 1000 (through the idmapped mount)" "1000" "$(stat -c %u "$J/a/tmp/f1000" 2>/dev/null)"
out=$(run 18962 'touch /tmp/fr; echo made')
vh_eq "a file the root service makes in its jail is root's on disk" "0" "$(stat -c %u "$J/a/tmp/fr" 2>/dev/null)"
# 3
vh_tcpserver 127.0.0.2 18963 "$VIRTUALD" --db "$DB" sh /bin/busybox echo served
vh_eq "control: a root-owned /bin is served" "served" "$(vh_talk 127.0.0.2 18963)"
for u in $B 65534 $((B + 65535)); do
	chown "$u" "$J/a/bin"
	vh_log_mark
	vh_eq "/bin owned on disk by $u is refused (A11)" "" "$(vh_talk 127.0.0.2 18963)"
	vh_contains "... status 72 by the A11 check" "status=72" "$(vh_log_wait 'refused service=sh')"
done
chown 0 "$J/a/bin"
vh_eq "control: served again once /bin is root's" "served" "$(vh_talk 127.0.0.2 18963)"
vh_stop_last
# 4
mkdir -m 0755 "$F/ram"
mount -t ramfs -o mode=0755 vhram "$F/ram"
vh_mkjail "$F/ram/j" "ram page"
vh_ctl add sh 127.0.0.3 "$F/ram/j" --force >/dev/null 2>&1 # add says no-idmap
vh_tcpserver 127.0.0.3 18964 "$VIRTUALD" --db "$DB" sh /bin/busybox sh -c 'id -u; echo ran > /ran'
vh_log_mark
vh_eq "a root service's jail on ramfs (no idmapped mounts) is refused" "" "$(vh_talk 127.0.0.3 18964)"
line=$(vh_log_wait 'refused service=sh')
vh_contains "... with status 72" "status=72" "$line"
vh_contains "... naming the missing idmapped mount and the fix" "no idmapped mount of it" "$line"
vh_check "... and nothing ran (no fallback to host root)" test ! -e "$F/ram/j/ran"
vh_stop_last
# 5: a run-as row of that jail is served from it, as its own host uid
vh_test_user vhruna 41961
chown 41961 "$F/ram/j/www"
vh_ctl add sh 127.0.0.4 "$F/ram/j" --user vhruna >/dev/null
vh_tcpserver 127.0.0.4 18965 "$VIRTUALD" --db "$DB" sh /bin/busybox sh -c 'id -u; grep -E "^Uid" /proc/self/status 2>/dev/null; echo x > /www/runas; echo end'
out=$(vh_talk 127.0.0.4 18965)
vh_contains "control: a run-as row on ramfs is served (no user namespace needed)" "end" "$out"
vh_eq "... its file is its host uid's on disk" "41961" "$(stat -c %u "$F/ram/j/www/runas" 2>/dev/null)"
vh_stop_last
umount "$F/ram"
vh_done
