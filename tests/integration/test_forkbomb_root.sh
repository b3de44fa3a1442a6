#!/bin/bash
# K10: a root service's fork bomb stops at its domain's process limit.
# RLIMIT_NPROC never limits uid 0, so the bound is a pids cgroup per
# domain below virtuald's --pids-cgroup DIR (src/lib/cgroup.h): created
# on demand, shared by the domain's connections, removed when empty.
# Positive control: the same bomb with the limit off (--pids-cgroup none,
# the old behaviour) forks far past it. Fail closed: no usable hierarchy,
# or a group someone else owns, means the root service is refused.
. "$(dirname "$0")/lib.sh"

if [ -z "$VH_PIDS_CG" ]; then
	echo "ok - K10 skipped: this kernel has no pids cgroup controller (CONFIG_CGROUP_PIDS)"
	echo "1 passed, 0 failed"
	exit 0
fi

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/bomb" "bomb"
vh_mkjail "$J/calm" "calm page"
vh_ctl add probe 127.0.0.2 "$J/bomb" >/dev/null   # root services, both
vh_ctl add http 127.0.0.3 "$J/calm" >/dev/null
# A DIR of this test's own below the hierarchy (virtuald creates it), so
# that parallel tests never share a domain's group.
CG=$VH_PIDS_CG/vhtest-k10.$$
LIMIT=30
HOLD=3
hexname() { printf 'vh-%s-%s' "$(printf %s "$1" | od -An -tx1 | tr -d ' \n')" "$(printf %s "$2" | od -An -tx1 | tr -d ' \n')"; }
GROUP=$CG/$(hexname probe 127.0.0.2)
cleanup_cg() {
	rmdir "$CG"/vh-* "$CG" "$VH_PIDS_CG"/vhtest-k10u.$$/vh-* "$VH_PIDS_CG"/vhtest-k10u.$$ 2>/dev/null
}
trap 'vh_cleanup; cleanup_cg' EXIT

# the domain's limit is its row's max_procs
vh_ctl set probe 127.0.0.2 --max-procs "$LIMIT" >/dev/null
vh_ctl set http 127.0.0.3 --max-procs "$LIMIT" >/dev/null
VD=("$VIRTUALD" --db "$DB" --pids-cgroup "$CG")
vh_tcpserver 0 18970 "${VD[@]}" probe /bin/probe forkbomb $HOLD 300
vh_tcpserver 0 18971 "${VD[@]}" http /bin/busybox httpd -i -h /www

# gone DIR: wait up to 3 s for DIR to disappear
gone() {
	for _ in $(seq 60); do
		[ -e "$1" ] || return 0
		sleep 0.05
	done
	return 1
}

vh_bomb 18970
out=$(cat "$F/bomb18970.out")
vh_contains "K10 the root service's bomb is stopped by its domain's pids cgroup" "stopped_by=Resource temporarily unavailable" "$out"
n=$(printf '%s\n' "$out" | sed -n 's/^forked=\([0-9]*\).*/\1/p')
[ "${n:-999}" -lt "$LIMIT" ] && vh_ok "K10 the bomb got fewer than $LIMIT processes ($n)" || vh_notok "K10 the bomb got ${n:-?} processes"
vh_eq "K10 the domain's group is named from its key, limit set" "$LIMIT" "$(cat "$GROUP/pids.max" 2>/dev/null)"
vh_eq "K10 the whole service tree is counted in it" "$LIMIT" "$(cat "$GROUP/pids.current" 2>/dev/null)"
vh_eq "K10 the group is root's, not writable by others" "0 755" "$(stat -c '%u %a' "$GROUP" 2>/dev/null)"
vh_eq "K10 while it holds them, another root domain is served" "calm page" "$(vh_get 127.0.0.3 18971)"
wait "$BOMB"
vh_check "K10 the domain's group is removed once its service ended" gone "$GROUP"
vh_check "K10 the other domain's group too" gone "$CG/$(hexname http 127.0.0.3)"
vh_stop_last
vh_stop_last

# Two connections of one domain share its group (each: reaper, service,
# 2 children = 4), and the last one out removes it.
vh_tcpserver 0 18972 "${VD[@]}" probe /bin/probe forkbomb $HOLD 2
socat -T 20 -u TCP:127.0.0.2:18972 - >"$F/two1.out" 2>/dev/null &
T1=$!
socat -T 20 -u TCP:127.0.0.2:18972 - >"$F/two2.out" 2>/dev/null &
T2=$!
for _ in $(seq 100); do
	grep -q forked= "$F/two1.out" && grep -q forked= "$F/two2.out" && break
	sleep 0.05
done
vh_eq "K10 two connections of one domain share one group" "8" "$(cat "$GROUP/pids.current" 2>/dev/null)"
vh_eq "K10 one group for the domain, no other" "$(basename "$GROUP")" "$(cd "$CG" && echo vh-*)"
wait "$T1" "$T2"
vh_check "K10 the shared group is removed after both ended" gone "$GROUP"
vh_stop_last

# A root connection refused before its tree starts (here: its jail is
# unsafe, refused after the pids cgroup was checked) leaves no group.
vh_mkjail "$J/unsafe" "unsafe"
vh_ctl add probe 127.0.0.4 "$J/unsafe" >/dev/null
chmod g+w "$J/unsafe"
vh_tcpserver 0 18977 "${VD[@]}" probe /bin/probe info
vh_log_mark
vh_eq "K10 a root domain with an unsafe jail is refused" "" "$(vh_talk 127.0.0.4 18977)"
vh_contains "K10 ... by the jail check (72), after the pids cgroup's" "status=72" "$(vh_log_wait 'refused service=probe')"
vh_check "K10 ... and no group is left for it" test ! -e "$CG/$(hexname probe 127.0.0.4)"
vh_stop_last

# Fail closed: DIR no cgroup at all (a fresh machine's empty sysfs).
mkdir -m 0755 "$F/nocgroup"
vh_tcpserver 0 18973 "$VIRTUALD" --db "$DB" --pids-cgroup "$F/nocgroup/virtuald" probe /bin/probe info
vh_log_mark
out=$(vh_talk 127.0.0.2 18973)
vh_eq "K10 without a pids hierarchy the root service is refused" "" "$out"
vh_contains "K10 the refusal names the remedy" "no pids cgroup: $F/nocgroup is no cgroup directory - mount the pids controller" "$(vh_log_wait 'refused service=probe')"
vh_contains "K10 status 78" "status=78" "$(vh_log_wait 'refused service=probe')"
vh_stop_last

# Fail closed: a domain's group that is not root's (delegated, or made by
# someone else) is never joined.
CGU=$VH_PIDS_CG/vhtest-k10u.$$
mkdir -m 0755 "$CGU" "$CGU/$(hexname probe 127.0.0.2)"
chown 65534 "$CGU/$(hexname probe 127.0.0.2)"
vh_tcpserver 0 18974 "$VIRTUALD" --db "$DB" --pids-cgroup "$CGU" probe /bin/probe info
vh_log_mark
vh_eq "K10 a group owned by another uid is refused" "" "$(vh_talk 127.0.0.2 18974)"
vh_contains "K10 the refusal names the group and the fix" "is owned by uid 65534, should be uid 0" "$(vh_log_wait 'refused service=probe')"
vh_stop_last
# ... and a DIR a user could write (group-writable) likewise
chown 0 "$CGU/$(hexname probe 127.0.0.2)"
chmod 0775 "$CGU"
vh_tcpserver 0 18975 "$VIRTUALD" --db "$DB" --pids-cgroup "$CGU" probe /bin/probe info
vh_log_mark
vh_eq "K10 a DIR writable by group is refused" "" "$(vh_talk 127.0.0.2 18975)"
vh_contains "K10 the refusal names DIR and the fix" "$CGU is writable by group" "$(vh_log_wait 'refused service=probe')"
vh_stop_last
chmod 0755 "$CGU"

# Positive control: no limit (--pids-cgroup none, the old behaviour):
# the same bomb reaches its own cap of 300, far past the limit.
vh_tcpserver 0 18976 "$VIRTUALD" --db "$DB" --pids-cgroup none probe /bin/probe forkbomb 1 300
vh_log_mark
vh_bomb 18976
out=$(cat "$F/bomb18976.out")
vh_contains "K10 control: without the limit the bomb forks 300 times" "forked=300 stopped_by=count" "$out"
vh_contains "K10 control: running unbounded is logged" "unbounded service=probe" "$(vh_log_wait unbounded)"
wait "$BOMB"
vh_done
