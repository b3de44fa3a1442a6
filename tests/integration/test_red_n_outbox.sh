#!/bin/bash
# Red team of issue 18: snapshot's copy, while it is made, is not for
# other users. The outbox need only be root's and written by no one else
# (0755 passes, doc/operations.md showed it); the copy is first the whole
# database - history with the operators' command lines, accepted
# findings, jail manifests - and only then stripped and made 0600. Under
# umask 022 the copy and its journal were 0644 in that window: a local
# user who opens one then keeps reading it. Made 0600 from the start.
. "$(dirname "$0")/lib.sh"

chmod 0755 "$F" # the outbox reachable by others, as a 0755 outbox in /srv is
J=$F/jails
mkdir -m 0700 "$J"
mkdir -m 0755 "$F/out"
mkdir -m 0700 "$F/m"
vh_mkjail "$J/a" a
M=$F/m/vhosts.db
m() { "$VHOSTCTL" --db "$M" "$@"; }
vh_check "a master" m init --role master --fleet-id red
awk -v j="$J/a" 'BEGIN { for (i = 0; i < 20000; i++) printf "10.%d.%d.%d %s\n", int(i / 62500), int(i / 250) % 250, i % 250 + 1, j }' >"$F/bulk.conf"
vh_check "20,000 rows" m import --service bulk "$F/bulk.conf"
vh_check "history of them" m history --max 100000
# what a local user sees of the outbox while snapshots are made: every
# file name there that it can open for reading
: >"$F/seen"
chmod 0666 "$F/seen"
setpriv --reuid=65534 --regid=65534 --clear-groups bash -c '
	while [ ! -e "$0/stop" ]; do
		for f in "$0"/out/.vhosts-snapshot.tmp*; do
			[ -r "$f" ] && echo "$f" >>"$0/seen"
		done
	done' "$F" &
reader=$!
VH_PIDS+=($reader)
for i in 1 2 3 4 5; do
	(umask 022 && m snapshot --out "$F/out" >/dev/null) || vh_notok "snapshot $i"
	m set bulk 10.0.0.1 --comment "run $i" >/dev/null
done
touch "$F/stop"
wait "$reader"
vh_eq "the copy in the making was never readable by another user" "" "$(sort -u "$F/seen")"
vh_eq "the published file is root's 0600" "0 600" "$(stat -c '%u %a' "$F/out/$(cat "$F/out/LATEST")")"
vh_done
