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
SV=$(vh_schema_version)
expect 0 "created, schema version $SV" vh_ctl init
expect 0 "up to date" vh_ctl init
vh_eq "init: database is 0600" 600 "$(stat -c %a "$DB")"
vh_eq "init: its directory is 0700" 700 "$(stat -c %a "$F/db")"

expect 65 "not an IP address" vh_ctl add http 010.0.0.1 "$J/a"
expect 65 "not an IP address" vh_ctl add http 10.1 "$J/a"
# a host name is a key since issue 17; one that is no host name is refused
expect 65 "character other than a letter" vh_ctl add http host_name.example "$J/a"
expect 65 "one label" vh_ctl add http localhost "$J/a"
expect 65 "unspecified" vh_ctl add http 0.0.0.0 "$J/a"
expect 65 "multicast" vh_ctl add http ff02::1 "$J/a"
# a prefix is a key since issue 15 (test_fleet_c_prefix_keys.sh); one with host bits is not
expect 65 "has host bits set" vh_ctl add http 10.0.0.1/8 "$J/a"
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

# --- sql/002's settings: net_bind_service (K5), max_procs (K10) ------------
settings() { sqlite3 "$DB" "SELECT net_bind_service, max_procs FROM domains WHERE service = '$1' AND address = '$2'"; }
vh_eq "add: the defaults (no CAP_NET_BIND_SERVICE, 1024 processes)" "0|1024" "$(settings http 127.0.0.2)"
expect 0 "added ftp 127.0.0.3" vh_ctl add ftp 127.0.0.3 "$J/b" --net-bind-service --max-procs 64
vh_eq "add --net-bind-service --max-procs 64: stored" "1|64" "$(settings ftp 127.0.0.3)"
expect 64 "for root services" vh_ctl add ftp 127.0.0.4 "$J/b" --user nobody --net-bind-service
expect 65 "max-procs 0 is out of range" vh_ctl add ftp 127.0.0.4 "$J/b" --max-procs 0
expect 65 "give 1 to 4194304" vh_ctl add ftp 127.0.0.4 "$J/b" --max-procs 4194305
expect 65 "not a number" vh_ctl add ftp 127.0.0.4 "$J/b" --max-procs 12k
expect 65 "not a number" vh_ctl add ftp 127.0.0.4 "$J/b" --max-procs -5
vh_eq "nothing was added by the refused settings" "" "$(settings ftp 127.0.0.4)"
expect 0 "added ftp 127.0.0.4" vh_ctl add ftp 127.0.0.4 "$J/b" --user nobody --max-procs 4194304
vh_eq "a run-as row: max-procs stored" "0|4194304" "$(settings ftp 127.0.0.4)"

expect 0 "set ftp 127.0.0.3: net_bind_service off max_procs 1" vh_ctl set ftp 127.0.0.3 --net-bind-service off --max-procs 1
vh_eq "set: both changed" "0|1" "$(settings ftp 127.0.0.3)"
expect 0 "net_bind_service on" vh_ctl set ftp 127.0.0.3 --net-bind-service on
vh_eq "set: one changed, the other kept" "1|1" "$(settings ftp 127.0.0.3)"
expect 0 "max_procs 300" vh_ctl set ftp ::ffff:127.0.0.3 --max-procs 300
vh_eq "set: the address canonicalised" "1|300" "$(settings ftp 127.0.0.3)"
expect 65 "no capabilities" vh_ctl set ftp 127.0.0.4 --net-bind-service on --max-procs 5
vh_eq "set: a refused change is not half-applied" "0|4194304" "$(settings ftp 127.0.0.4)"
expect 64 "'on' or 'off'" vh_ctl set ftp 127.0.0.3 --net-bind-service yes
expect 65 "out of range" vh_ctl set ftp 127.0.0.3 --max-procs 0
expect 64 "nothing to set" vh_ctl set ftp 127.0.0.3
expect 68 "no domain" vh_ctl set ftp 127.0.0.9 --max-procs 5
expect 65 "not an IP address" vh_ctl set ftp 127.0.0 --max-procs 5
vh_eq "set: the refusals changed nothing" "1|300" "$(settings ftp 127.0.0.3)"

out=$(vh_ctl list)
vh_contains "list: NET_BIND, PROCS and LIMITS columns" "NET_BIND    PROCS  LIMITS          STATE" "$out"
vh_eq "list: a root row's settings" "yes 300" "$(printf '%s\n' "$out" | awk '$2 == "127.0.0.3" { print $6, $7 }')"
vh_eq "list: a run-as row has no NET_BIND" "- 4194304" "$(printf '%s\n' "$out" | awk '$2 == "127.0.0.4" { print $6, $7 }')"
vh_eq "list --json: the settings" "true 300 false 4194304" \
	"$(vh_ctl list --service ftp --json | jq -r '[.[] | select(.address == "127.0.0.3" or .address == "127.0.0.4") |
		"\(.net_bind_service) \(.max_procs)"] | join(" ")')"
out=$(vh_ctl lookup ftp 127.0.0.3)
vh_contains "lookup: net_bind_service" "net_bind_service on" "$out"
vh_contains "lookup: max_procs" "max_procs 300" "$out"
vh_eq "lookup --json: the settings" "true 300" \
	"$(vh_ctl lookup ftp 127.0.0.3 --json | jq -r '"\(.row.net_bind_service) \(.row.max_procs)"')"

# --- sql/005's limits (issue 16): list and lookup show a row's limits,
# and none once they are removed; a row never limited is the control
lim() { vh_ctl list | awk -v a="$1" '$1 == "ftp" && $2 == a { print $8 }'; }
limjson() {
	vh_ctl list --service ftp --json |
		jq -r --arg a "$1" '.[] | select(.address == $a) | "\(.max_instances) \(.max_per_source) \(.source_prefix4) \(.source_prefix6)"'
}
lookjson() { vh_ctl lookup ftp "$1" --json | jq -r '.row | "\(.max_instances) \(.max_per_source) \(.source_prefix4) \(.source_prefix6)"'; }
expect 0 "added ftp 127.0.0.5" vh_ctl add ftp 127.0.0.5 "$J/b" --user nobody --max-instances 7 --max-per-source 3 --source-prefix 24,56
vh_eq "list: LIMITS of a row added with both" "7:3/24,56" "$(lim 127.0.0.5)"
vh_eq "list: LIMITS of a row without (control)" "-" "$(lim 127.0.0.4)"
vh_eq "list --json: the limits" "7 3 24 56" "$(limjson 127.0.0.5)"
vh_eq "list --json: no limit is 0 (control)" "0 0 32 64" "$(limjson 127.0.0.4)"
vh_contains "lookup: the limits" "limits at most 7 at once, at most 3 per source (/24, /56) (vhostctl list --live" \
	"$(vh_ctl lookup ftp 127.0.0.5)"
vh_contains "lookup: limits none without (control)" "limits none"$'\n' "$(vh_ctl lookup ftp 127.0.0.4)"
vh_eq "lookup --json: the limits" "7 3 24 56" "$(lookjson 127.0.0.5)"
vh_eq "list --live --json: the limited row only, nothing held" "127.0.0.5 7 0 3 0" \
	"$(vh_ctl list --service ftp --live --json | jq -r '.[] | "\(.address) \(.max_instances) \(.instances_held) \(.max_per_source) \(.source_slots_held)"')"
expect 0 "set ftp 127.0.0.5: limits -:3/24,56" vh_ctl set ftp 127.0.0.5 --max-instances 0
vh_eq "list: --max-instances 0 leaves the per-source limit" "-:3/24,56" "$(lim 127.0.0.5)"
vh_eq "list --json: max_instances 0" "0 3 24 56" "$(limjson 127.0.0.5)"
out=$(vh_ctl lookup ftp 127.0.0.5)
vh_contains "lookup: the per-source limit alone" "limits at most 3 per source (/24, /56) (vhostctl" "$out"
vh_not_contains "lookup: no instance limit" "at once" "$out"
expect 0 "set ftp 127.0.0.5: limits none" vh_ctl set ftp 127.0.0.5 --max-per-source none
vh_eq "list: no limit left, '-'" "-" "$(lim 127.0.0.5)"
vh_eq "list --json: no limit left, 0 and 0" "0 0 24 56" "$(limjson 127.0.0.5)"
vh_contains "lookup: limits none" "limits none"$'\n' "$(vh_ctl lookup ftp 127.0.0.5)"
vh_eq "lookup --json: no limit left" "0 0 24 56" "$(lookjson 127.0.0.5)"
vh_eq "list --live --json: a row without a limit is not listed" "[]" "$(vh_ctl list --service ftp --live --json | jq -c .)"
expect 0 "set ftp 127.0.0.5: limits 2" vh_ctl set ftp 127.0.0.5 --max-instances 2
vh_eq "list: an instance limit alone" "2" "$(lim 127.0.0.5)"
vh_contains "lookup: an instance limit alone" "limits at most 2 at once (vhostctl" "$(vh_ctl lookup ftp 127.0.0.5)"
vh_eq "lookup --json: an instance limit alone" "2 0 24 56" "$(lookjson 127.0.0.5)"
expect 0 "removed ftp 127.0.0.5" vh_ctl remove ftp 127.0.0.5

# export cannot say them (the flat format): a warning; an import gives the defaults
out=$(vh_ctl export --service ftp 2>"$F/export.err")
vh_contains "export: the row is written" "127.0.0.3 $J/b" "$out"
vh_contains "export: warns of the settings it cannot say" "--net-bind-service or --max-procs set" "$(cat "$F/export.err")"
printf '%s\n' "$out" | grep -v '^#' | grep 127.0.0.3 >"$F/legacy.conf"
expect 0 "imported 1 domain of service imp" vh_ctl import --service imp "$F/legacy.conf"
vh_eq "import: the defaults" "0|1024" "$(settings imp 127.0.0.3)"

# a database of the previous release (schema version 1: sql/001 alone)
mkdir -m 0700 "$F/v1"
V1=$F/v1/vhosts.db
sqlite3 "$V1" <"$VH_SRC/sql/001_initial.sql"
sqlite3 "$V1" "PRAGMA journal_mode=WAL;
  INSERT INTO domains (service, address, root, user, grp, uid, gid, groups, comment)
    VALUES ('http', '127.0.0.2', '$J/a', 'nobody', 'nogroup', 65534, 65534, '65534', 'from v1');
  INSERT INTO domains (service, address, root, enabled) VALUES ('ftp', 'default', '$J/b', 0)" >/dev/null
chmod 0600 "$V1"
before=$(sqlite3 "$V1" "SELECT service, address, root, user, grp, uid, gid, groups, enabled, comment, created, updated
  FROM domains ORDER BY service")
expect 1 "upgrade it: vhostctl --db $V1 init" "$VHOSTCTL" --db "$V1" lookup http 127.0.0.2
expect 78 "upgrade it: vhostctl --db $V1 init" "$VHOSTCTL" --db "$V1" list
expect 0 "upgraded from schema version 1 to $SV" "$VHOSTCTL" --db "$V1" init
vh_eq "v1 -> v$SV: every row keeps its values" "$before" \
	"$(sqlite3 "$V1" "SELECT service, address, root, user, grp, uid, gid, groups, enabled, comment, created, updated
	  FROM domains ORDER BY service")"
vh_eq "v1 -> v$SV: and gets the defaults" "0|1024|0 0|1024|0" \
	"$(sqlite3 "$V1" "SELECT net_bind_service || '|' || max_procs || '|' || unjailed FROM domains" | tr '\n' ' ' | sed 's/ $//')"
vh_eq "v1 -> v$SV: schema version $SV" "$SV" "$(sqlite3 "$V1" 'PRAGMA user_version')"
vh_eq "v1 -> v$SV: the migration is the one history row (issue 13 point 8), the history bound, no accepted finding" \
	"1|100000|0" \
	"$(sqlite3 "$V1" "SELECT (SELECT count(*) FROM history) || '|' || (SELECT value FROM settings WHERE name = 'history_max') || '|' || (SELECT count(*) FROM accepted)")"
vh_eq "v1 -> v$SV: its history row says so" "init|1|$SV" \
	"$(sqlite3 "$V1" "SELECT command, json_extract(before, '$.schema_version'), json_extract(after, '$.schema_version') FROM history")"
expect 0 "max_procs 1024" "$VHOSTCTL" --db "$V1" lookup http 127.0.0.2
expect 0 "max_procs 20" "$VHOSTCTL" --db "$V1" set ftp default --max-procs 20 --net-bind-service on
expect 0 "up to date" "$VHOSTCTL" --db "$V1" init

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
