#!/bin/bash
# THREATS K7: a root service plants a set-uid-root binary in its jail; a
# local host user runs it through the jail's path on the host.
# - control: a jail every host user can reach, on a file system that
#   honours set-uid (forced past add with --force): the plant gives the
#   host user euid 0;
# - protected: a jail below a root-owned 0700 directory (the user gets
#   EACCES), and a jail on a nosuid file system (the binary runs, euid
#   stays the user's);
# - add refuses the exposed jail (naming the remedy), check reports it
#   as an error, and accepts both protected layouts.
. "$(dirname "$0")/lib.sh"

vh_init_db
# as_nobody CMD...: CMD run by the host user nobody, its path looked up
# by nobody too (setpriv itself keeps its capabilities until it execs,
# so the shell in between is what makes the lookup a plain user's).
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups /bin/sh -c 'exec "$@"' sh "$@"
}
# The fixture itself stays root-owned; here it must be searchable so
# that "open" is exposed: the hidden layout has its own 0700 parent.
chmod 0755 "$F"
mkdir -m 0755 "$F/open"
mkdir -m 0700 "$F/hidden"
mkdir -m 0755 "$F/nosuid"
mount -t tmpfs -o nosuid,mode=0755,size=16m vhk7 "$F/nosuid"
vh_mkjail "$F/open/a" "jail a"
vh_mkjail "$F/hidden/b" "jail b"
vh_mkjail "$F/nosuid/c" "jail c"

# add: the exposed jail is refused with the remedy
out=$(vh_ctl add probe 127.0.0.2 "$F/open/a" 2>&1)
rc=$?
vh_eq "K7 add refuses a jail host users reach on a set-uid file system" 72 "$rc"
vh_contains "K7 add names the finding" "[exposed]" "$out"
vh_contains "K7 add names the remedy" "chmod o-x $F/open" "$out"
vh_contains "K7 add names the other remedy" "nosuid" "$out"
vh_ctl add probe 127.0.0.2 "$F/open/a" --force >/dev/null 2>&1
vh_eq "K7 control layout added with --force" 0 $?
out=$(vh_ctl add probe 127.0.0.3 "$F/hidden/b" 2>&1)
vh_eq "K7 add accepts a jail below a 0700 root directory" 0 $?
out=$(vh_ctl add probe 127.0.0.4 "$F/nosuid/c" 2>&1)
vh_eq "K7 add accepts a jail on a nosuid file system" 0 $?
# import (and migrate-inetd, through the same importer): an error line
printf '127.0.0.9 %s\n127.0.0.10 %s\n' "$F/hidden/b" "$F/open/a" >"$F/k7.conf"
out=$(vh_ctl import --service ftp "$F/k7.conf" 2>&1)
vh_eq "K7 import refuses an exposed jail" 65 $?
vh_contains "K7 import names line and remedy" "k7.conf:2: error: jail $F/open/a is reachable by every host user" "$out"
vh_eq "K7 import: nothing imported" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM domains WHERE service = 'ftp'")"
out=$(vh_ctl check 2>&1)
vh_contains "K7 check reports the exposed jail as an error" "probe/127.0.0.2: error [exposed] $F/open/a" "$out"
vh_not_contains "K7 check: the hidden jail is not exposed" "error [exposed] $F/hidden/b" "$out"
vh_not_contains "K7 check: the nosuid jail is not exposed" "error [exposed] $F/nosuid/c" "$out"

# the attack: each root service plants a set-uid-root copy of the probe
PLANT='/bin/busybox cp /bin/probe /bin/sp && /bin/busybox chmod 4755 /bin/sp && echo planted'
vh_tcpserver 0 18970 "$VIRTUALD" --db "$DB" probe /bin/busybox sh -c "$PLANT"
vh_log_mark
out=$(vh_talk 127.0.0.2 18970)
vh_not_contains "K7 virtuald does not serve the exposed jail, even added with --force" "planted" "$out"
line=$(vh_log_wait "refused service=probe local=127.0.0.2") || line=
vh_contains "K7 virtuald's run-time refusal names the exposure" "every host user" "$line"
for a in 3 4; do
	out=$(vh_talk 127.0.0.$a 18970)
	vh_contains "K7 the root service of 127.0.0.$a planted a set-uid-root binary" "planted" "$out"
done
vh_stop_last
# the control's plant: the same root service in a plain chroot(8)
out=$(chroot "$F/open/a" /bin/busybox sh -c "$PLANT")
vh_contains "K7 control: root in a plain chroot plants in the exposed jail" "planted" "$out"

out=$(as_nobody "$F/open/a/bin/sp" info 2>&1)
vh_contains "K7 control: a host user runs the plant of an exposed jail as euid 0" "euid=0" "$out"
out=$(as_nobody "$F/hidden/b/bin/sp" info 2>&1)
vh_contains "K7 below a 0700 parent: the host user cannot reach the plant" "Permission denied" "$out"
vh_not_contains "K7 below a 0700 parent: no euid 0" "euid=0" "$out"
out=$(as_nobody "$F/nosuid/c/bin/sp" info 2>&1)
vh_contains "K7 nosuid: the plant runs with the host user's own euid" "euid=65534" "$out"
umount "$F/nosuid"
vh_done
