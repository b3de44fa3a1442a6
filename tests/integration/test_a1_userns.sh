#!/bin/bash
# A root service is root of a user namespace of its own (issue 11,
# THREATS A1; src/lib/userns.c, doc/design.md "A root service's user
# namespace"): uid 0-65535 inside are the host's 1879048192 up, its jail
# an idmapped mount of that mapping.
# - the host sees the service as uid 1879048192, never 0; inside it is
#   root (uid 0), and over its jail it is root as before: what it makes
#   is root's on disk, what it gives uid 1000 is uid 1000's on disk;
# - a root row with --net-bind-service is host uid 0 (the control, and
#   the documented residual);
# - a jail on a file system without idmapped mounts (ramfs): `check` and
#   `add` say no-idmap, virtuald refuses the root row (72) naming the fix,
#   never runs it as host root; a run-as row there is served (nothing of
#   this applies to it), and so is the --net-bind-service row.
# Ports 19510-19519.
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/r" "root jail"
mkdir -m 0755 "$J/r/data"
vh_ctl add probe 127.0.0.3 "$J/r" >/dev/null 2>&1
vh_ctl add probe 127.0.0.4 "$J/r" --net-bind-service >/dev/null 2>&1
BASE=1879048192

# host_uid TAG: the host's uid of the service running "busybox sleep" with
# TAG in its command line (read from /proc, nothing signalled)
host_uid() {
	local p i
	for i in $(seq 100); do
		p=$(pgrep -f "^/bin/busybox sleep 5$1" | head -1)
		if [ -n "$p" ]; then
			awk '/^Uid:/ { print $2; exit }' "/proc/$p/status" 2>/dev/null
			return
		fi
		sleep 0.05
	done
	echo none
}

vh_tcpserver 0 19510 "$VIRTUALD" --db "$DB" probe /bin/busybox sleep 5.1
vh_talk 127.0.0.3 19510 >/dev/null &
t=$!
vh_eq "A1 the root service is uid $BASE on the host" "$BASE" "$(host_uid .1)"
wait "$t"
vh_stop_last
vh_tcpserver 0 19511 "$VIRTUALD" --db "$DB" probe /bin/busybox sleep 5.2
vh_talk 127.0.0.4 19511 >/dev/null &
t=$!
vh_eq "control: the --net-bind-service root service is host uid 0" 0 "$(host_uid .2)"
wait "$t"
vh_stop_last

# inside: root, and root over its jail
vh_tcpserver 0 19512 "$VIRTUALD" --db "$DB" probe /bin/busybox sh -c \
	'/bin/busybox id -u; echo made >/data/made; /bin/busybox chown 1000:1000 /data/made /data/given 2>&1; /bin/busybox stat -c "%u %g" /bin/busybox'
echo given >"$J/r/data/given"
out=$(vh_talk 127.0.0.3 19512)
vh_contains "A1 inside, the root service is uid 0" "0" "$(head -1 <<<"$out")"
vh_contains "A1 inside, the jail's root-owned files are uid 0's" "0 0" "$out"
vh_eq "A1 a file it gives uid 1000 is uid 1000's on disk" "1000 1000" "$(stat -c '%u %g' "$J/r/data/given")"
vh_eq "A1 a file it makes and then gives uid 1000 is uid 1000's on disk" "1000 1000" \
	"$(stat -c '%u %g' "$J/r/data/made")"
vh_stop_last
vh_tcpserver 0 19513 "$VIRTUALD" --db "$DB" probe /bin/busybox sh -c 'echo made >/data/made2'
vh_talk 127.0.0.3 19513 >/dev/null
vh_eq "A1 a file it makes is root's on disk" "0 0" "$(stat -c '%u %g' "$J/r/data/made2")"
vh_stop_last

# a file system without idmapped mounts
mkdir -m 0755 "$F/ram"
mount -t ramfs -o mode=0755 vhram "$F/ram"
vh_mkjail "$F/ram/j" "ram jail"
out=$(vh_ctl add probe 127.0.0.5 "$F/ram/j" 2>&1)
vh_eq "no-idmap: add refuses a root row on ramfs" 72 "$(
	vh_ctl add probe 127.0.0.5 "$F/ram/j" >/dev/null 2>&1
	echo $?
)"
vh_contains "no-idmap: add names the finding and the fix" "[no-idmap]" "$out"
vh_contains "no-idmap: ... the fix" "give the domain a run-as user" "$out"
vh_ctl add probe 127.0.0.5 "$F/ram/j" --force >/dev/null 2>&1
vh_ctl add probe 127.0.0.6 "$F/ram/j" --net-bind-service >/dev/null 2>&1
vh_eq "control: add takes the --net-bind-service row on ramfs" 0 "$?"
vh_ctl add probe 127.0.0.7 "$F/ram/j" --user nobody >/dev/null 2>&1
vh_eq "control: add takes a run-as row on ramfs" 0 "$?"
out=$(vh_ctl check probe 127.0.0.5 2>&1)
vh_contains "no-idmap: check reports it" "error [no-idmap] $F/ram/j" "$out"
vh_log_mark
vh_tcpserver 0 19514 "$VIRTUALD" --db "$DB" probe /bin/probe info
out=$(vh_talk 127.0.0.5 19514)
vh_not_contains "no-idmap: virtuald runs nothing" "probe=info" "$out"
line=$(vh_log_wait "refused service=probe local=127.0.0.5")
vh_contains "no-idmap: refused with 72" "status=72" "$line"
vh_contains "no-idmap: the log line names the cause and the fix" "no idmapped mount" "$line"
out=$(vh_talk 127.0.0.6 19514)
vh_contains "control: the --net-bind-service row on ramfs is served" "probe=info" "$out"
out=$(vh_talk 127.0.0.7 19514)
vh_contains "control: the run-as row on ramfs is served" "probe=info" "$out"
vh_stop_last
umount "$F/ram"
vh_done
