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
# Positive control: another host uid (41951) gets none of it. Since the
# red team's report, no row may use such an id (vh_row_valid, vhostctl's
# identity resolution), and `vhostctl check` reports host users, groups
# and processes of the host's user namespace that have one
# (userns-range); the access itself, for a host account an operator gave
# such an id, stays the documented residual (virtuald(8)).
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

# the attack: a host process of uid 1879048192, no capabilities. No
# host user may have such an id (virtuald(8)); where one does, this is
# what it gets - asserted as it is, the residual `vhostctl check` names
got=$(as $B cat "/proc/$svc/root/etc/secret" 2>&1)
vh_contains "RESIDUAL (check reports it): host uid $B reads a tenant jail's 0600 root-owned file" \
	"tenant-secret-$$" "$got"

# how such a uid gets onto the host, and what vhostctl says of it
vh_test_user vhrange $B
out=$(vh_ctl add http 127.0.0.3 "$J/victim" --user vhrange 2>&1)
rc=$?
vh_check "vhostctl refuses a run-as user whose uid is in the root services' range" test "$rc" != 0
vh_contains "... naming the range" "user-namespace range 1879048192-1879113727" "$out"
setpriv --reuid="$B" --regid="$B" --clear-groups sleep 30 &
H=$!
VH_PIDS+=("$H")
for _ in $(seq 100); do
	[ "$(awk '/^Uid:/{print $2}' "/proc/$H/status" 2>/dev/null)" = "$B" ] && break
	sleep 0.05
done
chk=$(vh_ctl check 2>&1)
vh_contains "check: the host user in the range is an error" "host: error [userns-range] passwd: user vhrange (uid $B" "$chk"
vh_contains "check: the host process in the range is an error" "host: error [userns-range] /proc/$H:" "$chk"
vh_not_contains "check: the tenant's root service itself (in its own namespace) is not reported" "/proc/$svc:" "$chk"
kill "$H" 2>/dev/null
wait "$H" 2>/dev/null
chk=$(vh_ctl check probe 127.0.0.2 2>&1)
vh_not_contains "control: a check of one domain leaves the host scan out" "userns-range" "$chk"
# subordinate ids overlapping the range (second red team): a host user's
# own user namespace could then hold ids in it. /etc/subuid is replaced
# in this test's private mount namespace only.
if [ -f /etc/subuid ]; then
	printf 'vhsubok:100000:65536\nvhsub:1879000000:100000\n' >"$F/subuid"
	mount --bind "$F/subuid" /etc/subuid
	chk=$(vh_ctl check 2>&1)
	vh_contains "check: a subordinate uid range overlapping the namespaces' range is an error" \
		"host: error [userns-range] /etc/subuid: /etc/subuid gives vhsub ids 1879000000-1879099999" "$chk"
	vh_not_contains "control: a range below it is not" "vhsubok" "$chk"
	umount /etc/subuid
else
	vh_ok "no /etc/subuid on this host: the subordinate-id check has nothing to read"
fi
kill "$C" 2>/dev/null
wait "$C" 2>/dev/null
vh_done
