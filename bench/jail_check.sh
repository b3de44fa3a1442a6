#!/bin/bash
# bench/jail_check.sh - how long `vhostctl check` takes on a jail of
# N files (default 100,000: 100 directories of 1,000 empty files, plus a
# provisioned /usr/bin/cat), cold (page cache dropped) and warm.
# Usage, as root: BUILD=build bench/jail_check.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${1:-100000}
W=/run/vhtest/bench-jailcheck.$$
trap 'rm -rf "$W"' EXIT
mkdir -p /run/vhtest && chmod 0755 /run/vhtest
mkdir -m 0755 "$W"
ctl() { "$BUILD/vhostctl" --db "$W/db/vhosts.db" "$@"; }
ctl init >/dev/null
ctl provision "$W/jail" --program /usr/bin/cat --user nobody >/dev/null
per=1000
dirs=$(((N + per - 1) / per))
for d in $(seq 1 "$dirs"); do
	mkdir -p "$W/jail/www/d$d"
	(cd "$W/jail/www/d$d" && seq 1 "$per" | xargs touch)
done
ctl add bench 127.0.0.2 "$W/jail" --user nobody >/dev/null
files=$(find "$W/jail" | wc -l)
sync
echo 3 >/proc/sys/vm/drop_caches
t0=$(date +%s.%N)
ctl check bench 127.0.0.2 --program cat >/dev/null
t1=$(date +%s.%N)
ctl check bench 127.0.0.2 --program cat >/dev/null
t2=$(date +%s.%N)
awk -v f="$files" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "jail of %d entries: check cold %.2f s, warm %.2f s\n", f, b - a, c - b }'
