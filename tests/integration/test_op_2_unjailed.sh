#!/bin/bash
# Issue 13, point 2: a jail of / (the legacy HOWTO's `default /`), or one
# that holds the database or another domain's jail, is no jail. Every
# command that writes rows refuses it, naming the way to keep it on
# purpose, unless the operator gives --unjailed; the row then says
# unjailed=1, which virtuald honours (serves it without the K7 check,
# logs unjailed=1) - from the database and from the lookup index alike -
# while a '/' row without the flag is refused. check warns about unjailed
# rows and calls a '/' row without the flag an error. A tenant who can
# write a legacy file never gets the flag through the operator's option.
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/a" "page A"
mkdir -m 0755 "$F/www"
echo "host page" >"$F/www/index.html"

unj() {
	sqlite3 "$DB" "SELECT unjailed FROM domains WHERE service = '$1' AND address = '$2'"
}
count() {
	sqlite3 "$DB" "SELECT count(*) FROM domains"
}

# --- add ---------------------------------------------------------------------
out=$(vh_ctl add http 127.0.0.2 / 2>&1)
vh_eq "add /: refused (EX_OSFILE, as add's other jail refusals)" 72 $?
vh_contains "add /: says why" "/ is no jail: it is the host's root directory" "$out"
vh_contains "add /: names the exact command to keep it on purpose" "vhostctl --db $DB add http 127.0.0.2 / --unjailed" "$out"
out=$(vh_ctl add http 127.0.0.2 / --force 2>&1)
vh_eq "add / --force: still refused (--force is not --unjailed)" 72 $?
vh_eq "add /: no row" 0 "$(count)"
vh_ctl add http 127.0.0.3 "$J/a" --user nobody >/dev/null
vh_eq "a jail: added" 0 "$(unj http 127.0.0.3)"
out=$(vh_ctl add http 127.0.0.4 "$J" 2>&1)
vh_eq "add of a directory that holds another domain's jail: refused" 72 $?
vh_contains "add ancestor: says which jail it holds" "it holds the jail $J/a of another domain" "$out"
out=$(vh_ctl add http 127.0.0.4 "$F/db" 2>&1)
vh_eq "add of the database's directory: refused" 72 $?
vh_contains "add db dir: says so" "it holds the database $DB" "$out"
out=$(vh_ctl add http 127.0.0.5 "$J/a" --unjailed 2>&1)
vh_eq "add --unjailed of a real jail: a usage error" 64 $?
vh_contains "add --unjailed of a jail: says why" "is a jail - add it without --unjailed" "$out"
out=$(vh_ctl add http default / --unjailed 2>&1)
vh_eq "add / --unjailed: added" 0 $?
vh_contains "add / --unjailed: says what it means" "unjailed: http default runs on the host's file system" "$out"
vh_eq "add / --unjailed: the row says unjailed=1" 1 "$(unj http default)"
vh_ctl add ftp 127.0.0.4 "$J" --unjailed >/dev/null 2>&1
vh_eq "add ancestor --unjailed: the row says unjailed=1" 1 "$(unj ftp 127.0.0.4)"
vh_ctl remove ftp 127.0.0.4 >/dev/null

# --- list, lookup, export ------------------------------------------------------
out=$(vh_ctl list)
vh_contains "list shows the mark" "enabled,unjailed" "$out"
vh_contains "list --json has unjailed" '"unjailed":true' "$(vh_ctl list --json | tr -d ' ')"
vh_contains "lookup --json has unjailed" '"unjailed":true' "$(vh_ctl lookup http 127.0.0.9 --json | tr -d ' ')"
vh_contains "lookup says unjailed" "unjailed yes" "$(vh_ctl lookup http 127.0.0.9)"
out=$(vh_ctl export --service http 2>&1 >/dev/null)
vh_contains "export warns that the format cannot say unjailed" "marked unjailed" "$out"

# --- check -------------------------------------------------------------------
out=$(vh_ctl check http default 2>&1)
vh_contains "check: an unjailed row is a warning" "warning [unjailed] /" "$out"

# --- virtuald: serves the unjailed row, through tcpserver ---------------------
PORT=19400
vh_tcpserver 0 $PORT "$VIRTUALD" --db "$DB" --verbose http /bin/busybox httpd -i -h "$F/www"
vh_log_mark
vh_eq "virtuald serves the unjailed row (the host's file system)" "host page" "$(vh_get 127.0.0.9 $PORT)"
line=$(vh_log_wait "served service=http") || line=
vh_contains "the served line says unjailed=1" "root=/ user=root" "$line"
vh_contains "the served line ends in unjailed=1" "unjailed=1" "$line"
line=$(vh_log_wait "detail decided") || line=
vh_contains "decided from the lookup index (it carries the flag)" "source=index" "$line"
# the same row from the database (the index stale: a change behind vhostctl's back)
sqlite3 "$DB" "UPDATE domains SET comment = 'x' WHERE address = 'default'"
vh_log_mark
vh_eq "served from the database too" "host page" "$(vh_get 127.0.0.9 $PORT)"
line=$(vh_log_wait "detail decided") || line=
vh_contains "decided from the database" "source=database" "$line"
vh_contains "unjailed=1 from the database" "unjailed=1" "$(vh_log_wait "served service=http")"
# a '/' row without the flag (left from before): refused, by the index and the database
vh_ctl set http default --unjailed off >/dev/null 2>&1
vh_eq "set --unjailed off" 0 "$(unj http default)"
vh_log_mark
vh_eq "a '/' row without the flag is refused" "" "$(vh_get 127.0.0.9 $PORT)"
line=$(vh_log_wait "refused service=") || line=
vh_contains "the refusal says why and how" "its jail is / - the host's whole file system" "$line"
vh_contains "the refusal names set --unjailed on" "vhostctl set http default --unjailed on" "$line"
line=$(vh_log_wait "detail decided") || line=
vh_contains "refused with the index's answer" "source=index" "$line"
sqlite3 "$DB" "UPDATE domains SET comment = 'y' WHERE address = 'default'"
vh_log_mark
vh_eq "and with the database's" "" "$(vh_get 127.0.0.9 $PORT)"
vh_contains "database: refused" "its jail is /" "$(vh_log_wait "refused service=")"
out=$(vh_ctl check http default 2>&1)
vh_contains "check: a '/' row without the flag is an error" "error [root-is-slash] /" "$out"
vh_contains "check: the fix names set --unjailed on" "vhostctl set http default --unjailed on" "$out"
out=$(vh_ctl set http 127.0.0.3 --unjailed on 2>&1)
vh_eq "set --unjailed on for a jail: refused" 64 $?
vh_eq "the jail stays jailed" 0 "$(unj http 127.0.0.3)"
vh_ctl set http default --unjailed on >/dev/null
vh_eq "set --unjailed on for /" 1 "$(unj http default)"
vh_eq "served again" "host page" "$(vh_get 127.0.0.9 $PORT)"
# set --root re-judges the mark (points 2 and 7 together): a new root that
# is no jail needs --unjailed on, a new root that is a jail drops the mark
out=$(vh_ctl set http 127.0.0.3 --root / 2>&1)
vh_eq "set --root / without --unjailed on: refused (72)" 72 $?
vh_contains "the refusal names the command with --unjailed on" "vhostctl set http 127.0.0.3 --root / --unjailed on" "$out"
vh_eq "the jail is unchanged" "$J/a|0" "$(sqlite3 "$DB" "SELECT root || '|' || unjailed FROM domains WHERE service = 'http' AND address = '127.0.0.3'")"
vh_ctl set http default --root "$J/a" >/dev/null 2>&1
vh_eq "set --root JAIL on an unjailed row: the mark goes" "$J/a|0" "$(sqlite3 "$DB" "SELECT root || '|' || unjailed FROM domains WHERE service = 'http' AND address = 'default'")"
vh_ctl remove http default >/dev/null

# --- import ------------------------------------------------------------------
printf '127.0.0.6 %s\n127.0.0.8 %s\ndefault /\n' "$J/a" "$J" >"$F/conf"
chmod 0644 "$F/conf"
out=$(vh_ctl import --service pop3 "$F/conf" 2>&1)
vh_eq "import of 'default /': refused" 65 $?
vh_contains "import: names the line" "$F/conf:3: error: / is no jail" "$out"
vh_contains "import: an ancestor jail is refused too" "$F/conf:2: error: $J is no jail: it holds the jail $J/a" "$out"
vh_contains "import: names the command with --unjailed" "vhostctl --db $DB import --service pop3 $F/conf --unjailed" "$out"
vh_eq "import: nothing written" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM domains WHERE service = 'pop3'")"
out=$(vh_ctl import --service pop3 "$F/conf" --unjailed 2>&1)
vh_eq "import --unjailed: imported" 0 $?
vh_eq "import --unjailed: '/' marked" 1 "$(unj pop3 default)"
vh_eq "import --unjailed: the jail row is not" 0 "$(unj pop3 127.0.0.6)"
vh_eq "import --unjailed: the ancestor marked" 1 "$(unj pop3 127.0.0.8)"
out=$(vh_ctl export --service pop3 2>/dev/null | vh_ctl import --service pop3 - --unjailed 2>&1)
vh_eq "export | import --unjailed: no error" 0 $?
vh_contains "export | import: already there" "already there" "$out"
# THREATS H13: a file a tenant can write does not carry the operator's --unjailed
printf 'default /\n' >"$F/tenant.conf"
chown 65534 "$F/tenant.conf"
out=$(vh_ctl import --service smtp "$F/tenant.conf" --unjailed 2>&1)
vh_eq "a tenant's file: --unjailed not taken" 65 $?
vh_contains "a tenant's file: says why" "--unjailed is taken only from a regular file that root alone can write" "$out"
chown 0 "$F/tenant.conf"
chmod 0666 "$F/tenant.conf"
out=$(vh_ctl import --service smtp "$F/tenant.conf" --unjailed 2>&1)
vh_eq "a world-writable file: --unjailed not taken" 65 $?
vh_eq "no smtp row" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM domains WHERE service = 'smtp'")"
# the schema: nothing but 0 or 1
sqlite3 "$DB" "UPDATE domains SET unjailed = 2 WHERE service = 'pop3'" 2>/dev/null
vh_eq "the schema refuses unjailed = 2" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM domains WHERE unjailed = 2")"

# --- migrate-inetd -------------------------------------------------------------
printf '127.0.0.7 %s\ndefault /\n' "$J/a" >"$F/conf.ftp"
chmod 0644 "$F/conf.ftp"
printf 'ftp stream tcp nowait root /usr/local/bin/virtuald virtuald %s /bin/busybox httpd -i\n' "$F/conf.ftp" >"$F/inetd.conf"
out=$(vh_ctl migrate-inetd "$F/inetd.conf" --virtuald "$VIRTUALD" 2>&1)
vh_eq "migrate-inetd with 'default /': refused" 65 $?
vh_contains "migrate: an error naming the line" "$F/conf.ftp:2: error: / is no jail" "$out"
vh_contains "migrate: names the command with --unjailed" "migrate-inetd $F/inetd.conf --virtuald $VIRTUALD --unjailed" "$out"
vh_eq "migrate: nothing imported" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM domains WHERE service = 'ftp'")"
out=$(vh_ctl migrate-inetd "$F/inetd.conf" --virtuald "$VIRTUALD" --unjailed 2>&1)
vh_eq "migrate-inetd --unjailed: done" 0 $?
vh_eq "migrate --unjailed: '/' marked" 1 "$(unj ftp default)"
vh_eq "migrate --unjailed: the jail row is not" 0 "$(unj ftp 127.0.0.7)"

# --- a mark whose reason is gone (red team): taken off, or an error -------
# smtp: S holds the jail S/in, so S is no jail and is marked on purpose
S=$F/stale
mkdir -m 0755 "$S"
vh_mkjail "$S/in" "inner"
vh_ctl add smtp 127.0.0.20 "$S/in" --user nobody >/dev/null
vh_ctl add smtp 127.0.0.21 "$S" --unjailed >/dev/null
vh_eq "the holder of a jail: marked" 1 "$(unj smtp 127.0.0.21)"
out=$(vh_ctl remove smtp 127.0.0.20 2>&1)
vh_eq "remove of the jail it held: done" 0 $?
vh_eq "remove takes the mark off the row whose reason went with it" 0 "$(unj smtp 127.0.0.21)"
vh_contains "and says so" "smtp 127.0.0.21: its root $S is a jail now" "$out"
vh_eq "the lookup index agrees (rebuilt)" '"unjailed": false' \
	"$(vh_ctl lookup smtp 127.0.0.21 --json | grep -o '"unjailed": [a-z]*')"
# a set --root that moves the held jail away does the same
vh_ctl add smtp 127.0.0.20 "$S/in" --user nobody >/dev/null
vh_ctl set smtp 127.0.0.21 --unjailed on >/dev/null
vh_ctl set smtp 127.0.0.20 --root "$J/a" >/dev/null 2>&1
vh_eq "set --root moving the held jail away: the mark goes" 0 "$(unj smtp 127.0.0.21)"
# a mark made stale by hand (or before vhostctl re-judged marks): check's error
sqlite3 "$DB" "UPDATE domains SET unjailed = 1 WHERE service = 'smtp' AND address = '127.0.0.21'"
out=$(vh_ctl check smtp 127.0.0.21 2>&1)
vh_eq "check of a stale mark: errors (2)" 2 $?
vh_contains "check: unjailed-stale, with the fix" "error [unjailed-stale]" "$out"
vh_contains "check: the fix" "vhostctl set smtp 127.0.0.21 --unjailed off" "$out"
vh_ctl remove smtp 127.0.0.21 >/dev/null
vh_ctl remove smtp 127.0.0.20 >/dev/null
# --unjailed from a pipe: a new mark is never taken (no owner to judge)
out=$(printf 'default /\n' | vh_ctl import --service imap - --unjailed 2>&1)
vh_eq "import - --unjailed of a new '/' row: refused" 65 $?
vh_contains "says why" "not from a pipe or standard input" "$out"

vh_done
