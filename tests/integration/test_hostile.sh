#!/bin/bash
# More attempts of the hostile service (THREATS A6, A13, and "reading
# another domain's files"), each with its positive control:
# - a set-uid-root binary and a binary with file capabilities planted in
#   the jail (an operator forced the add past `check`): the run-as service
#   execs them and gains nothing (no_new_privs); without no_new_privs the
#   same binaries give euid 0 / regain root;
# - another domain's files, by their host path: not there inside the jail;
#   readable by the same uid outside;
# - ptrace of a host process from a root service: no such process (PID
#   namespace, CAP_SYS_PTRACE gone); from a plain chroot it attaches.
. "$(dirname "$0")/lib.sh"

vh_init_db
# The controls below run binaries of the jails as a host user by their
# host path: the fixture (lib.sh makes it 0700) is made searchable for
# each control only. While virtuald serves, the jails are hidden from
# host users (it refuses an exposed jail at run time, THREATS K7).
as_host_user() {
	chmod 0755 "$F"
	"$@"
	local rc=$?
	chmod 0700 "$F"
	return $rc
}
# The jails live on a tmpfs of this test's own, mounted without nosuid
# (whatever /run is mounted with), so that set-uid bits take effect.
S=$F/suid
mkdir -m 0755 "$S"
mount -t tmpfs -o mode=0755,size=64m vhsuid "$S"
vh_mkjail "$S/u" "jail u"
vh_mkjail "$S/v" "jail v"
vh_mkjail "$S/r" "jail r"
echo "secret of v" >"$S/v/www/secret"
cp "$VH_PROBE" "$S/u/bin/suprobe"
chmod 4755 "$S/u/bin/suprobe"
cp "$VH_PROBE" "$S/u/bin/capprobe"
setcap cap_setuid,cap_setgid+ep "$S/u/bin/capprobe"
vh_ctl add probe 127.0.0.2 "$S/u" --user nobody --force >/dev/null 2>&1
vh_ctl add probe 127.0.0.3 "$S/r" --force >/dev/null 2>&1
vh_check "the planted set-uid binary made it into the database only with --force" \
	test "$(vh_ctl lookup probe 127.0.0.2 >/dev/null 2>&1; echo $?)" = 0

vh_tcpserver 0 18950 "$VIRTUALD" --db "$DB" probe /bin/busybox sh -c 'exec /bin/suprobe info'
out=$(vh_talk 127.0.0.2 18950)
vh_contains "A6 set-uid-root binary in the jail: still nobody everywhere" "uid=65534 euid=65534 suid=65534" "$out"
vh_stop_last
out=$(as_host_user setpriv --reuid=nobody --regid=nogroup --clear-groups "$S/u/bin/suprobe" info)
vh_contains "control: without no_new_privs the same binary gives euid 0" "euid=0" "$out"
out=$(as_host_user setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs "$S/u/bin/suprobe" info)
vh_contains "control: with no_new_privs alone it gives nothing" "euid=65534" "$out"

# (with the bounding set empty the kernel refuses to exec a binary whose
# file capabilities it cannot grant; either way root is not regained)
vh_tcpserver 0 18951 "$VIRTUALD" --db "$DB" probe /bin/busybox sh -c '/bin/capprobe regain; echo rc=$?'
out=$(vh_talk 127.0.0.2 18951)
vh_contains "A6 file capabilities in the jail: the service ran the binary" "rc=" "$out"
vh_not_contains "A6 file capabilities in the jail: root not regained" "setuid0=ok" "$out"
vh_stop_last
out=$(as_host_user setpriv --reuid=nobody --regid=nogroup --clear-groups "$S/u/bin/capprobe" regain)
vh_contains "control: without no_new_privs the file capabilities regain root" "setuid0=ok" "$out"

# another domain's file, by its host path
vh_tcpserver 0 18952 "$VIRTUALD" --db "$DB" probe /bin/probe read "$S/v/www/secret"
out=$(vh_talk 127.0.0.2 18952)
vh_contains "another domain's file is not reachable from the jail (run-as)" "read=No such file or directory" "$out"
out=$(vh_talk 127.0.0.3 18952)
vh_contains "another domain's file is not reachable from the jail (root)" "read=No such file or directory" "$out"
vh_stop_last
out=$(as_host_user setpriv --reuid=nobody --regid=nogroup --clear-groups "$VH_PROBE" read "$S/v/www/secret")
vh_contains "control: the same uid outside the jail reads it" "read=ok" "$out"

# A13: ptrace of a host process (this test's syslogd, root) from a root service
victim=${VH_PIDS[0]}
vh_tcpserver 0 18953 "$VIRTUALD" --db "$DB" probe /bin/probe ptrace "$victim"
out=$(vh_talk 127.0.0.3 18953)
vh_contains "A13 root service cannot trace a host process" "ptrace=No such process" "$out"
vh_stop_last
out=$(chroot "$S/r" /bin/probe ptrace "$victim")
vh_contains "control: root in a plain chroot attaches to it" "ptrace=ok" "$out"

umount -l "$S"
vh_done
