#!/bin/bash
# Red team of issue 18: sync applies rows that no vhostctl command would
# write on this host. The master judges a row against its own file
# system and its own database path; a replica's database may lie
# elsewhere, and a snapshot may be hand-made. So sync judges, in its
# transaction, what only this host can judge, and what vhostctl never
# writes (no option allows it):
# - the database inside a jail of the snapshot (THREATS K8: the jail's
#   root service rewrites it) - made by an ordinary master add whose
#   database lies elsewhere;
# - a row marked unjailed whose reason (it held the master's database)
#   is gone here: virtuald would skip the set-uid exposure check (K7);
# - a key not in canonical form (127.000.0.7, WWW.X.TEST) and a row
#   vh_row_valid refuses, and a trusted source not canonical: a hand-made
#   snapshot's;
# each refused, recorded (status, agent drains), the live rows unchanged;
# a clean snapshot of the same master still applies (control).
. "$(dirname "$0")/lib.sh"

J=$F/jails
mkdir -m 0755 "$J" "$F/m" "$F/r" "$F/out" "$F/in"
chmod 0700 "$F/in"
for j in a b; do vh_mkjail "$J/$j" "page $j"; done
M=$F/m/vhosts.db
R=$F/r/vhosts.db
m() { "$VHOSTCTL" --db "$M" "$@"; }
r() { "$VHOSTCTL" --db "$R" "$@"; }
rc() {
	"$@" >/dev/null 2>&1
	echo $?
}
rows() { sqlite3 "$1" "SELECT * FROM domains ORDER BY service, address" | sha256sum | cut -c1-16; }
field() { "$VHOSTCTL" --db "$1" status --json | sed -n "s/.*\"$2\": \"\\([^\"]*\\)\".*/\\1/p"; }
publish() {
	m snapshot --out "$F/out" >/dev/null || return 1
	cp "$F/out/$(cat "$F/out/LATEST")" "$F/out/$(cat "$F/out/LATEST").sha256" "$F/in/" && chmod 0600 "$F/in/"*
	echo "$F/in/$(cat "$F/out/LATEST")"
}
# a copy of snapshot $1 as $2, changed by SQL $3, newer than any before
# (each a generation of its own, whether the last was applied or not)
NEXT=100
craft() {
	NEXT=$((NEXT + 1))
	cp "$1" "$F/in/$2" && chmod 0600 "$F/in/$2"
	sqlite3 "$F/in/$2" "$3; UPDATE fleet SET generation = $NEXT"
	vh_resum "$F/in/$2"
	echo "$F/in/$2"
}

vh_check "a master" m init --role master --fleet-id red
vh_check "a replica" r init --role replica --fleet-id red
vh_check "a row" m add http 127.0.0.2 "$J/a" --user nobody
S=$(publish)
vh_check "control: a clean snapshot applies" r sync "$S"
good=$(rows "$R")

# the database inside a jail, by an ordinary add on the master (whose
# database is elsewhere)
vh_check "the master takes a jail that holds the replica's database" m add http 127.0.0.4 "$F/r" --user nobody
S2=$(publish)
out=$(r sync "$S2" 2>&1)
vh_eq "the replica's database inside a jail: sync refused" 1 "$([ "$(rc r sync "$S2")" != 0 ] && echo 1)"
vh_contains "it names the database and the jail" "$F/r" "$out"
vh_eq "the live rows unchanged" "$good" "$(rows "$R")"
vh_contains "recorded: agent drains" "up drain #last sync failed" "$(r agent)"
vh_not_contains "check finds no database-in-jail" "database-in-jail" "$(r check 2>&1)"
m remove http 127.0.0.4 >/dev/null

# an unjailed mark whose reason (the master's database) is gone here
vh_check "the master marks a root that holds its database unjailed" \
	m add http 127.0.0.5 "$F/m" --unjailed
S3=$(publish)
out=$(r sync "$S3" 2>&1)
vh_eq "a mark stale here: sync refused" 1 "$([ "$(rc r sync "$S3")" != 0 ] && echo 1)"
vh_contains "it names the row" "127.0.0.5" "$out"
vh_eq "the live rows unchanged" "$good" "$(rows "$R")"
vh_not_contains "check finds no stale mark" "unjailed-stale" "$(r check 2>&1)"
m remove http 127.0.0.5 >/dev/null

# rows no vhostctl command writes: hand-made
S4=$(publish)
vh_check "control: the master's own snapshot applies again" r sync --force "$S4"
good=$(rows "$R")
ins="INSERT INTO domains (service, address, root, user, grp, uid, gid, groups) VALUES"
for key in 127.000.0.7 WWW.B.TEST 127.0.1.5/24 '::FFFF:127.0.0.7'; do
	X=$(craft "$S4" key.db "$ins ('http', '$key', '$J/b', 'nobody', 'nogroup', 65534, 65534, '65534')")
	out=$(r sync "$X" 2>&1)
	vh_eq "key '$key' not canonical: sync refused" 1 "$([ "$(rc r sync "$X")" != 0 ] && echo 1)"
	vh_contains "key '$key': named" "$key" "$out"
	vh_eq "key '$key': the live rows unchanged" "$good" "$(rows "$R")"
	rm -f "$X"
	# (had it been applied: back to the master's rows for the next case)
	r sync --force "$S4" >/dev/null 2>&1
done
X=$(craft "$S4" root.db "$ins ('http', '127.0.0.8', '$J/b/../a', 'nobody', 'nogroup', 65534, 65534, '65534')")
vh_eq "a root not normalised: sync refused" 1 "$([ "$(rc r sync "$X")" != 0 ] && echo 1)"
vh_eq "the live rows unchanged" "$good" "$(rows "$R")"
X=$(craft "$S4" src.db "INSERT INTO proxy_sources (service, source) VALUES ('*', '127.0.0.1/8')")
vh_contains "a trusted source not canonical: refused, named" "127.0.0.1/8" "$(r sync "$X" 2>&1)"
vh_eq "the live sources unchanged" "" "$(sqlite3 "$R" "SELECT * FROM proxy_sources")"
vh_check "control: the master's snapshot clears the error" r sync --force "$S4"
vh_eq "agent ready" "ready up" "$(r agent)"

vh_done
