#!/bin/bash
# vhostctl's core commands: validation with messages that name the fault
# and the fix, canonical storage, exit codes, one transaction per change,
# list (table, JSON), lookup (same decision as virtuald).
. "$(dirname "$0")/lib.sh"

J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/a" a
vh_mkjail "$J/b" b

# expect STATUS NEEDLE COMMAND...: exit status and a word of the message
expect() {
	local want=$1 needle=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	vh_eq "[$*] exits $want" "$want" "$rc"
	vh_contains "[$*] says '$needle'" "$needle" "$out"
}

expect 66 "vhostctl --db $DB init" vh_ctl list
vh_check "no database was created by a failed command (F1)" test ! -e "$DB"
expect 0 "created, schema version 1" vh_ctl init
expect 0 "up to date" vh_ctl init
vh_eq "init: database is 0600" 600 "$(stat -c %a "$DB")"
vh_eq "init: its directory is 0700" 700 "$(stat -c %a "$F/db")"

expect 65 "not an IP address" vh_ctl add http 010.0.0.1 "$J/a"
expect 65 "not an IP address" vh_ctl add http 10.1 "$J/a"
expect 65 "not an IP address" vh_ctl add http host.example "$J/a"
expect 65 "unspecified" vh_ctl add http 0.0.0.0 "$J/a"
expect 65 "multicast" vh_ctl add http ff02::1 "$J/a"
expect 65 "prefix" vh_ctl add http 10.0.0.0/8 "$J/a"
expect 65 "service name" vh_ctl add 'ht tp' 127.0.0.2 "$J/a"
expect 65 "relative" vh_ctl add http 127.0.0.2 jails/a
expect 65 "'.' or '..'" vh_ctl add http 127.0.0.2 "$J/../jails/a"
expect 65 "trailing slash" vh_ctl add http 127.0.0.2 "$J/a/"
expect 67 "unknown user 'no-such-user'" vh_ctl add http 127.0.0.2 "$J/a" --user no-such-user
expect 67 "unknown group 'no-such-group'" vh_ctl add http 127.0.0.2 "$J/a" --user nobody --group no-such-group
expect 67 "omit --user" vh_ctl add http 127.0.0.2 "$J/a" --user root
expect 67 "gid 0" vh_ctl add http 127.0.0.2 "$J/a" --user nobody --group root
expect 64 "--group needs --user" vh_ctl add http 127.0.0.2 "$J/a" --group nogroup
expect 72 "does not exist" vh_ctl add http 127.0.0.2 "$J/missing"
ln -s "$J/a" "$J/link"
expect 72 "symbolic link" vh_ctl add http 127.0.0.2 "$J/link"
mkdir -m 0755 "$J/gw" && chmod g+w "$J/gw"
expect 72 "chmod g-w" vh_ctl add http 127.0.0.2 "$J/gw"
expect 64 "Usage" vh_ctl add http 127.0.0.2
expect 64 "unknown command" vh_ctl frobnicate
vh_eq "nothing was added by the refusals" "" "$(sqlite3 "$DB" 'SELECT * FROM domains')"

expect 0 "added http ::1" vh_ctl add http 0:0:0:0:0:0:0:1 "$J/a" --user nobody --comment "six"
expect 0 "added http 127.0.0.2" vh_ctl add http ::ffff:127.0.0.2 "$J/a" --user nobody
expect 0 "as root" vh_ctl add '*' default "$J/b"
expect 65 "already exists" vh_ctl add http ::1 "$J/b" --user nobody
expect 65 "already exists" vh_ctl add http 127.0.0.2 "$J/b" --user nobody
expect 0 "added" vh_ctl add ftp 127.0.0.2 "$J/gw" --user nobody --force
vh_eq "stored canonically (G2)" "::1" "$(sqlite3 "$DB" "SELECT address FROM domains WHERE comment = 'six'")"
vh_eq "v4-mapped stored as IPv4 (G1)" "1" "$(sqlite3 "$DB" "SELECT count(*) FROM domains WHERE address = '127.0.0.2' AND service = 'http'")"
vh_eq "uid, gid and groups stored as numbers" "65534|65534|65534" \
	"$(sqlite3 "$DB" "SELECT uid, gid, groups FROM domains WHERE address = '::1'")"
vh_eq "a root service has no ids" "||" "$(sqlite3 "$DB" "SELECT user, uid, gid FROM domains WHERE service = '*'")"

out=$(vh_ctl list)
vh_contains "list: header" "SERVICE  ADDRESS    ROOT" "$out"
vh_eq "list: one line per domain plus header" 5 "$(printf '%s\n' "$out" | wc -l)"
cols=$(printf '%s\n' "$out" | awk '{ print index($0, $3) }' | sort -u | wc -l)
vh_eq "list: the ROOT column is aligned" 1 "$cols"
vh_contains "list: (root) for a root service" "(root)" "$out"
json=$(vh_ctl list --json)
vh_eq "list --json parses, 4 objects" 4 "$(printf '%s' "$json" | jq length)"
vh_eq "list --json: fields" "::1 nobody 65534 true six" \
	"$(printf '%s' "$json" | jq -r '.[] | select(.address == "::1") | "\(.address) \(.user) \(.uid) \(.enabled) \(.comment)"')"
vh_eq "list --service" 1 "$(vh_ctl list --service ftp --json | jq length)"
vh_eq "list --json of an empty selection" 0 "$(vh_ctl list --service none --json | jq length)"

expect 0 "rule 1, exact" vh_ctl lookup http 127.0.0.2
expect 0 "any-service-default" vh_ctl lookup http 127.0.0.9
expect 1 "jail" vh_ctl lookup ftp 127.0.0.2       # the forced, unsafe jail is refused
expect 0 "disabled http 127.0.0.2" vh_ctl disable http 127.0.0.2
expect 1 "is disabled" vh_ctl lookup http 127.0.0.2
vh_eq "lookup --json: refused with status 69" "false 69 exact" \
	"$(vh_ctl lookup http 127.0.0.2 --json | jq -r '"\(.served) \(.status) \(.rule)"')"
expect 0 "enabled" vh_ctl enable http 127.0.0.2
vh_eq "lookup --json: served" "true exact nobody" \
	"$(vh_ctl lookup http 127.0.0.2 --json | jq -r '"\(.served) \(.rule) \(.row.user)"')"
expect 68 "no domain" vh_ctl disable http 127.0.0.7
expect 68 "no domain" vh_ctl remove http 127.0.0.7
expect 0 "removed" vh_ctl remove '*' default
expect 1 "no domain" vh_ctl lookup http 127.0.0.9
expect 65 "not an IP address" vh_ctl lookup http default
VIRTUALD_DB=$DB "$VHOSTCTL" list >/dev/null
vh_eq "VIRTUALD_DB names the database" 0 $?

# I5: two writers at once serialise (BEGIN IMMEDIATE + busy timeout)
pids=()
for i in $(seq 1 40); do
	vh_ctl add "svc$i" 127.0.0.2 "$J/a" --user nobody >/dev/null 2>"$F/add$i.log" &
	pids+=($!)
done
wait "${pids[@]}"
vh_eq "40 concurrent adds, none lost (I5)" 40 "$(sqlite3 "$DB" "SELECT count(*) FROM domains WHERE service LIKE 'svc%'")"
vh_eq "no database-is-locked" "" "$(grep -l locked "$F"/*.log 2>/dev/null)"

expect 0 "Usage: vhostctl" vh_ctl --help
expect 0 "vhostctl 0.1.0" vh_ctl --version
expect 0 "--user" vh_ctl add --help
vh_done
