#!/bin/bash
# THREATS K11: endless or non-regular input to import and migrate-inetd.
# Before the fix, `vhostctl import /dev/zero`, a FIFO nobody writes,
# and migrate-inetd with a FIFO as the legacy CONF never ended; each
# is now bounded by a timeout here and must end with a clear error and
# nothing imported. Positive controls: the same files as regular files
# import, and standard input (a pipe) still works.
. "$(dirname "$0")/lib.sh"

J=$F/jails
mkdir -m 0755 "$J" "$J/a" "$J/b"
vh_init_db
T=10 # seconds: every case takes well under one with the bounds

# run NAME ARGS...: vhostctl with a timeout; sets RC and OUT
run() {
	OUT=$(timeout "$T" "$VHOSTCTL" --db "$DB" "$@" 2>&1)
	RC=$?
}
count() {
	sqlite3 "$DB" "SELECT count(*) FROM domains"
}

# a regular file: the control
printf '127.0.0.2 %s\n127.0.0.3 %s\n' "$J/a" "$J/b" >"$F/ok.conf"
run import --service x --dry-run "$F/ok.conf"
vh_eq "K11 control: a regular file imports (dry run)" 0 "$RC"

# /dev/zero as the file: a character device
run import --service x /dev/zero
vh_eq "K11 import /dev/zero ends (not the timeout), with EX_NOINPUT" 66 "$RC"
vh_contains "K11 import /dev/zero: says why" "is not a regular file (a character device)" "$OUT"

# /dev/zero on standard input: binary data
OUT=$(timeout "$T" "$VHOSTCTL" --db "$DB" import --service x - </dev/zero 2>&1)
RC=$?
vh_eq "K11 import - </dev/zero ends with EX_DATAERR" 65 "$RC"
vh_contains "K11 import - </dev/zero: binary data at line 1" "binary data at line 1" "$OUT"
vh_contains "K11 import - </dev/zero: nothing imported" "nothing imported" "$OUT"

# a binary file with line ends (random bytes with NULs, newlines)
head -c 200000 /dev/urandom >"$F/random.bin"
run import --service x "$F/random.bin"
vh_eq "K11 import of a binary file ends with EX_DATAERR" 65 "$RC"
vh_contains "K11 binary file: NUL reported as binary data" "binary data" "$OUT"

# an endless stream of bad lines on standard input
OUT=$(yes | timeout "$T" "$VHOSTCTL" --db "$DB" import --service x - 2>&1)
RC=$?
vh_eq "K11 yes | import - ends with EX_DATAERR" 65 "$RC"
vh_contains "K11 yes | import -: stops after the error limit" "more than 1000 errors" "$OUT"

# an endless line of text on standard input
OUT=$(tr '\0' a </dev/zero | timeout "$T" "$VHOSTCTL" --db "$DB" import --service x - 2>&1)
RC=$?
vh_eq "K11 endless line on standard input ends with EX_DATAERR" 65 "$RC"
vh_contains "K11 endless line: the size bound" "more than 256 MiB" "$OUT"

# a FIFO nobody writes: opening it used to block forever
mkfifo -m 0600 "$F/fifo"
run import --service x "$F/fifo"
vh_eq "K11 import of a FIFO ends with EX_NOINPUT" 66 "$RC"
vh_contains "K11 import FIFO: says why" "is not a regular file (a FIFO)" "$OUT"

# migrate-inetd: the legacy CONF a FIFO, and the inetd.conf a FIFO
cat >"$F/inetd.conf" <<EOC
127.0.0.2:
ftp stream tcp nowait root $VIRTUALD virtuald $F/fifo /bin/busybox httpd -i -h /www
EOC
run migrate-inetd "$F/inetd.conf" --write --virtuald "$VIRTUALD"
vh_eq "K11 migrate-inetd with a FIFO as legacy CONF ends (not the timeout)" 1 "$((RC != 0 && RC != 124))"
vh_contains "K11 migrate-inetd: the FIFO named" "is not a regular file (a FIFO)" "$OUT"
run migrate-inetd "$F/fifo" --dry-run
vh_eq "K11 migrate-inetd of a FIFO as inetd.conf ends with EX_NOINPUT" 66 "$RC"
vh_contains "K11 migrate-inetd FIFO inetd.conf: says why" "is not a regular file (a FIFO)" "$OUT"

vh_eq "K11 nothing was imported by any of them" 0 "$(count)"

# control: standard input as a pipe of good lines still imports
OUT=$(cat "$F/ok.conf" | timeout "$T" "$VHOSTCTL" --db "$DB" import --service x - 2>&1)
RC=$?
vh_eq "K11 control: standard input (a pipe) imports" 0 "$RC"
vh_eq "K11 control: two rows" 2 "$(count)"
vh_done
