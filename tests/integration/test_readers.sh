#!/bin/bash
# virtuald as a WAL reader with a read-only -shm (PRODUCT §4, §10; THREATS
# I1, I4, E4): vhostctl leaves -wal and -shm in place with the WAL
# truncated after every change; virtuald writes nothing, sees every
# committed change - also one still in the WAL with no writer connected -
# and never fails while vhostctl changes other rows; without a -shm it
# still serves (and from then on there is one).
. "$(dirname "$0")/lib.sh"

J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/a" page-a
vh_mkjail "$J/b" page-b
HTTPD="/bin/busybox httpd -i -h /www"
vh_init_db
vh_ctl add http 127.0.0.2 "$J/a" --user nobody >/dev/null
vh_ctl add http 127.0.0.3 "$J/b" --user nobody >/dev/null

vh_check "-shm kept after vhostctl (persistent WAL)" test -f "$DB-shm"
vh_check "-wal kept after vhostctl" test -f "$DB-wal"
vh_eq "the WAL is empty after a change (checkpointed, truncated: I4)" 0 "$(stat -c %s "$DB-wal")"
vh_eq "-shm owned by root, 0600 like the database (E4)" "0 600" "$(stat -c '%u %a' "$DB-shm")"

vh_tcpserver 0 18160 "$VIRTUALD" --db "$DB" http $HTTPD
vh_eq "served through the read-only -shm" page-a "$(vh_get 127.0.0.2 18160)"

# A reader writes nothing: the -shm and the database keep their bytes.
sum() { md5sum "$DB" "$DB-shm" | awk '{ print $1 }' | tr '\n' ' '; }
before=$(sum)
for _ in 1 2 3 4 5; do vh_get 127.0.0.2 18160 >/dev/null; done
vh_eq "five connections changed neither the database nor the -shm" "$before" "$(sum)"

# A change committed to the WAL by a writer that left without a
# checkpoint (persistent WAL, no autocheckpoint): the next reader, alone,
# builds its WAL index from the -wal in memory and sees the change.
sqlite3 "$DB" ".filectrl persist_wal 1" "PRAGMA wal_autocheckpoint = 0" \
	"UPDATE domains SET enabled = 0 WHERE address = '127.0.0.3'" >/dev/null
vh_check "the change is still in the WAL" test "$(stat -c %s "$DB-wal")" -gt 0
vh_eq "a disabled domain in the WAL only: refused" "" "$(vh_get 127.0.0.3 18160)"
vh_eq "the other domain still served" page-a "$(vh_get 127.0.0.2 18160)"
vh_ctl enable http 127.0.0.3 >/dev/null
vh_eq "enabled again by vhostctl: served" page-b "$(vh_get 127.0.0.3 18160)"
vh_eq "and the WAL is empty again" 0 "$(stat -c %s "$DB-wal")"

# I1: readers while vhostctl writes, through the super-server and through
# vhostctl lookup (the same decision): not one failure.
( end=$((SECONDS + 4)); while [ $SECONDS -lt $end ]; do
	vh_ctl add http 127.0.0.9 "$J/b" --user nobody >/dev/null
	vh_ctl disable http 127.0.0.9 >/dev/null
	vh_ctl remove http 127.0.0.9 >/dev/null
done ) &
writer=$!
fails=0 n=0
end=$((SECONDS + 4))
while [ $SECONDS -lt $end ]; do
	[ "$(vh_get 127.0.0.2 18160)" = page-a ] || fails=$((fails + 1))
	vh_ctl lookup http 127.0.0.3 >/dev/null || fails=$((fails + 1))
	n=$((n + 2))
done
wait "$writer"
vh_eq "I1: $n reads during writes, none failed" 0 "$fails"

# With the WAL empty, the lookup index answers without any -shm.
rm -f "$DB-shm"
vh_eq "without a -shm, from the lookup index: served" page-a "$(vh_get 127.0.0.2 18160)"
vh_check "the index did not need the -shm" test ! -e "$DB-shm"
# No -shm and no index (a database no vhostctl of this version touched
# since): SQLite's plain read-only open creates the -shm once, and serves.
rm -f "$DB-index"
vh_eq "without a -shm and an index: served" page-a "$(vh_get 127.0.0.2 18160)"
vh_check "the -shm exists again" test -f "$DB-shm"
vh_eq "and is root's, 0600" "0 600" "$(stat -c '%u %a' "$DB-shm")"
vh_eq "served again, now with the read-only -shm" page-b "$(vh_get 127.0.0.3 18160)"
vh_done
