#!/bin/bash
# Issue 18 on one host, no network: roles, the generation, snapshot, sync,
# status and agent (fleet.md 5.3; THREATS N1-N4; doc/design.md "A fleet").
# - a replica refuses every change of the fleet's tables, and keeps its
#   own (accept, history --max); a master counts one generation per
#   change, none for a refused one;
# - snapshot: only a master's, into a trusted directory only; the file is
#   root's 0600, in rollback-journal mode, without the host's own rows;
#   LATEST names it;
# - sync: the replica's rows become the master's, added, changed and
#   removed counted, trusted sources too, the host's own tables untouched,
#   the lookup index current after it (in place, and rebuilt past 1,000
#   rows);
# - N1 an older snapshot refused (recorded, the host not drained), the same
#   one is nothing to do, --force rolls back on purpose;
# - N2 a flipped byte, a cut file, a foreign schema object, another fleet,
#   a replica's snapshot: refused, the live rows unchanged, the error in
#   status and agent (drain);
# - N3 a uid that differs here: refused, the rows named;
# - N4 disable, publish, then remove: the replica refuses the domain (69)
#   before it is gone;
# - agent: "down #WHY" for an unusable database, "up drain #WHY" below
#   --min-generation or after a failed sync.
. "$(dirname "$0")/lib.sh"

J=$F/jails
mkdir -m 0755 "$J" "$F/m" "$F/r" "$F/out" "$F/in"
chmod 0700 "$F/in"
for j in a b c; do vh_mkjail "$J/$j" "page $j"; done
M=$F/m/vhosts.db
R=$F/r/vhosts.db
m() { "$VHOSTCTL" --db "$M" "$@"; }
r() { "$VHOSTCTL" --db "$R" "$@"; }
rc() {
	"$@" >/dev/null 2>&1
	echo $?
}
gen() { "$VHOSTCTL" --db "$1" status --json | sed -n 's/.*"generation": \([0-9]*\).*/\1/p'; }
rows() { sqlite3 "$1" "SELECT * FROM domains ORDER BY service, address" | sha256sum | cut -c1-16; }
srcs() { sqlite3 "$1" "SELECT * FROM proxy_sources ORDER BY service, source" | sha256sum | cut -c1-16; }
field() { "$VHOSTCTL" --db "$1" status --json | sed -n "s/.*\"$2\": \"\\([^\"]*\\)\".*/\\1/p"; }
# publish: a snapshot on the master, carried into the replica's inbox
publish() {
	m snapshot --out "$F/out" >/dev/null || return 1
	cp "$F/out/$(cat "$F/out/LATEST")" "$F/out/$(cat "$F/out/LATEST").sha256" "$F/in/" && chmod 0600 "$F/in/"*
	echo "$F/in/$(cat "$F/out/LATEST")"
}

# --- roles -------------------------------------------------------------------
vh_check "init a master" m init --role master --fleet-id prod-1
vh_eq "--role master needs --fleet-id (64)" 64 "$(rc "$VHOSTCTL" --db "$F/m/x.db" init --role master)"
vh_eq "a fleet id is letters, digits, . _ - (64)" 64 "$(rc m init --role master --fleet-id 'a b')"
vh_eq "a new master is generation 0" 0 "$(gen "$M")"
mid=$(field "$M" master_id)
vh_check "it has a master id of 32 hex digits ($mid)" test "${#mid}" = 32
m init --role master --fleet-id prod-1 >/dev/null
vh_eq "told the same again (configuration management), it keeps its master id" "$mid" "$(field "$M" master_id)"
vh_check "add on the master" m add http 127.0.0.2 "$J/a" --user nobody
vh_eq "one change, one generation" 1 "$(gen "$M")"
vh_eq "a refused add counts nothing" 1 "$(gen "$M")" # (the same key again, below)
vh_eq "a duplicate add is refused (65)" 65 "$(rc m add http 127.0.0.2 "$J/b" --user nobody)"
vh_eq "and counts no generation" 1 "$(gen "$M")"
vh_check "a name row" m add https www.a.test "$J/a" --user nobody
vh_check "a prefix row" m add http 127.0.1.0/24 "$J/b" --user nobody
vh_check "a trusted balancer" m proxy-trust add 127.0.0.1 --service http
vh_check "a comment set" m set http 127.0.0.2 --comment "customer a"
vh_eq "five changes, generation 5" 5 "$(gen "$M")"
vh_check "a host's own change (accept) on the master" \
	m accept runs-as-root --jail "$J/a" --reason "test"
vh_eq "counts no generation" 5 "$(gen "$M")"

vh_check "init a replica (a row of its own before)" r init
vh_check "a standalone row on the future replica" r add http 127.0.0.9 "$J/c" --user nobody
vh_check "it becomes a replica of the fleet" r init --role replica --fleet-id prod-1
for cmd in "add http 127.0.0.3 $J/a --user nobody" "remove http 127.0.0.9" "disable http 127.0.0.9" \
	"enable http 127.0.0.9" "set http 127.0.0.9 --comment x" "proxy-trust add 127.0.0.1" \
	"import --service http $F/flat.conf"; do
	printf '127.0.0.8 %s\n' "$J/a" >"$F/flat.conf"
	out=$(r $cmd 2>&1)
	vh_eq "replica refuses '${cmd%% *}' (77)" 77 "$(rc r $cmd)"
	vh_contains "replica: '${cmd%% *}' names the fleet and the way" "replica of fleet prod-1" "$out"
done
vh_check "the replica keeps its own: accept" r accept runs-as-root --jail "$J/c" --reason "host's own"
vh_check "and history --max" r history --max 5000
vh_contains "status: role and fleet" "role replica of fleet prod-1" "$(r status)"

# --- snapshot ------------------------------------------------------------------
vh_eq "a replica publishes nothing (64)" 64 "$(rc r snapshot --out "$F/out")"
mkdir -m 0777 "$F/open"
vh_eq "an outbox others can write is refused (78)" 78 "$(rc m snapshot --out "$F/open")"
out=$(m snapshot --out "$F/out")
vh_contains "snapshot names its generation" "published generation 5: $F/out/vhosts-5.db" "$out"
vh_eq "LATEST names it" "vhosts-5.db" "$(cat "$F/out/LATEST")"
vh_eq "root's, 0600" "0 600" "$(stat -c '%u %a' "$F/out/vhosts-5.db")"
vh_eq "rollback-journal mode" "delete" "$(sqlite3 "$F/out/vhosts-5.db" 'PRAGMA journal_mode')"
vh_eq "without the master's history and accepted findings" "0 0" \
	"$(sqlite3 "$F/out/vhosts-5.db" "SELECT (SELECT count(*) FROM history) || ' ' || (SELECT count(*) FROM accepted)")"
vh_eq "with the master's rows" "$(rows "$M")" "$(rows "$F/out/vhosts-5.db")"

# --- sync ------------------------------------------------------------------------
S5=$(publish)
hist_acc=$(sqlite3 "$R" "SELECT count(*) FROM accepted")
out=$(r sync "$S5")
vh_contains "sync: from 0 to 5, the replica's own row removed" "generation 0 -> 5: 3 added, 0 changed, 1 removed, 0 unchanged; trusted sources 1 added" "$out"
vh_eq "the rows are the master's" "$(rows "$M")" "$(rows "$R")"
vh_eq "the trusted sources too" "$(srcs "$M")" "$(srcs "$R")"
vh_eq "the replica's accepted findings stay" "$hist_acc" "$(sqlite3 "$R" "SELECT count(*) FROM accepted")"
vh_eq "status: generation 5" 5 "$(gen "$R")"
vh_eq "status: the lookup index is current" current "$(field "$R" index)"
vh_eq "prefix lengths as the rows say (check: no prefix-lengths finding)" "" \
	"$(r check 2>&1 | grep prefix-lengths)"
vh_contains "lookup on the replica: the name row, from the index" '"rule": "name"' \
	"$(r lookup https 127.0.0.4 --name www.a.test --json)"
vh_contains "the sync in the history" '"generation":5' "$(r history --json | tail -c 600)"
vh_eq "agent: ready up" "ready up" "$(r agent)"

# a change, an addition and a removal: counted, the index updated in place
m set http 127.0.0.2 --comment "customer a, moved" >/dev/null
m add http 127.0.0.5 "$J/c" --user nobody >/dev/null
m remove https www.a.test >/dev/null
S8=$(publish)
out=$(r sync "$S8")
vh_contains "sync 5 -> 8: 1 added, 1 changed, 1 removed" "generation 5 -> 8: 1 added, 1 changed, 1 removed, 1 unchanged" "$out"
vh_eq "the rows are the master's again" "$(rows "$M")" "$(rows "$R")"
vh_eq "the index current (updated in place)" current "$(field "$R" index)"

# --- N1: older, the same, --force ------------------------------------------------
before=$(rows "$R")
out=$(r sync "$S5" 2>&1)
vh_eq "N1 an older snapshot is refused (65)" 65 "$(rc r sync "$S5")"
vh_contains "N1 it says why and how to roll back" "is generation 5, this host has 8 already" "$out"
vh_eq "N1 nothing changed" "$before" "$(rows "$R")"
vh_eq "N1 recorded in the history" 1 "$(r history --json | grep -c 'this host has 8 already' | head -1 | sed 's/^[1-9][0-9]*$/1/')"
vh_eq "N1 but not held against the host (no sync error)" "" "$(field "$R" sync_error)"
vh_eq "N1 agent still ready" "ready up" "$(r agent)"
vh_contains "N1 the same snapshot again: nothing to do" "which this host has already: nothing to do" "$(r sync "$S8")"
vh_contains "N1 --force rolls back on purpose" "generation 8 -> 5" "$(r sync --force "$S5")"
vh_eq "N1 the rows of generation 5" "$(rows "$F/out/vhosts-5.db")" "$(rows "$R")"
vh_check "and forward again" r sync "$S8"

# --- N2: damaged, partial, foreign ---------------------------------------------------
before=$(rows "$R")
cp "$S8" "$F/in/flip.db"
cp "$S8.sha256" "$F/in/flip.db.sha256"
size=$(stat -c %s "$F/in/flip.db")
# one byte in the middle of the last page (a row's bytes), flipped
off=$((size - 2048))
b=$(od -An -tu1 -j "$off" -N1 "$F/in/flip.db" | tr -d ' ')
printf "$(printf '\\%03o' $((b ^ 0x20)))" | dd of="$F/in/flip.db" bs=1 seek="$off" conv=notrunc 2>/dev/null
out=$(r sync --force "$F/in/flip.db" 2>&1)
vh_eq "N2 a flipped byte: refused" 1 "$([ "$(rc r sync --force "$F/in/flip.db")" != 0 ] && echo 1)"
vh_eq "N2 the live rows unchanged" "$before" "$(rows "$R")"
vh_eq "N2 the error in status, with the file" "$F/in/flip.db" "$(field "$R" sync_file)"
vh_contains "N2 the error says what is wrong" "snapshot $F/in/flip.db" "$(field "$R" sync_error)"
vh_contains "N2 the checksum tells (SQLite checks no data byte)" "is damaged: its SHA-256 is" "$(field "$R" sync_error)"
vh_contains "N2 agent drains" "up drain #last sync failed" "$(r agent)"
cp "$S8" "$F/in/nosum.db"
vh_contains "N2 a snapshot without its .sha256: refused" "beside it - carry the .sha256" "$(r sync --force "$F/in/nosum.db" 2>&1)"
head -c 8192 "$S8" >"$F/in/cut.db"
vh_resum "$F/in/cut.db"
vh_eq "N2 a cut file: refused" 1 "$([ "$(rc r sync --force "$F/in/cut.db")" != 0 ] && echo 1)"
vh_eq "N2 the live rows unchanged" "$before" "$(rows "$R")"
cp "$S8" "$F/in/extra.db"
sqlite3 "$F/in/extra.db" "CREATE TABLE extra (x)"
vh_resum "$F/in/extra.db"
out=$(r sync --force "$F/in/extra.db" 2>&1)
vh_contains "N2 a schema object not ours: refused" "has not exactly our schema" "$out"
cp "$S8" "$F/in/foreign.db"
sqlite3 "$F/in/foreign.db" "UPDATE fleet SET fleet_id = 'other', generation = 99"
vh_resum "$F/in/foreign.db"
vh_contains "N2 another fleet's snapshot: refused" "belongs to fleet other, this host to fleet prod-1" \
	"$(r sync "$F/in/foreign.db" 2>&1)"
cp "$S8" "$F/in/notmaster.db"
sqlite3 "$F/in/notmaster.db" "UPDATE fleet SET role = 'replica', generation = 99"
vh_resum "$F/in/notmaster.db"
vh_contains "N2 a replica's copy: refused" "was not published by a master" "$(r sync "$F/in/notmaster.db" 2>&1)"
chmod 0666 "$F/in/foreign.db"
vh_contains "a snapshot others could write: refused" "is not trusted" "$(r sync "$F/in/foreign.db" 2>&1)"
vh_eq "every refusal left the rows as they were" "$before" "$(rows "$R")"

# --- N3: uid drift -------------------------------------------------------------------
cp "$S8" "$F/in/drift.db"
sqlite3 "$F/in/drift.db" "UPDATE domains SET uid = 4242 WHERE address = '127.0.0.5'; UPDATE fleet SET generation = 9"
vh_resum "$F/in/drift.db"
out=$(r sync "$F/in/drift.db" 2>&1)
vh_eq "N3 a row whose user is another uid here: refused (67)" 67 "$(rc r sync "$F/in/drift.db")"
vh_contains "N3 the row named, with both numbers" "http 127.0.0.5: nobody:nogroup is uid 65534 gid 65534 here, the snapshot says uid 4242" "$out"
vh_contains "N3 the remedy: one uid space" "the fleet needs one uid space" "$out"
vh_eq "N3 the live rows unchanged" "$before" "$(rows "$R")"
vh_check "a good sync clears the error" r sync --force "$S8"
vh_eq "status: no sync error" "" "$(field "$R" sync_error)"
vh_eq "agent: ready again" "ready up" "$(r agent)"

# --- N4: disable, publish, then remove -----------------------------------------------
m disable http 127.0.0.5 >/dev/null
S=$(publish)
r sync "$S" >/dev/null
vh_eq "N4 a domain disabled on the master refuses on the replica (69 in lookup: 1)" 1 "$(rc r lookup http 127.0.0.5)"
vh_contains "N4 as disabled, not missing" "disabled" "$(r lookup http 127.0.0.5)"

# --- a sync past 1,000 rows rebuilds the index ------------------------------------------
awk -v j="$J/a" 'BEGIN { for (i = 0; i < 1500; i++) printf "10.1.%d.%d %s\n", int(i / 250), i % 250 + 1, j }' >"$F/bulk.conf"
m import --service bulk "$F/bulk.conf" >/dev/null
S=$(publish)
vh_contains "1,500 rows added in one sync" "1500 added" "$(r sync "$S")"
vh_eq "the index current (rebuilt)" current "$(field "$R" index)"
vh_eq "the rows are the master's" "$(rows "$M")" "$(rows "$R")"

# --- agent ------------------------------------------------------------------------------
echo 1000 >"$F/min"
vh_contains "agent drains below --min-generation" "up drain #generation" "$(r agent --min-generation "$F/min")"
echo "$(gen "$R")" >"$F/min"
vh_eq "and is ready at it" "ready up" "$(r agent --min-generation "$F/min")"
echo junk >"$F/min"
vh_contains "a min-generation file without a number drains" "holds no generation number" "$(r agent --min-generation "$F/min")"
chmod 0777 "$F/r"
vh_contains "agent: down# for an untrusted database" "down #virtuald database unusable" "$(r agent)"
chmod 0755 "$F/r"

# --- a replica following no master yet takes its first snapshot ---------------------
M2=$F/m2/vhosts.db R2=$F/r2/vhosts.db
mkdir -m 0755 "$F/m2" "$F/r2" "$F/out2"
"$VHOSTCTL" --db "$M2" init >/dev/null
"$VHOSTCTL" --db "$M2" add http 127.0.0.2 "$J/a" --user nobody >/dev/null # standalone: counts nothing
"$VHOSTCTL" --db "$M2" init --role master --fleet-id two >/dev/null
vh_eq "a host made master with rows is generation 0" 0 "$(gen "$M2")"
"$VHOSTCTL" --db "$M2" snapshot --out "$F/out2" >/dev/null
cp "$F/out2/vhosts-0.db" "$F/out2/vhosts-0.db.sha256" "$F/in/"
"$VHOSTCTL" --db "$R2" init >/dev/null
"$VHOSTCTL" --db "$R2" init --role replica --fleet-id two >/dev/null
vh_contains "a new replica applies generation 0 (it follows no master yet)" "generation 0 -> 0: 1 added" \
	"$("$VHOSTCTL" --db "$R2" sync "$F/in/vhosts-0.db")"
vh_eq "and has the master's rows" "$(rows "$M2")" "$(rows "$R2")"
vh_contains "then it is nothing to do" "nothing to do" "$("$VHOSTCTL" --db "$R2" sync "$F/in/vhosts-0.db")"

vh_done
