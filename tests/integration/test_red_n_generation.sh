#!/bin/bash
# Red team of issue 18: a generation is a counter of one master.
# - Two masters with one fleet id (a replica promoted while the old
#   master lives, a master re-created from an empty database): each
#   draws its own master id (init --role master); a replica follows the
#   master whose snapshot it applied, so generation G of the other is
#   refused, not "nothing to do", and recorded: the agent drains. A
#   master replaced on purpose: sync --force once, then it is followed.
# - A snapshot changed by hand (its generation far ahead) fails its
#   SHA-256 (the .sha256 snapshot writes beside it): refused, nothing
#   changed, and the master's next snapshot applies. Whoever rewrites the
#   .sha256 too holds the inbox, root's (the trust boundary).
. "$(dirname "$0")/lib.sh"

J=$F/jails
mkdir -m 0755 "$J" "$F/m" "$F/m2" "$F/r" "$F/out" "$F/in"
chmod 0700 "$F/in"
for j in a b; do vh_mkjail "$J/$j" "page $j"; done
r() { "$VHOSTCTL" --db "$F/r/vhosts.db" "$@"; }
pub() {
	"$VHOSTCTL" --db "$1" snapshot --out "$F/out" >/dev/null || return 1
	cp "$F/out/$(cat "$F/out/LATEST")" "$F/in/$2" && chmod 0600 "$F/in/$2"
	cp "$F/out/$(cat "$F/out/LATEST").sha256" "$F/in/$2.sha256" && chmod 0600 "$F/in/$2.sha256"
	echo "$F/in/$2"
}
"$VHOSTCTL" --db "$F/m/vhosts.db" init --role master --fleet-id red >/dev/null
"$VHOSTCTL" --db "$F/m2/vhosts.db" init --role master --fleet-id red >/dev/null
r init --role replica --fleet-id red >/dev/null
"$VHOSTCTL" --db "$F/m/vhosts.db" add http 127.0.0.2 "$J/a" --user nobody >/dev/null
"$VHOSTCTL" --db "$F/m2/vhosts.db" add http 127.0.0.2 "$J/b" --user nobody >/dev/null
A=$(pub "$F/m/vhosts.db" a.db)
B=$(pub "$F/m2/vhosts.db" b.db)
vh_check "generation 1 of master A applies" r sync "$A"
out=$(r sync "$B" 2>&1)
vh_not_contains "generation 1 of master B (other rows) is not 'nothing to do'" "nothing to do" "$out"
vh_contains "the replica does not pass for master B's generation 1 (agent)" "drain" "$(r agent)"

vh_contains "master B's snapshot names both masters" "this host follows master" "$out"
vh_check "a master replaced on purpose: sync --force once" r sync --force "$B"
vh_contains "then it is followed: its own snapshot again is nothing to do" "nothing to do" "$(r sync "$B")"
vh_eq "agent ready again" "ready up" "$(r agent)"
cp "$B" "$F/in/far.db"
cp "$B.sha256" "$F/in/far.db.sha256"
sqlite3 "$F/in/far.db" "UPDATE fleet SET generation = 9223372036854775807"
out=$(r sync "$F/in/far.db" 2>&1)
vh_contains "a snapshot changed by hand (far-ahead generation): its SHA-256 refuses it" "is damaged: its SHA-256" "$out"
vh_eq "nothing changed: still generation 1" 1 "$("$VHOSTCTL" --db "$F/r/vhosts.db" status --json | sed -n 's/.*"generation": \([0-9]*\).*/\1/p')"
"$VHOSTCTL" --db "$F/m2/vhosts.db" add http 127.0.0.3 "$J/b" --user nobody >/dev/null
N=$(pub "$F/m2/vhosts.db" n.db)
vh_check "the master's next snapshot applies" r sync "$N"
vh_eq "agent ready" "ready up" "$(r agent)"
vh_done
