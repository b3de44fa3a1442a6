#!/bin/bash
# Red team, A11 (issue 11 point 11): the run-time check covers the PATH
# directories, not the program file nor the libraries. A root service's
# program owned by another uid (a customer's user: cp -p, install -o),
# in root-owned 0755 directories, passed virtuald; that uid (a service of
# it in the same jail) rewrites it and its code runs as the root service
# on the next connection. virtuald now checks the file execvp will run.
. "$(dirname "$0")/lib.sh"
TUID=64126
vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/r" "R"
printf '#!/bin/busybox sh\necho prog=original\n' >"$J/r/bin/prog"
chmod 0755 "$J/r/bin/prog"
vh_ctl add svc 127.0.0.2 "$J/r" >/dev/null 2>&1
vh_tcpserver 0 19351 "$VIRTUALD" --db "$DB" svc /bin/prog
vh_contains "control: the root service runs its root-owned program" "prog=original" "$(vh_talk 127.0.0.2 19351)"
chown $TUID "$J/r/bin/prog"          # the operator's mistake
# the file's owner rewrites it: a service of that uid in the same jail
# (the host path is hidden from host users, K7)
chroot --userspec=$TUID:$TUID "$J/r" /bin/busybox sh -c \
	"printf '#!/bin/busybox sh\necho prog=tenant uid=\$(/bin/busybox id -u)\n' >/bin/prog"
vh_contains "the program's owner rewrote it" "prog=tenant" "$(cat "$J/r/bin/prog")"
vh_log_mark
out=$(vh_talk 127.0.0.2 19351)
vh_not_contains "A11 a root service's program writable by uid $TUID is not run (uid $TUID's code as root)" "prog=tenant" "$out"
line=$(vh_log_wait "refused service=svc") || line=
vh_contains "A11 refused, naming the program and the remedy" "/bin/prog is writable by its owner (owner uid $TUID" "$line"
# the same through PATH (a bare program name) and for a run-as service
vh_ctl add svc 127.0.0.3 "$J/r" --user daemon >/dev/null 2>&1
vh_stop_last
vh_tcpserver 0 19352 "$VIRTUALD" --db "$DB" svc prog
vh_log_mark
out=$(vh_talk 127.0.0.3 19352)
vh_not_contains "A11 found through PATH: not run for a run-as service either" "prog=tenant" "$out"
line=$(vh_log_wait "refused service=svc") || line=
vh_contains "A11 the PATH search names the file it found" "/bin/prog is writable by its owner" "$line"
chown 0 "$J/r/bin/prog"
vh_contains "control: root-owned again, served" "prog=tenant" "$(vh_talk 127.0.0.3 19352)"
vh_done
