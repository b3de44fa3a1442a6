#!/bin/bash
# The lookup index end to end (doc/design.md "The lookup index"): virtuald
# answers from it while it names the database state that is there, and
# from the database otherwise - with the same decision either way; an
# index that is not root's alone refuses (THREATS E1).
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/a" "page A"
vh_mkjail "$J/b" "page B"
vh_mkjail "$J/d" "page default"
vh_ctl add http 127.0.0.2 "$J/a" --user nobody >/dev/null
vh_ctl add http default "$J/d" --user nobody >/dev/null
vh_check "vhostctl keeps the index beside the database" test -f "$DB-index"
vh_eq "the index is root's, mode 0600" "0 600" "$(stat -c '%u %a' "$DB-index")"

PORT=18970
vh_tcpserver 0 $PORT "$VIRTUALD" --db "$DB" --verbose http /bin/busybox httpd -i -h /www

line=
# served DESCRIPTION ADDRESS PAGE SOURCE
served() {
	vh_log_mark
	vh_eq "$1: the page" "$3" "$(vh_get "$2" $PORT)"
	line=$(vh_log_wait "detail decided") || line=
	vh_contains "$1: decided from the $4" "source=$4" "$line"
}
# refused DESCRIPTION ADDRESS STATUS
refused() {
	vh_log_mark
	vh_eq "$1: nothing served" "" "$(vh_get "$2" $PORT)"
	line=$(vh_log_wait "refused service=") || line=
	vh_contains "$1: status $3" "status=$3 " "$line"
}

served "after vhostctl add" 127.0.0.2 "page A" index
served "the default row, from the index" 127.0.0.3 "page default" index

# Another program writes the database (the sqlite3 shell, which also
# removes -wal and -shm when it closes): the index no longer names the
# state, virtuald asks the database.
sqlite3 "$DB" "UPDATE domains SET root = '$J/b' WHERE address = '127.0.0.2'"
served "after a write by the sqlite3 shell" 127.0.0.2 "page B" database
vh_contains "the log says why the index stepped aside" "(index: " "$line"

# The next vhostctl change rebuilds it, the shell's change included.
vh_ctl disable http default >/dev/null
served "after the next vhostctl change" 127.0.0.2 "page B" index
refused "the default row disabled" 127.0.0.3 69
vh_ctl enable http default >/dev/null
served "enabled again" 127.0.0.3 "page default" index

# vhostctl init rebuilds it after any change made behind its back.
sqlite3 "$DB" "UPDATE domains SET root = '$J/a' WHERE address = '127.0.0.2'"
vh_ctl init >/dev/null
served "after vhostctl init" 127.0.0.2 "page A" index

# vhostctl set (sql/002's settings) updates the index like any change.
vh_ctl set http 127.0.0.2 --max-procs 77 >/dev/null
served "after vhostctl set" 127.0.0.2 "page A" index
# An index of the previous format (1: the nine columns of schema version
# 1) is never read: virtuald asks the database until init rebuilds it.
printf '\001\000\000\000' | dd of="$DB-index" bs=1 seek=8 conv=notrunc status=none
served "an index of format 1" 127.0.0.2 "page A" database
vh_contains "format 1: the log says why" "index is malformed" "$line"
vh_ctl init >/dev/null
served "format 1, after vhostctl init" 127.0.0.2 "page A" index

# E1: an index that others may write is refused, not passed over.
chmod 0666 "$DB-index"
refused "E1 index writable by others" 127.0.0.2 78
vh_contains "E1 the refusal names the index" "lookup index untrusted" "$line"
chmod 0600 "$DB-index"
chown 65534 "$DB-index"
refused "E1 index not root's" 127.0.0.2 78
chown 0 "$DB-index"
served "the index trusted again" 127.0.0.2 "page A" index

# A damaged index is passed over: the database answers.
printf 'XXXXXXXX' | dd of="$DB-index" bs=1 seek=0 conv=notrunc 2>/dev/null
served "a damaged index" 127.0.0.2 "page A" database
vh_contains "the log names the damage" "malformed" "$line"
rm -f "$DB-index"
served "no index at all" 127.0.0.2 "page A" database
vh_ctl init >/dev/null
served "vhostctl init makes it anew" 127.0.0.2 "page A" index
vh_stop_last

vh_done
