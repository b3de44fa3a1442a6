#!/bin/bash
# Fail closed (THREATS E, F, G): every fault means no exec, nothing on the
# socket, one syslog line with the documented status, no file created.
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/a" "page A"
vh_mkjail "$J/d" "page default"
vh_ctl add http 127.0.0.2 "$J/a" --user nobody >/dev/null
HTTPD=(/bin/busybox httpd -i -h /www)
PORT=18200

# expect_refused DESCRIPTION STATUS DBPATH [SERVICE] [ADDRESS]
expect_refused() {
	local what=$1 status=$2 db=$3 svc=${4:-http} addr=${5:-127.0.0.2}
	PORT=$((PORT + 1))
	vh_log_mark
	vh_tcpserver 0 $PORT "$VIRTUALD" --db "$db" "$svc" "${HTTPD[@]}"
	local t0 t1 body line
	t0=$(date +%s%N)
	body=$(vh_get "$addr" $PORT)
	t1=$(date +%s%N)
	vh_eq "$what: nothing on the socket" "" "$body"
	if line=$(vh_log_wait "refused service=$svc"); then
		vh_contains "$what: logged with status $status" "status=$status " "$line"
	else
		vh_notok "$what: no refusal logged"
	fi
	[ $(((t1 - t0) / 1000000)) -lt 3000 ] && vh_ok "$what: refused within busy timeout + 1 s" ||
		vh_notok "$what: took $(((t1 - t0) / 1000000)) ms"
	vh_stop_last
}

# --- the database -----------------------------------------------------------
mkdir -m 0755 "$F/bad"
expect_refused "F1 missing database" 66 "$F/bad/none.db"
vh_check "F1 no database file was created" test ! -e "$F/bad/none.db"
: >"$F/bad/empty.db"
expect_refused "F2 zero-length database" 78 "$F/bad/empty.db"
printf 'this is not a database\n%.0s' $(seq 200) >"$F/bad/text.db"
expect_refused "F3 text file" 78 "$F/bad/text.db"
head -c 20000 /dev/urandom | gzip >"$F/bad/gz.db"
expect_refused "F3 gzip file" 78 "$F/bad/gz.db"

mkdir -m 0700 "$F/db2"
cp "$DB" "$F/db2/v99.db"
sqlite3 "$F/db2/v99.db" "PRAGMA user_version=99" >/dev/null
expect_refused "F6/E7 schema version too new" 78 "$F/db2/v99.db"
line=$(vh_log_wait "refused service=http")
V=$("$VHOSTCTL" --version | sed -n 's/.*schema version \([0-9]*\).*/\1/p')
vh_contains "E7 message names both versions" "schema version 99, newer than version $V" "$line"
cp "$DB" "$F/db2/v0.db"
sqlite3 "$F/db2/v0.db" "PRAGMA user_version=0" >/dev/null
expect_refused "F6 schema version too old" 78 "$F/db2/v0.db"
# a database of the previous release (sql/001 alone, with a row): refused
# until vhostctl init upgrades it, and the log line says so
sqlite3 "$F/db2/v1.db" <"$VH_SRC/sql/001_initial.sql"
sqlite3 "$F/db2/v1.db" "PRAGMA journal_mode=WAL; INSERT INTO domains (service, address, root, user, grp, uid, gid)
  VALUES ('http', '127.0.0.2', '$J/a', 'nobody', 'nogroup', 65534, 65534)" >/dev/null
chmod 0600 "$F/db2/v1.db"
expect_refused "F6 a version 1 database (before sql/002)" 78 "$F/db2/v1.db"
line=$(vh_log_wait "refused service=http")
vh_contains "F6 version 1: the log names the remedy" "upgrade it: vhostctl --db $F/db2/v1.db init" "$line"
cp "$DB" "$F/db2/app.db"
sqlite3 "$F/db2/app.db" "PRAGMA application_id=42" >/dev/null
expect_refused "E7 foreign application_id" 78 "$F/db2/app.db"
# F4: a database whose table pages are gone
sqlite3 "$F/db2/big.db" "PRAGMA application_id=1449676627; PRAGMA user_version=$V;
  CREATE TABLE domains (service TEXT, address TEXT, root TEXT, user TEXT, grp TEXT, uid INT, gid INT, groups TEXT,
  enabled INT, comment TEXT, created TEXT, updated TEXT, net_bind_service INT, max_procs INT,
  PRIMARY KEY(service, address)) WITHOUT ROWID;
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 5000)
  INSERT INTO domains SELECT 'http', '10.0.' || (i/250) || '.' || (i%250), '/x', NULL, NULL, NULL, NULL, '', 1, '', '', '',
  0, 1024 FROM n;"
truncate -s 8192 "$F/db2/big.db"
expect_refused "F4 truncated database" 78 "$F/db2/big.db"

# --- trust (E1-E5) ------------------------------------------------------
mkdir -m 0700 "$F/t"
cp "$DB" "$F/t/v.db"
chown nobody "$F/t/v.db"
expect_refused "E1 database owned by another user" 78 "$F/t/v.db"
line=$(vh_log_wait "refused service=http")
vh_contains "E1 message names path, owner and fix" "$F/t/v.db is owned by uid 65534, should be uid 0 - chown root" "$line"
chown root "$F/t/v.db"
chmod 0620 "$F/t/v.db"
expect_refused "E2 database writable by group" 78 "$F/t/v.db"
chmod 0600 "$F/t/v.db"
chmod 0770 "$F/t"
expect_refused "E2 database directory writable by group" 78 "$F/t/v.db"
chmod 0700 "$F/t"
mkdir -m 1777 "$F/sticky"
mkdir -m 0700 "$F/sticky/d"
cp "$DB" "$F/sticky/d/v.db"
expect_refused "E3 sticky world-writable ancestor (like /tmp)" 78 "$F/sticky/d/v.db"
ln -s "$F/t/v.db" "$F/t/link.db"
expect_refused "E5 database path is a symlink" 78 "$F/t/link.db"
ln -s "$F/elsewhere" "$F/t/v.db-wal"
expect_refused "E4 symlinked -wal sidecar" 78 "$F/t/v.db"
rm "$F/t/v.db-wal"
: >"$F/t/v.db-shm"
chown nobody "$F/t/v.db-shm"
expect_refused "E4 -shm sidecar owned by another user" 78 "$F/t/v.db"
rm "$F/t/v.db-shm"

# --- rows and jails (F7, F9, F10, F15) ---------------------------------
expect_refused "F7 no matching row" 68 "$DB" http 127.0.0.9
vh_ctl add ftp 127.0.0.2 "$J/missing" --user nobody --force >/dev/null 2>&1
expect_refused "F9 jail missing" 72 "$DB" ftp
mkdir -m 0755 "$J/real"
ln -s "$J/real" "$J/symlinked"
vh_ctl add pop 127.0.0.2 "$J/symlinked" --user nobody --force >/dev/null 2>&1
expect_refused "A8 jail is a symlink" 72 "$DB" pop
mkdir -m 0775 "$J/gw"
vh_ctl add imap 127.0.0.2 "$J/gw" --user nobody --force >/dev/null 2>&1
expect_refused "A11 jail writable by group" 72 "$DB" imap
mkdir -m 0755 "$J/dir" && chown nobody "$J/dir"
vh_ctl add smtp default "$J/dir" --user nobody --force >/dev/null 2>&1
vh_ctl add smtp 127.0.0.3 "$J/a" --user nobody >/dev/null
expect_refused "F15 unsafe default jail refuses, never falls through" 72 "$DB" smtp 127.0.0.2
vh_ctl add nntp 127.0.0.2 "$J/a" --user nobody >/dev/null
PORT=$((PORT + 1))
vh_log_mark
vh_tcpserver 0 $PORT "$VIRTUALD" --db "$DB" nntp /bin/not-in-jail
vh_eq "F10 program missing in the jail: nothing on the socket" "" "$(vh_get 127.0.0.2 $PORT)"
line=$(vh_log_wait "refused service=nntp")
vh_contains "F10 logged with status 127" "status=127 " "$line"
vh_stop_last

# --- the command line and fd 0 -------------------------------------------
"$VIRTUALD" --db "$DB" http /bin/true </dev/null >"$F/out" 2>&1
vh_eq "G7 fd 0 not a socket: status 76" 76 $?
vh_eq "G7 nothing written to stdout/stderr" "" "$(cat "$F/out")"
"$VIRTUALD" --db "$DB" </dev/null >/dev/null 2>&1
vh_eq "usage error: status 64" 64 $?
"$VIRTUALD" --db "$DB" 'bad/name' /bin/true </dev/null >/dev/null 2>&1
vh_eq "bad service name: status 64" 64 $?
setpriv --reuid=nobody --regid=nogroup --clear-groups "$VIRTUALD" --db "$DB" http /bin/true </dev/null >/dev/null 2>&1
vh_eq "not started as root: status 77" 77 $?

vh_done
