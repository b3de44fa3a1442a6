#!/bin/bash
# THREATS H12: vhostctl import killed with SIGKILL at random points, 1,000
# times: the database always holds the old or the new rows of the service,
# never a mix, and passes integrity_check. Each round replaces the
# service's 1,001 rows by the other of two versions (jail a or jail b):
# enough pages for the kills to land inside the writes, few enough that
# a thousand rounds stay short. The sanitizer build runs 250 rounds (it
# looks for memory errors on the same path, not for a rarer interleaving).
. "$(dirname "$0")/lib.sh"

ROUNDS=${VH_KILL_ROUNDS:-1000}
[ -n "${VH_SANITIZE:-}" ] && ROUNDS=${VH_KILL_ROUNDS:-250}
J=$F/jails
mkdir -m 0755 "$J" "$J/a" "$J/b"
vh_init_db
for v in a b; do
	awk -v j="$J/$v" 'BEGIN { for (i = 0; i < 1000; i++) printf "10.0.%d.%d %s\n", int(i / 250), i % 250 + 1, j; print "default " j }' >"$F/$v.conf"
done
vh_ctl import --service kill "$F/a.conf" >/dev/null 2>&1 || { vh_notok "first import"; vh_done; }

# state: "a" or "b" when every row is in that version, else what is wrong
state() {
	sqlite3 -separator " " "$DB" "PRAGMA integrity_check;
		SELECT count(*), count(DISTINCT root), min(root) FROM domains WHERE service = 'kill';" |
		tr '\n' ' ' | sed -e "s|^ok 1001 1 $J/\\([ab]\\) \$|\\1|"
}

cur=a old=0 new=0 bad=0
# the time one import takes (the fastest of three, run as the rounds run
# it), to spread the kills over all of it
span=
for v in a b b; do
	t0=$(date +%s%N)
	"$VHOSTCTL" --db "$DB" import --service kill "$F/$v.conf" --replace >/dev/null 2>&1
	t1=$(date +%s%N)
	t=$(((t1 - t0) / 1000)) # microseconds
	[ -z "$span" ] || [ "$t" -lt "$span" ] && span=$t
done
cur=b
echo "# one import of 1,001 lines takes ${span} us; killing at random points within it"
for i in $(seq "$ROUNDS"); do
	next=$([ $cur = a ] && echo b || echo a)
	"$VHOSTCTL" --db "$DB" import --service kill "$F/$next.conf" --replace >/dev/null 2>&1 &
	pid=$!
	delay=$((RANDOM * 32768 + RANDOM))
	delay=$((delay % (span + 1)))
	sleep "$(printf '0.%06d' "$delay")"
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	s=$(state)
	if [ "$s" = "$cur" ]; then
		old=$((old + 1))
	elif [ "$s" = "$next" ]; then
		new=$((new + 1))
		cur=$next
	else
		bad=$((bad + 1))
		echo "# round $i: $s"
	fi
done
echo "# $ROUNDS kills: $old left the old rows, $new the new ones, $bad anything else"
vh_eq "$ROUNDS kills at random points: always the old or the new rows, integrity ok" 0 "$bad"
[ "$old" -gt 0 ] && vh_ok "some kills came before the commit ($old)" || vh_notok "no kill came before the commit"
[ "$new" -gt 0 ] && vh_ok "some imports completed ($new)" || vh_notok "no import completed"
# and the next import still works
vh_ctl import --service kill "$F/a.conf" --replace >/dev/null 2>&1
vh_eq "an import after the kills works" a "$(state)"
vh_done
