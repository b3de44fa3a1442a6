#!/bin/bash
# Issue 13 point 8: the audit trail. Every change vhostctl makes (init's
# migration, add, set, enable, disable, remove, import, migrate-inetd,
# history --max)
# leaves exactly one history row, written in the change's transaction,
# with who (uid, login: SUDO_USER under sudo), the command as run and the
# row before and after it (JSON; a bulk import one summary row); a
# refused change leaves none and no syslog line; the table keeps
# settings.history_max rows, oldest dropped first; each change also writes
# one key=value syslog line (ident vhostctl); vhostctl history shows it.
# Before this point there is no history: every check of a row fails.
. "$(dirname "$0")/lib.sh"

q() { sqlite3 -readonly "$DB" "$1"; }
count() { q 'SELECT count(*) FROM history'; }
# last EXPR: EXPR over the newest history row
last() { q "SELECT $1 FROM history ORDER BY id DESC LIMIT 1"; }
# one NAME N: exactly one new row since N rows
one() { vh_eq "$1: exactly one history row" "$(($2 + 1))" "$(count)"; }
# none NAME N: no new row, no syslog line
none() {
	vh_eq "$1: no history row" "$2" "$(count)"
	sleep 0.3
	vh_eq "$1: no syslog line" 0 "$(grep -a -c 'vhostctl.*change uid=' "$F/syslog")"
}

vh_init_db
vh_eq "init: the creation is one row" 1 "$(count)"
vh_eq "init: its command" init "$(last command)"
vh_eq "init: schema_version after" 6 "$(last "json_extract(after, '\$.schema_version')")"
vh_ctl init >/dev/null
vh_eq "init again (no migration): no row" 1 "$(count)"

mkdir -m 0755 "$F/jails"
vh_mkjail "$F/jails/a" "page a"
vh_mkjail "$F/jails/b" "page b"

# --- add ---------------------------------------------------------------------
n=$(count)
vh_log_mark
vh_ctl add http 127.0.0.2 "$F/jails/a" --comment 'the first' >/dev/null
one add "$n"
vh_eq "add: command as run" "add http 127.0.0.2 $F/jails/a --comment 'the first'" "$(last command)"
vh_eq "add: key" "http 127.0.0.2" "$(last "service || ' ' || address")"
vh_eq "add: before is null" 1 "$(last 'before IS NULL')"
vh_eq "add: after is the row" "$F/jails/a|the first|1" "$(last "json_extract(after, '\$.root'), json_extract(after, '\$.comment'), json_extract(after, '\$.enabled')")"
vh_eq "add: uid" 0 "$(last uid)"
vh_check "add: a login name" test -n "$(last login)"
line=$(vh_log_wait 'change uid=')
vh_contains "add: syslog ident vhostctl" "vhostctl" "$line"
vh_contains "add: syslog who" "change uid=0 login=" "$line"
vh_contains "add: syslog command" "command=\"add http 127.0.0.2 $F/jails/a --comment 'the first'\"" "$line"
vh_contains "add: syslog key" "service=http address=127.0.0.2 before=null after=" "$line"

# --- set, disable, enable: before and after ---------------------------------
n=$(count)
SUDO_USER=alice vh_ctl set http 127.0.0.2 --max-procs 77 --root "$F/jails/b" >/dev/null
one set "$n"
vh_eq "set: login from SUDO_USER" alice "$(last login)"
vh_eq "set: before" "1024|$F/jails/a" "$(last "json_extract(before, '\$.max_procs'), json_extract(before, '\$.root')")"
vh_eq "set: after" "77|$F/jails/b" "$(last "json_extract(after, '\$.max_procs'), json_extract(after, '\$.root')")"
n=$(count)
vh_ctl disable http 127.0.0.2 >/dev/null
one disable "$n"
vh_eq "disable: enabled before, not after" "1|0" "$(last "json_extract(before, '\$.enabled'), json_extract(after, '\$.enabled')")"
n=$(count)
vh_ctl enable http 127.0.0.2 >/dev/null
one enable "$n"
vh_eq "enable: not before, enabled after" "0|1" "$(last "json_extract(before, '\$.enabled'), json_extract(after, '\$.enabled')")"

# --- refused changes: no row, no line -----------------------------------------
n=$(count)
vh_log_mark
vh_ctl set http 127.0.0.2 --user vhhist-nosuch --root "$F/jails/a" >/dev/null 2>&1
none "set with an unknown user" "$n"
vh_ctl add http 127.0.0.2 "$F/jails/a" >/dev/null 2>&1
none "add of an existing key" "$n"
vh_ctl remove http 127.0.0.9 >/dev/null 2>&1
none "remove of a missing domain" "$n"
printf '127.0.0.5 %s\nbad line here\n' "$F/jails/a" >"$F/bad.conf"
vh_ctl import --service http "$F/bad.conf" >/dev/null 2>&1
none "import with an error" "$n"
vh_ctl import --service http "$F/bad.conf" --dry-run >/dev/null 2>&1
none "import --dry-run" "$n"

# --- import: one summary row --------------------------------------------------
printf '127.0.0.5 %s\n127.0.0.6 %s\n' "$F/jails/a" "$F/jails/b" >"$F/good.conf"
n=$(count)
vh_ctl import --service ftp "$F/good.conf" >/dev/null 2>&1
one import "$n"
vh_eq "import: a summary (no key)" 1 "$(last 'service IS NULL AND address IS NULL AND before IS NULL')"
vh_eq "import: the summary" "import|ftp|$F/good.conf|2|0" "$(last "json_extract(after, '\$.bulk'), json_extract(after, '\$.service'), json_extract(after, '\$.file'), json_extract(after, '\$.added'), json_extract(after, '\$.removed')")"

# --- migrate-inetd --write: one summary row ---------------------------------
printf '127.0.0.7 %s\n' "$F/jails/a" >"$F/conf.smtp"
printf 'smtp stream tcp nowait root %s virtuald %s /bin/busybox httpd -i -h /www\n' "$VIRTUALD" "$F/conf.smtp" \
	>"$F/inetd.conf"
n=$(count)
vh_ctl migrate-inetd "$F/inetd.conf" --write --virtuald "$VIRTUALD" >"$F/migrate.out" 2>&1
vh_eq "migrate-inetd --write succeeds" 0 $?
one migrate-inetd "$n"
vh_eq "migrate-inetd: the summary" "migrate-inetd|$F/inetd.conf|1|1" "$(last "json_extract(after, '\$.bulk'), json_extract(after, '\$.file'), json_extract(after, '\$.added'), service IS NULL")"
vh_contains "migrate-inetd: the command as run" "migrate-inetd $F/inetd.conf --write" "$(last command)"

# --- remove ------------------------------------------------------------------
n=$(count)
vh_ctl remove ftp 127.0.0.6 >/dev/null
one remove "$n"
vh_eq "remove: before is the row, after null" "$F/jails/b|1" "$(last "json_extract(before, '\$.root'), after IS NULL")"

# --- vhostctl history ----------------------------------------------------------
out=$(vh_ctl history http 127.0.0.2)
vh_eq "history SERVICE ADDRESS: its 4 changes" 4 "$(printf '%s\n' "$out" | grep -c '^#')"
vh_contains "history: oldest first (add)" "add http 127.0.0.2" "$(printf '%s\n' "$out" | grep '^#' | head -n 1)"
vh_contains "history: who" "alice (uid 0): set http 127.0.0.2" "$out"
vh_contains "history: newest last (enable)" "enable http 127.0.0.2" "$(printf '%s\n' "$out" | grep '^#' | tail -n 1)"
out=$(vh_ctl history --limit 2)
vh_eq "history --limit 2: two" 2 "$(printf '%s\n' "$out" | grep -c '^#')"
vh_contains "history --limit 2: the newest last" "remove ftp 127.0.0.6" "$(printf '%s\n' "$out" | grep '^#' | tail -n 1)"
json=$(vh_ctl history --json)
vh_eq "history --json: valid, every row" "$(count)" "$(printf '%s' "$json" | jq length)"
vh_eq "history --json: before/after are objects" "object" "$(printf '%s' "$json" | jq -r '.[] | select(.command | startswith("set ")) | .after | type')"

# --- the bound ------------------------------------------------------------------
n=$(count)
vh_log_mark
vh_ctl history --max 3 >/dev/null
vh_eq "history --max 3: trimmed at once" 3 "$(count)"
vh_eq "history --max: its own row, before and after" "100000|3" "$(last "json_extract(before, '\$.history_max'), json_extract(after, '\$.history_max')")"
vh_contains "history --max: a syslog line" 'command="history --max 3"' "$(vh_log_wait 'change uid=')"
top=$(last id)
for i in 1 2 3 4 5; do
	vh_ctl disable http 127.0.0.2 >/dev/null
	vh_ctl enable http 127.0.0.2 >/dev/null
done
vh_eq "the bound holds after 10 changes" 3 "$(count)"
vh_eq "the newest 3 are kept" "$((top + 8)) $((top + 9)) $((top + 10))" "$(q 'SELECT id FROM history ORDER BY id' | tr '\n' ' ' | sed 's/ $//')"
vh_ctl history --max -1 >/dev/null 2>&1
vh_eq "history --max -1: a usage error" 64 $?
vh_ctl history --max 0 >/dev/null
vh_eq "history --max 0: keeps none" 0 "$(count)"
vh_done
