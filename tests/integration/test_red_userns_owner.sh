#!/bin/bash
# Red team (issue 11, commit 4838fbd): every jailed root service's user
# namespace is OWNED by host uid 1879048192 (VH_USERNS_BASE, the helper
# sets it before unshare) and its ns uid k is host uid 1879048192+k, one
# range for every tenant. virtuald(8) rests this on "ids no host user
# has", but nothing checks or enforces it: vhostctl takes a run-as user
# (or --unjailed row) with such a uid without a word, and a host account
# can have one (SSSD/winbind ID mapping hands out 200000-2000200000).
# A host process of uid 1879048192 (no capability at all) then
#   - reaches every tenant's running root service through /proc/PID/root
#     (ptrace access: same uid, and the namespace's owner is capable in
#     it), and through the jail's idmapped mount is the OWNER of every
#     file that is root's on disk in that jail: reads the jail's 0600
#     secrets, rewrites its root-owned programs;
#   - signals and ptraces any tenant's root service (the Landlock domain
#     of the target limits nothing for an unconfined tracer).
# Positive control: another host uid (41951) gets none of it, and
# before the fix nothing stops the operator from adding such a row.
. "$(dirname "$0")/lib.sh"
B=1879048192
vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/victim" "victim page"
mkdir -m 0755 "$J/victim/etc"
echo "tenant-secret-$$" >"$J/victim/etc/secret" && chmod 0600 "$J/victim/etc/secret"
vh_ctl add probe 127.0.0.2 "$J/victim" >/dev/null
vh_tcpserver 127.0.0.2 18995 "$VIRTUALD" --db "$DB" probe /bin/probe sleep 20
TS=${VH_PIDS[$((${#VH_PIDS[@]} - 1))]}
ppid_of() { awk '/^PPid:/{print $2}' "/proc/$1/status" 2>/dev/null; }
# a connection holds the tenant's root service
socat -T 30 -u TCP:127.0.0.2:18995 - >/dev/null 2>&1 &
C=$!
svc=
for _ in $(seq 100); do
	for p in $(pgrep -x probe); do
		# ours: service <- PID 1 <- outer virtuald <- this test's tcpserver
		[ "$(ppid_of "$(ppid_of "$(ppid_of "$p")")")" = "$TS" ] || continue
		[ "$(awk '/^Uid:/{print $2}' /proc/$p/status)" = "$B" ] && svc=$p
	done
	[ -n "$svc" ] && break
	sleep 0.05
done
vh_check "the tenant's root service runs as host uid $B" test -n "$svc"

as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups "$@"; }
# positive control: an ordinary host uid reaches nothing
vh_eq "control: host uid 41951 cannot read the jail's secret through /proc/PID/root" "" \
	"$(as 41951 cat "/proc/$svc/root/etc/secret" 2>/dev/null)"
cannot_signal() { ! as "$1" kill -0 "$svc" 2>/dev/null; }
vh_check "control: host uid 41951 cannot signal the service" cannot_signal 41951

# the attack: a host process of uid 1879048192, no capabilities
got=$(as $B cat "/proc/$svc/root/etc/secret" 2>&1); echo "# as $B: $got; status: $(grep -E "^(Uid|Gid|CapEff|NSpid)" /proc/$svc/status | tr "\n" " ")"
vh_not_contains "host uid $B cannot read a tenant jail's 0600 root-owned file" "tenant-secret-$$" "$got"
as $B sh -c "echo pwned >>/proc/$svc/root/www/index.html" 2>/dev/null
vh_not_contains "host uid $B cannot write a tenant jail's root-owned file" "pwned" "$(cat "$J/victim/www/index.html")"
vh_check "host uid $B cannot signal a tenant's root service" cannot_signal $B
kill "$C" 2>/dev/null; wait "$C" 2>/dev/null

# how such a uid gets onto the host: vhostctl takes a run-as user in the
# namespace range without a word (a run-as row of uid 1879048192 is the
# owner of every tenant's root namespace)
vh_test_user vhrange $B
out=$(vh_ctl add http 127.0.0.3 "$J/victim" --user vhrange 2>&1)
rc=$?
if [ $rc != 0 ]; then vh_ok "vhostctl refuses a run-as user whose uid is in the root services' range ($out)"; else vh_notok "vhostctl accepts a run-as user with uid $B, the owner of every root service's user namespace"; fi
chk=$(vh_ctl check http 127.0.0.3 2>&1 | grep -v 'runs-as-root')
echo "# check: $chk"
vh_done
