#!/bin/bash
# Backup and restore as doc/operations.md and vhostctl(8) say: a backup
# taken with the sqlite3 shell while virtuald serves (VACUUM INTO and
# .backup, on a read-only connection) is a consistent copy and leaves the
# live database and its lookup index as they were; a live restore
# (.restore) is what the next connection sees at once, and "vhostctl
# check" then warns index-stale (exit 1) until "vhostctl init" rebuilds
# the index (exit 0 again); an offline restore (the file put back with
# root ownership and mode 0600, the old -wal, -shm and -index removed)
# works after "vhostctl init"; a restored file owned by another user is
# an error for check (2), a warning from init and a refusal (78) for
# virtuald until chown root (and init, for the index).
. "$(dirname "$0")/lib.sh"

vh_init_db
# a user per domain: a shared uid is a warning of check's
vh_test_user vhbk-a 61701
vh_test_user vhbk-b 61702
mkdir -m 0755 "$F/jails"
vh_mkjail "$F/jails/a" "backup a"
vh_mkjail "$F/jails/b" "backup b"
vh_ctl add http 127.0.0.2 "$F/jails/a" --user vhbk-a >/dev/null
vh_ctl add http 127.0.0.3 "$F/jails/b" --user vhbk-b >/dev/null
vh_ctl check >"$F/check0.out" 2>&1
vh_eq "the fixture checks clean" 0 $?
rows=$(vh_ctl list --json)
vh_tcpserver 0 18170 "$VIRTUALD" --verbose --db "$DB" http /bin/busybox httpd -i -h /www

# --- backup while virtuald serves -----------------------------------------
BK=$F/backup
mkdir -m 0700 "$BK"
for i in $(seq 40); do vh_get 127.0.0.2 18170; done >"$F/during.out" &
client=$!
(umask 077 && sqlite3 -readonly "$DB" "VACUUM INTO '$BK/vhosts.db'")
vh_eq "VACUUM INTO on a read-only connection while serving" 0 $?
(umask 077 && sqlite3 -readonly "$DB" ".backup '$BK/vhosts-2.db'")
vh_eq ".backup on a read-only connection while serving" 0 $?
wait "$client"
vh_eq "every connection during the backups was served" 40 "$(grep -c '^backup a$' "$F/during.out")"
for b in vhosts.db vhosts-2.db; do
	vh_eq "backup $b: integrity ok" ok "$(sqlite3 -readonly "$BK/$b" 'PRAGMA integrity_check')"
	vh_eq "backup $b: every row" "$(sqlite3 -readonly "$DB" 'SELECT * FROM domains ORDER BY 1, 2')" \
		"$(sqlite3 -readonly "$BK/$b" 'SELECT * FROM domains ORDER BY 1, 2')"
	vh_eq "backup $b: mode 0600 under umask 077" 600 "$(stat -c %a "$BK/$b")"
done
vh_not_contains "the backups left the live index current" "index-stale" "$(vh_ctl check 2>&1)"
vh_log_mark
vh_eq "after the backups: served" "backup a" "$(vh_get 127.0.0.2 18170)"
vh_contains "after the backups: answered from the index" "source=index" "$(vh_log_wait 'source=')"

# --- a change, then a live restore ----------------------------------------
vh_ctl remove http 127.0.0.2 >/dev/null
vh_ctl add http 127.0.0.2 "$F/jails/b" --user vhbk-b >/dev/null
vh_ctl remove http 127.0.0.3 >/dev/null
vh_eq "changed: 127.0.0.2 serves jail b" "backup b" "$(vh_get 127.0.0.2 18170)"
sqlite3 "$DB" ".timeout 15000" ".restore '$BK/vhosts.db'"
vh_eq "live restore (.restore) succeeds" 0 $?
vh_eq "restored: every row as backed up" "$rows" "$(vh_ctl list --json)"
vh_log_mark
vh_eq "restored: the next connection sees the backup (127.0.0.2)" "backup a" "$(vh_get 127.0.0.2 18170)"
vh_contains "restored: virtuald reads the database until init" "source=database" "$(vh_log_wait 'source=')"
vh_eq "restored: 127.0.0.3 is back" "backup b" "$(vh_get 127.0.0.3 18170)"
out=$(vh_ctl check 2>&1)
vh_eq "restored: check exits 1 (warnings only)" 1 $?
vh_contains "restored: check warns index-stale, fix vhostctl init" "[index-stale]" "$out"
vh_contains "restored: ... naming the fix" "fix: vhostctl init" "$out"
vh_eq "restored: index-stale is the only finding" 1 "$(printf '%s\n' "$out" | grep -c '\] ')"
vh_ctl init >/dev/null
vh_eq "restored: init succeeds" 0 $?
vh_ctl check >/dev/null 2>&1
vh_eq "restored, after init: check exits 0" 0 $?
vh_log_mark
vh_eq "after init: served" "backup a" "$(vh_get 127.0.0.2 18170)"
vh_contains "after init: answered from the index" "source=index" "$(vh_log_wait 'source=')"
vh_eq "the database is still in WAL mode" wal "$(sqlite3 -readonly "$DB" 'PRAGMA journal_mode')"

# --- an offline restore -----------------------------------------------------
vh_stop_last
vh_ctl remove http 127.0.0.3 >/dev/null
rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-index"
install -o root -g root -m 0600 "$BK/vhosts.db" "$DB"
out=$(vh_ctl check 2>&1)
vh_eq "offline restore, before init: check exits 1" 1 $?
vh_contains "offline restore, before init: index-stale (no index)" "[index-stale]" "$out"
vh_ctl init >/dev/null
vh_eq "offline restore: init succeeds" 0 $?
vh_ctl check >/dev/null 2>&1
vh_eq "offline restore, after init: check exits 0" 0 $?
vh_eq "offline restore: every row as backed up" "$rows" "$(vh_ctl list --json)"
vh_eq "offline restore: WAL mode" wal "$(sqlite3 -readonly "$DB" 'PRAGMA journal_mode')"
vh_tcpserver 0 18171 "$VIRTUALD" --verbose --db "$DB" http /bin/busybox httpd -i -h /www
vh_eq "offline restore: 127.0.0.3 served" "backup b" "$(vh_get 127.0.0.3 18171)"

# --- a restored file that root does not own -------------------------------
chown nobody "$DB"
out=$(vh_ctl init 2>&1)
vh_contains "restored as nobody: init warns virtuald will refuse it" "virtuald will refuse this database" "$out"
out=$(vh_ctl check 2>&1)
vh_eq "restored as nobody: check exits 2" 2 $?
vh_contains "restored as nobody: check names the fix" "fix: chown root $DB" "$out"
vh_log_mark
vh_eq "restored as nobody: virtuald refuses" "" "$(vh_get 127.0.0.2 18171)"
vh_contains "restored as nobody: ... with status 78" "status=78" "$(vh_log_wait 'refused')"
chown root "$DB"
out=$(vh_ctl check 2>&1)
vh_eq "after chown root: check exits 1" 1 $?
vh_contains "after chown root: the index is stale (the file's change time moved)" "[index-stale]" "$out"
vh_ctl init >/dev/null
vh_ctl check >/dev/null 2>&1
vh_eq "after chown root and init: check exits 0" 0 $?
vh_eq "after chown root: served" "backup a" "$(vh_get 127.0.0.2 18171)"
vh_stop_last

vh_done
