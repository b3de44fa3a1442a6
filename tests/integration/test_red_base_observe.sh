#!/bin/bash
# Red team of issue 14 point 5 (the shared base): two tenants share the
# base's inodes, so whatever the kernel reports per inode crosses from one
# jail to the other although the bind is read-only, nosuid and nodev.
#
#  1. inotify: a run-as service of tenant A watches a program of the base
#     (IN_OPEN) and sees every start of that program by tenant B - which
#     programs B runs and when (B's connections). inotify needs only read
#     access and is blind to mounts; before the base every jail had its
#     own copies (hard links are a check finding, A7), so nothing was
#     shared.
#  2. file leases: a root service of tenant A is uid 0, the owner of the
#     base's files, so fcntl(F_SETLEASE, F_WRLCK) is allowed without
#     CAP_LEASE on a read-only mount: B's next exec of that program
#     blocks until A lets go or the kernel's lease-break-time (45 s by
#     default) runs out, and A is told (SIGIO) the moment B starts it.
#
# Expected (what this test asserts): A sees nothing of B and cannot delay
# B. The system-call filter refuses F_SETLEASE for every service and
# inotify_init/inotify_init1 for a row with a base (src/lib/sandbox.h;
# doc/design.md). Ports 20700-20709.
. "$(dirname "$0")/lib.sh"
: "${VH_REDPROBE:?set VH_REDPROBE to the redprobe binary}"

vh_init_db
vh_test_user redobsa 41901
vh_test_user redobsb 41902
S=$F/srv
mkdir -m 0755 "$S" "$S/jails"
BASE=$S/base
vh_ctl provision "$BASE" --program /bin/busybox --program /usr/bin/id >/dev/null 2>&1
vh_eq "provision builds the base" 0 "$?"
cp "$VH_REDPROBE" "$BASE/bin/redprobe" && chmod 0755 "$BASE/bin/redprobe"
for c in a b; do
	mkdir -m 0755 "$S/jails/$c" "$S/jails/$c/etc"
done
vh_ctl add watch 127.0.0.2 "$S/jails/a" --user redobsa --base "$BASE" >/dev/null 2>&1
vh_eq "tenant A: a run-as row with the base" 0 "$?"
vh_ctl add lease 127.0.0.2 "$S/jails/a" --base "$BASE" >/dev/null 2>&1
vh_eq "tenant A: a root row with the base" 0 "$?"
vh_ctl add id 127.0.0.3 "$S/jails/b" --user redobsb --base "$BASE" >/dev/null 2>&1
vh_eq "tenant B: a run-as row with the same base" 0 "$?"

vh_tcpserver 127.0.0.2 20700 "$VIRTUALD" --db "$DB" watch /bin/redprobe watch /usr/bin/id 3
vh_tcpserver 127.0.0.2 20701 "$VIRTUALD" --db "$DB" lease /bin/redprobe lease /usr/bin/id 8
vh_tcpserver 127.0.0.3 20702 "$VIRTUALD" --db "$DB" id /usr/bin/id
vh_contains "control: B's id runs from the base" "uid=41902" "$(vh_talk 127.0.0.3 20702)"

# 1. inotify across tenants
vh_talk 127.0.0.2 20700 >"$F/watch.out" &
spy=$!
sleep 1
vh_talk 127.0.0.3 20702 >/dev/null
wait "$spy"
out=$(cat "$F/watch.out")
vh_contains "A's watch ran as A's run-as user" "uid=41901" "$out"
vh_contains "A (run-as) cannot watch the shared base: inotify refused (EPERM)" "watch=Operation not permitted" "$out"
vh_not_contains "A sees nothing of B's use of the shared base" "seen_open" "$out"

# 2. a lease across tenants
vh_talk 127.0.0.2 20701 >"$F/lease.out" &
spy=$!
sleep 1
t0=$(date +%s)
out=$(vh_talk 127.0.0.3 20702)
t1=$(date +%s)
wait "$spy"
vh_contains "control: B's id ran" "uid=41902" "$out"
vh_contains "A (root) cannot take a lease on a file of the shared base (F_SETLEASE refused)" "lease=Operation not permitted" "$(cat "$F/lease.out")"
vh_check "B's start is not held up by A ($((t1 - t0)) s)" test $((t1 - t0)) -lt 3
vh_done
