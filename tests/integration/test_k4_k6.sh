#!/bin/bash
# THREATS K4 (keyrings) and K6 (namespaces from inside), through tcpserver
# and the real virtuald, for a run-as service (nobody) and a root service:
# - the super-server runs in a session keyring of its own holding a
#   secret: the service neither reads it (by serial, or by searching its
#   session keyring) nor possesses that keyring;
# - host root's user keyring holds a key its owner may read: a root
#   service neither reads it nor plants a key there - neither the one in
#   a user namespace of its own nor a --net-bind-service row, which is
#   host uid 0 (the controls without the filter show the difference);
#   the persistent keyring is refused;
# - unshare(CLONE_NEWUSER|CLONE_NEWNS) + mount, and clone(CLONE_NEWUSER),
#   are refused;
# - the same calls through foreign ABIs (x32; i386 int $0x80 where the
#   kernel has it) are refused too;
# - strace -f shows the order: the keyring joined before the jail, the
#   filter the last call before the service's execve.
# Positive controls: the same virtuald with its two sandbox steps made
# no-ops (nosandbox.so preloaded into its dynamic twin; the same jail
# entry) lets the probe read the secrets, plant, get the persistent
# keyring, create a user namespace and mount in it, and reach the kernel
# through x32; the same probe from a plain chroot(8) reads the secrets.
if [ -z "${VH_K4_SESSION:-}" ]; then
	command -v keyctl >/dev/null || { echo "not ok - K4: keyctl(1) missing (package keyutils, scripts/deps)"; exit 1; }
	# the whole test, and so the super-server, in a session keyring of its own
	exec env VH_K4_SESSION=1 keyctl session vhtest-k4 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/u" "user jail"
vh_mkjail "$J/r" "root jail"
NOSANDBOX=${VH_NOSANDBOX:-$VH_BUILD/tests/integration/vh_nosandbox.so}
TWIN=${VH_VIRTUALD_DYNAMIC:-$VIRTUALD}
# unsandboxed PORT ARGS...: the controls' super-server: virtuald's dynamic
# twin with the keyring join and the filter made no-ops
unsandboxed() {
	local port=$1
	shift
	vh_tcpserver 0 "$port" env LD_PRELOAD="$NOSANDBOX" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
		"$TWIN" --db "$DB" probe /bin/probe "$@"
}
vh_ctl add probe 127.0.0.2 "$J/u" --user nobody >/dev/null
vh_ctl add probe 127.0.0.3 "$J/r" >/dev/null
# a root service that keeps CAP_NET_BIND_SERVICE stays host uid 0 (no user
# namespace: virtuald(8)); the other root row is root of its own namespace
vh_ctl add probe 127.0.0.4 "$J/r" --net-bind-service >/dev/null

# The super-server's secret: default permissions (only a possessor reads).
SES=$(keyctl add user vhtest-secret "superserver-$$" @s)
# Host root's user keyring: a key its owner (uid 0) may read.
# (made in the session keyring, where this shell possesses it and may set
# its permissions, then moved)
USERKEY=$(keyctl add user "vhtest-root-$$" "hostroot-$$" @s)
keyctl setperm "$USERKEY" 0x3f3f0000
keyctl link "$USERKEY" @u
keyctl unlink "$USERKEY" @s >/dev/null
PLANT=vhtest-plant-$$
# unplant UID: remove a planted key from UID's user keyring (controls plant)
unplant() {
	setpriv --reuid="$1" --regid="$1" --clear-groups sh -c \
		'id=$(keyctl search @u user "$0" 2>/dev/null) && keyctl unlink "$id" @u >/dev/null' "$PLANT"
}
k4_cleanup() {
	keyctl unlink "$USERKEY" @u >/dev/null 2>&1
	unplant 0
	unplant 65534
	vh_cleanup
}
trap k4_cleanup EXIT
vh_check "the test runs in its own session keyring holding the secret" \
	test "$(keyctl search @s user vhtest-secret)" = "$SES"

# --- K4: keyrings ---------------------------------------------------------------
vh_tcpserver 0 18960 "$VIRTUALD" --db "$DB" probe /bin/probe keyring "$SES" "$USERKEY" "$PLANT"
for kind in user:127.0.0.2 root:127.0.0.3 hostroot:127.0.0.4; do
	k=${kind%%:*} a=${kind#*:}
	out=$(vh_talk "$a" 18960)
	vh_contains "K4 $k: the probe ran" "probe=keyring" "$out"
	vh_contains "K4 $k: the super-server's secret is not readable" "ses_read=Operation not permitted" "$out"
	vh_contains "K4 $k: the super-server's session keyring cannot be searched" \
		"ses_search=Operation not permitted" "$out"
	vh_contains "K4 $k: host root's user key is not readable" "user_read=Operation not permitted" "$out"
	vh_contains "K4 $k: no key planted in the user keyring" "plant=Operation not permitted" "$out"
	vh_contains "K4 $k: the persistent keyring is refused" "persistent=Operation not permitted" "$out"
	vh_not_contains "K4 $k: no secret in the output" "secret:" "$out"
done
vh_stop_last
vh_check "K4 root: host root's user keyring holds no planted key" \
	test -z "$(keyctl search @u user "$PLANT" 2>/dev/null)"

# controls: virtuald without its sandbox steps, then a plain chroot(8)
unsandboxed 18964 keyring "$SES" "$USERKEY" "$PLANT"
out=$(vh_talk 127.0.0.2 18964)
vh_contains "control: unsandboxed, the run-as service reads the super-server's secret" \
	"ses_read=secret:superserver-$$" "$out"
vh_contains "control: unsandboxed, the run-as service finds it by search" "ses_search=found" "$out"
vh_contains "control: unsandboxed, the run-as service gets its persistent keyring" "persistent=ok" "$out"
out=$(vh_talk 127.0.0.3 18964)
vh_contains "control: unsandboxed, the root service reads the super-server's secret" \
	"ses_read=secret:superserver-$$" "$out"
# in its user namespace its user keyring is its own uid's, not host root's
vh_not_contains "unsandboxed, the root service in its user namespace does not read host root's user key" \
	"user_read=secret:hostroot-$$" "$out"
out=$(vh_talk 127.0.0.4 18964)
vh_contains "control: unsandboxed, the --net-bind-service root service (host uid 0) reads host root's user key" \
	"user_read=secret:hostroot-$$" "$out"
vh_contains "control: unsandboxed, the root service plants a key" "plant=ok" "$out"
vh_check "control: the planted key is in host root's user keyring" \
	test -n "$(keyctl search @u user "$PLANT" 2>/dev/null)"
vh_contains "control: unsandboxed, the root service gets the persistent keyring" "persistent=ok" "$out"
vh_stop_last
unplant 0
out=$(chroot --userspec=65534:65534 "$J/u" /bin/probe keyring "$SES" "$USERKEY" "$PLANT")
vh_contains "control: nobody in a plain chroot reads the super-server's secret" \
	"ses_read=secret:superserver-$$" "$out"
out=$(chroot "$J/r" /bin/probe keyring "$SES" "$USERKEY" "$PLANT")
vh_contains "control: root in a plain chroot reads host root's user key" "user_read=secret:hostroot-$$" "$out"
unplant 0

# --- K6: namespaces --------------------------------------------------------------
vh_tcpserver 0 18961 "$VIRTUALD" --db "$DB" probe /bin/probe unshare
for kind in user:127.0.0.2 root:127.0.0.3; do
	k=${kind%%:*} a=${kind#*:}
	out=$(vh_talk "$a" 18961)
	vh_contains "K6 $k: the probe ran" "probe=unshare" "$out"
	vh_contains "K6 $k: unshare(CLONE_NEWUSER|CLONE_NEWNS) refused" "unshare=Operation not permitted" "$out"
	vh_not_contains "K6 $k: no mount in a namespace of its own" "ns_mount=" "$out"
	vh_contains "K6 $k: clone(CLONE_NEWUSER) refused" "clone_newuser=Operation not permitted" "$out"
done
vh_stop_last
# control: the root service of virtuald without its filter (its jail
# entered by pivot_root, so the kernel's rule against user namespaces in
# a chroot does not apply; the run-as service's chroot refuses them, the
# filter is its second wall)
unsandboxed 18965 unshare
out=$(vh_talk 127.0.0.3 18965)
vh_contains "control: unsandboxed, the root service creates a user and mount namespace" "unshare=ok" "$out"
vh_contains "control: unsandboxed, ... and mounts a tmpfs in it" "ns_mount=ok" "$out"
vh_contains "control: unsandboxed, ... and clones into a new user namespace" "clone_newuser=ok" "$out"
vh_stop_last

# --- the order, seen by strace -f: the keyring joined before the jail, the
# filter the very last call before the service's execve ------------------------
STRACE=$(command -v strace)
mkdir -m 0755 "$F/k46"
# -ff: one trace file per process, so that no call is split by another's
vh_tcpserver 0 18963 "$STRACE" -ff -qq -o "$F/k46/t" "$VIRTUALD" --db "$DB" probe /bin/probe info
for kind in user:127.0.0.2 root:127.0.0.3; do
	k=${kind%%:*} a=${kind#*:}
	rm -f "$F"/k46/t.*
	out=$(vh_talk "$a" 18963)
	vh_contains "K4 K6 $k: the probe ran under strace" "probe=info" "$out"
	svc=
	for i in $(seq 40); do
		svc=$(grep -lE '^execve\("/bin/probe".* = 0' "$F"/k46/t.* 2>/dev/null | head -n 1)
		[ -n "$svc" ] && break
		sleep 0.05
	done
	prev=$(grep -B1 -E '^execve\("/bin/probe".* = 0' "$svc" | head -n 1)
	vh_contains "K4 K6 $k: the filter is the last call before the service's execve" \
		"seccomp(SECCOMP_SET_MODE_FILTER, 0, {len=" "$prev"
	vh_check "K4 K6 $k: ... and the kernel took it" grep -qE '\) += 0$' <<<"$prev"
	top=$(grep -lE '^keyctl\(KEYCTL_JOIN_SESSION_KEYRING, NULL\) += [0-9]+' "$F"/k46/t.* | head -n 1)
	join=$(grep -nE '^keyctl\(KEYCTL_JOIN_SESSION_KEYRING, NULL\) += [0-9]+' "$top" | head -n 1 | cut -d: -f1)
	jail=$(grep -nE '^(chroot|pivot_root)\(.*\) += 0' "$top" | head -n 1 | cut -d: -f1)
	[ -n "$join" ] && [ -n "$jail" ] && [ "$join" -lt "$jail" ] &&
		vh_ok "K4 $k: a fresh session keyring joined before the jail (trace line $join < $jail)" ||
		vh_notok "K4 $k: keyring join at trace line '${join}', jail entry at '${jail}' ($top)"
done
vh_stop_last

# --- foreign ABIs --------------------------------------------------------------------
if [ "$(uname -m)" = x86_64 ]; then
	unsandboxed 18966 int80
	ctl=$(vh_talk 127.0.0.3 18966)
	vh_stop_last
	vh_contains "control: unsandboxed, an x32 call reaches the kernel (ENOSYS here, or an answer)" \
		"x32_keyctl=" "$ctl"
	vh_not_contains "control: unsandboxed, x32 is not refused with EPERM" "x32_keyctl=Operation not permitted" "$ctl"
	vh_tcpserver 0 18962 "$VIRTUALD" --db "$DB" probe /bin/probe int80
	for kind in user:127.0.0.2 root:127.0.0.3; do
		k=${kind%%:*} a=${kind#*:}
		out=$(vh_talk "$a" 18962)
		vh_contains "K4 K6 $k: x32 keyctl refused by the filter" "x32_keyctl=Operation not permitted" "$out"
		vh_contains "K4 K6 $k: x32 getpid refused by the filter" "x32_getpid=Operation not permitted" "$out"
		case $ctl in
		*int80_getpid=faults*)
			# this kernel faults on int $0x80 (ia32 emulation off): nothing to
			# refuse; test_sandbox.c: test_program runs the filter on i386 calls
			vh_contains "K4 K6 $k: int \$0x80 faults here too (no i386 ABI in this kernel)" \
				"int80_unshare=faults" "$out"
			;;
		*)
			vh_contains "control: unsandboxed, int \$0x80 unshare works" "int80_unshare=ok" "$ctl"
			vh_contains "K4 K6 $k: i386 unshare refused" "int80_unshare=Operation not permitted" "$out"
			vh_contains "K4 K6 $k: i386 keyctl refused" "int80_keyctl=Operation not permitted" "$out"
			;;
		esac
	done
	vh_stop_last
fi

vh_done
