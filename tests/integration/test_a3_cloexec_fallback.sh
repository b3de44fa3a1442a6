#!/bin/bash
# Red team, A3/D1 (issue 11, second round review): virtuald marks fds 3+
# close-on-exec AFTER entering the jail (virtuald.c: enter(), then
# vh_fd_cloexec_from(3)). Where close_range(CLOSE_RANGE_CLOEXEC) fails
# (Linux before 5.11, or a container seccomp profile that predates it),
# the fallback walks /proc/self/fd - inside the jail, where a root service
# put an empty directory of that name. Nothing is marked, and the
# super-server's descriptors reach the next service: here a host
# directory, read through with openat (a full escape). The close_range
# failure is simulated: noclose_range.so preloaded into the dynamic twin.
# Control: the same with close_range working (the plain twin).
. "$(dirname "$0")/lib.sh"
RP=${VH_REDPROBE:-$VH_BUILD/tests/integration/vh_redprobe}
NOCR=${VH_NOCLOSE_RANGE:-$VH_BUILD/tests/integration/vh_noclose_range.so}
DYN=${VH_VIRTUALD_DYNAMIC:-$VH_BUILD/tests/integration/vh_virtuald_dynamic}
vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/r" "R"
cp "$RP" "$J/r/bin/redprobe"
vh_ctl add probe 127.0.0.2 "$J/r" >/dev/null 2>&1
CG=${VH_PIDS_CG:+$VH_PIDS_CG/vhtest-rta3.$$}
trap 'vh_cleanup; [ -n "$CG" ] && rmdir "$CG"/vh-* "$CG" 2>/dev/null' EXIT
echo "HOST-MARKER" >"$F/marker"
REL=${F#/}/marker
# a super-server with a host directory open on fd 7 (A3's junk descriptor)
exec 7</
vh_tcpserver 0 19391 env LD_PRELOAD="$NOCR" "$DYN" --db "$DB" --pids-cgroup "${CG:-none}" probe /bin/redprobe fdread "$REL"
vh_tcpserver 0 19392 "$DYN" --db "$DB" --pids-cgroup "${CG:-none}" probe /bin/redprobe fdread "$REL"
vh_tcpserver 0 19393 "$DYN" --db "$DB" --pids-cgroup "${CG:-none}" probe /bin/redprobe mkdirs /proc/self/fd
exec 7<&-

out=$(vh_talk 127.0.0.2 19391)
vh_not_contains "no fd reaches the service when the fallback finds no /proc (refused or closed)" "HOST-MARKER" "$out"
vh_contains "control: the root service plants /proc/self/fd in its jail" "mkdirs=ok" "$(vh_talk 127.0.0.2 19393)"
out=$(vh_talk 127.0.0.2 19391)
echo "# without close_range, after the plant: $(echo $out)"
vh_not_contains "A3 a host directory held by the super-server does not reach the service (close_range unavailable)" "HOST-MARKER" "$out"
out=$(vh_talk 127.0.0.2 19392)
vh_not_contains "control: with close_range the host directory does not reach the service" "HOST-MARKER" "$out"
vh_done
