#!/bin/bash
# Issue 13, point 5: export | import of identical rows is idempotent
# ("already there", exit 0, the database unchanged); migrate-inetd calls
# them "already there" too; a legacy directory with a trailing slash (the
# old program accepted it) is normalised with a warning instead of
# failing the whole migration; migrate-inetd has the --user (and
# --group) its closing hint offers.
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/a" "page A"
vh_mkjail "$J/b" "page B"
sum() { sha256sum <"$1" | cut -d' ' -f1; }

vh_ctl add http 127.0.0.2 "$J/a" >/dev/null
vh_ctl add http default "$J/b" >/dev/null
vh_ctl export --service http >"$F/http.conf" 2>/dev/null
chmod 0644 "$F/http.conf"
before=$(sum "$DB")
out=$(vh_ctl import --service http "$F/http.conf" 2>&1)
vh_eq "export | import of identical rows: exit 0" 0 $?
vh_contains "export | import: already there" "already there" "$out"
vh_eq "export | import: the database is byte-identical" "$before" "$(sum "$DB")"
out=$(vh_ctl export --service http 2>/dev/null | vh_ctl import --service http - 2>&1)
vh_eq "through a pipe too" 0 $?
# a different row is still an error, naming it
printf '127.0.0.2 %s\n' "$J/b" >"$F/diff.conf"
out=$(vh_ctl import --service http "$F/diff.conf" 2>&1)
vh_eq "a different row: still refused" 65 $?
vh_contains "a different row: named" "already has a domain on 127.0.0.2" "$out"
# some new, some there: the new ones are added, the others counted
printf '127.0.0.2 %s\n127.0.0.3 %s\n' "$J/a" "$J/b" >"$F/more.conf"
out=$(vh_ctl import --service http "$F/more.conf" 2>&1)
vh_eq "new and identical rows: exit 0" 0 $?
vh_contains "new and identical rows: both counted" "imported 1 domain of service http from $F/more.conf, 1 already there" "$out"

# --- the trailing slash --------------------------------------------------------
printf '127.0.0.2 %s/\n127.0.0.4 %s//\n' "$J/a" "$J/b" >"$F/slash.conf"
out=$(vh_ctl import --service ftp "$F/slash.conf" 2>&1)
vh_eq "a trailing slash: imported" 0 $?
vh_contains "a trailing slash: a warning naming the line" "$F/slash.conf:1: warning: directory '$J/a/' ends with '/': imported as $J/a" "$out"
vh_eq "stored without the slash" "$J/a" "$(sqlite3 "$DB" "SELECT root FROM domains WHERE service = 'ftp' AND address = '127.0.0.2'")"
vh_eq "two slashes: stored without them" "$J/b" "$(sqlite3 "$DB" "SELECT root FROM domains WHERE service = 'ftp' AND address = '127.0.0.4'")"

# --- migrate-inetd: already there, --user ------------------------------------
printf '127.0.0.2 %s/\ndefault %s\n' "$J/a" "$J/b" >"$F/conf.pop"
chmod 0644 "$F/conf.pop"
printf 'pop3 stream tcp nowait root /usr/local/bin/virtuald virtuald %s /bin/busybox httpd -i -h /www\n' "$F/conf.pop" >"$F/inetd.conf"
out=$(vh_ctl migrate-inetd "$F/inetd.conf" --virtuald "$VIRTUALD" --user nobody 2>&1)
vh_eq "migrate-inetd --user: done" 0 $?
vh_contains "migrate-inetd: the trailing slash is a warning, not a failure" "ends with '/': imported as $J/a" "$out"
vh_contains "migrate-inetd --user: says so" "the imported domains run as nobody:" "$out"
vh_not_contains "migrate-inetd --user: no hint to give --user" "give --user" "$out"
vh_eq "migrate-inetd --user: the rows run as nobody" "nobody nobody" \
	"$(sqlite3 "$DB" "SELECT user FROM domains WHERE service = 'pop3' ORDER BY address" | tr '\n' ' ' | sed 's/ $//')"
before=$(sum "$DB")
out=$(vh_ctl migrate-inetd "$F/inetd.conf" --virtuald "$VIRTUALD" --user nobody 2>&1)
vh_eq "migrate-inetd again: exit 0" 0 $?
vh_contains "migrate-inetd again: already there" "imported 0 domains from $F/conf.pop (2 already there" "$out"
vh_eq "migrate-inetd again: the database is byte-identical" "$before" "$(sum "$DB")"
out=$(vh_ctl migrate-inetd "$F/inetd.conf" --virtuald "$VIRTUALD" --group nogroup 2>&1)
vh_eq "migrate-inetd --group without --user: a usage error" 64 $?
vh_done
