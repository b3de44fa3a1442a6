# tests/integration/lib.sh - the harness every integration test sources.
#
# - runs the test as root in a private mount namespace whose /dev is a
#   small tmpfs (the real null, zero, full, random, urandom, tty bound in)
#   with a busybox syslogd on /dev/log writing to $F/syslog, so that
#   virtuald's log lines can be read back without touching the host's
#   logging;
# - keeps fixtures under /run/vhtest/NAME.PID (root-owned, 0700 below the
#   root-owned 0755 /run/vhtest: the trust rules hold in tests as in
#   production, and host users cannot reach the jails, THREATS K7);
# - starts super-servers on loopback only and kills only what it started,
#   by PID.
# Each check prints "ok - ..." or "not ok - ..."; the script ends with
# the plain line "N passed, N failed" and fails when any check failed.

set -u
: "${VH_BUILD:?set VH_BUILD to the build directory}"
: "${VH_SRC:?set VH_SRC to the source directory}"
VIRTUALD=${VIRTUALD:-$VH_BUILD/virtuald}
VHOSTCTL=${VHOSTCTL:-$VH_BUILD/vhostctl}
VH_PROBE=${VH_PROBE:-$VH_BUILD/tests/integration/vh_probe}
VH_NAME=$(basename "$0" .sh)
TCPSERVER=$(command -v tcpserver)
SSA=$(command -v systemd-socket-activate)

if [ "$(id -u)" != 0 ]; then
	echo "not ok - $VH_NAME needs root (chroot, namespaces): run it as root"
	exit 1
fi

# Re-run this script inside a private mount namespace.
if [ -z "${VH_IN_NS:-}" ]; then
	exec unshare --mount --propagation private env VH_IN_NS=1 bash "$0" "$@"
fi

mkdir -p /run/vhtest && chmod 0755 /run/vhtest
# A root service's jail must be on a file system that takes idmapped
# mounts (virtuald(8), JAILS AND PRIVILEGES): where /run/vhtest is on
# another (the overlay of a fresh-ci chroot), this test's namespace gets
# a tmpfs of its own there (VH_KEEP then keeps nothing after the test).
case "$(stat -f -c %T /run/vhtest 2>/dev/null)" in
tmpfs | ext2/ext3 | xfs | btrfs) ;;
*) mount -t tmpfs -o mode=0755,size=8g vhtest /run/vhtest ;;
esac
F=/run/vhtest/$VH_NAME.$$
rm -rf "$F"
mkdir -m 0700 "$F"
DB=$F/db/vhosts.db
VH_PIDS=()
VH_PASS=0
VH_FAIL=0

vh_cleanup() {
	local p
	for p in "${VH_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${VH_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	if [ -z "${VH_KEEP:-}" ]; then
		rm -rf "$F"
	else
		echo "# fixtures kept in $F"
	fi
}
trap vh_cleanup EXIT

# A private /dev with a syslog socket of our own.
vh_private_dev() {
	mkdir -m 0755 "$F/hostdev"
	mount --bind /dev "$F/hostdev"
	mount -t tmpfs -o mode=0755,size=1m vhdev /dev
	local n
	for n in null zero full random urandom tty; do
		touch "/dev/$n"
		mount --bind "$F/hostdev/$n" "/dev/$n"
	done
	ln -s /proc/self/fd /dev/fd
	ln -s /proc/self/fd/0 /dev/stdin
	ln -s /proc/self/fd/1 /dev/stdout
	ln -s /proc/self/fd/2 /dev/stderr
	umount -l "$F/hostdev"
	: >"$F/syslog"
	busybox syslogd -n -O "$F/syslog" &
	VH_PIDS+=($!)
	local i
	for i in $(seq 50); do
		[ -S /dev/log ] && return 0
		sleep 0.05
	done
	echo "not ok - syslogd did not create /dev/log"
	exit 1
}
vh_private_dev

# The host's default locale is the test's own: none (vhostctl check warns
# about jails without it, issue 13 point 4; a test sets one by binding a
# file of its own over /etc/default/locale).
: >"$F/no-default-locale"
for f in /etc/locale.conf /etc/default/locale; do
	[ -f "$f" ] && mount --bind "$F/no-default-locale" "$f"
done

# K10: virtuald refuses a root service without a pids cgroup (fail
# closed). Give the private mount namespace one at virtuald's default,
# /sys/fs/cgroup/pids: where the host mounts pids there (cgroup v1) it is
# used as it is; on a fresh sysfs with nothing mounted (or a cgroup v2
# host), a tmpfs on /sys/fs/cgroup and the pids controller below it, v1
# or else the v2 hierarchy with pids enabled for its children. Sets
# VH_PIDS_CG to the hierarchy, "" when the kernel has no pids controller.
vh_pids_hierarchy() {
	VH_PIDS_CG=/sys/fs/cgroup/pids
	case "$(stat -f -c %T "$VH_PIDS_CG" 2>/dev/null)" in
	cgroupfs | cgroup2fs) [ -e "$VH_PIDS_CG/cgroup.procs" ] && return 0 ;;
	esac
	# a tmpfs of our own: a mkdir in the host's would show on the host
	mount -t tmpfs -o mode=0755,size=64k vhcgroup /sys/fs/cgroup || { VH_PIDS_CG=; return 0; }
	mkdir -m 0755 "$VH_PIDS_CG"
	mount -t cgroup -o pids vhpids "$VH_PIDS_CG" 2>/dev/null && return 0
	if mount -t cgroup2 vhcg2 "$VH_PIDS_CG" 2>/dev/null; then
		if grep -qw pids "$VH_PIDS_CG/cgroup.controllers"; then
			echo +pids >"$VH_PIDS_CG/cgroup.subtree_control" 2>/dev/null
			return 0
		fi
		umount "$VH_PIDS_CG"
	fi
	echo "# this kernel offers no pids cgroup controller: virtuald refuses root services"
	VH_PIDS_CG=
}
vh_pids_hierarchy

vh_ok() {
	VH_PASS=$((VH_PASS + 1))
	echo "ok - $*"
}

vh_notok() {
	VH_FAIL=$((VH_FAIL + 1))
	echo "not ok - $*"
}

# vh_check DESCRIPTION COMMAND...: passes when the command succeeds.
vh_check() {
	local what=$1
	shift
	if "$@"; then vh_ok "$what"; else vh_notok "$what"; fi
}

# vh_eq DESCRIPTION EXPECTED ACTUAL
vh_eq() {
	if [ "$2" = "$3" ]; then
		vh_ok "$1"
	else
		vh_notok "$1: expected '$2', got '$3'"
	fi
}

# vh_contains DESCRIPTION NEEDLE HAYSTACK
vh_contains() {
	case "$3" in
	*"$2"*) vh_ok "$1" ;;
	*) vh_notok "$1: '$2' not in: $3" ;;
	esac
}

vh_not_contains() {
	case "$3" in
	*"$2"*) vh_notok "$1: '$2' unexpectedly in: $3" ;;
	*) vh_ok "$1" ;;
	esac
}

vh_done() {
	echo "$VH_PASS passed, $VH_FAIL failed"
	[ "$VH_FAIL" = 0 ] && [ "$VH_PASS" -gt 0 ]
	exit $?
}

vh_ctl() {
	"$VHOSTCTL" --db "$DB" "$@"
}

# vh_resum FILE: FILE.sha256 for a snapshot changed by hand, in
# sha256sum's format as vhostctl snapshot writes it (issue 18): what a
# master of another fleet, or whoever holds the inbox (root), could make.
vh_resum() {
	(cd "$(dirname "$1")" && sha256sum "$(basename "$1")" >"$(basename "$1").sha256" && chmod 0600 "$(basename "$1").sha256")
}

# The schema version this build writes (vhostctl --version), for tests
# that check an upgrade's end: a new migration changes no test.
vh_schema_version() {
	"$VHOSTCTL" --version | sed -n 's/.*schema version \([0-9]*\).*/\1/p'
}

vh_init_db() {
	vh_ctl init >/dev/null || { echo "not ok - vhostctl init failed"; exit 1; }
}

# vh_mkjail DIR PAGE: a jail with the static busybox and www/index.html.
vh_mkjail() {
	local d=$1
	mkdir -p "$d/bin" "$d/www"
	cp /bin/busybox "$d/bin/busybox"
	printf '%s\n' "$2" >"$d/www/index.html"
	cp "$VH_PROBE" "$d/bin/probe"
	chmod -R go-w "$d"
	chmod 0755 "$d" "$d/bin" "$d/www"
}

# vh_wait_listen PORT: until something listens on TCP PORT (any address).
vh_wait_listen() {
	local hex i
	hex=$(printf ':%04X ' "$1")
	for i in $(seq 100); do
		if grep -q "$hex.* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "not ok - nothing listens on port $1"
	return 1
}

# vh_tcpserver ADDR PORT COMMAND...: ucspi-tcp tcpserver in the background
# (-H -l 0 -R: no DNS, the only resolver is off-loopback).
vh_tcpserver() {
	local addr=$1 port=$2
	shift 2
	"$TCPSERVER" -H -l 0 -R -c 200 "$addr" "$port" "$@" >>"$F/tcpserver.log" 2>&1 &
	VH_PIDS+=($!)
	vh_wait_listen "$port"
}

# vh_ssa LISTEN COMMAND...: systemd-socket-activate --inetd --accept,
# the stand-in for a systemd socket unit with Accept=yes.
vh_ssa() {
	local listen=$1
	shift
	"$SSA" --inetd --accept -l "$listen" "$@" >>"$F/ssa.log" 2>&1 &
	VH_PIDS+=($!)
	vh_wait_listen "${listen##*:}"
}

# vh_stop_last: stop the most recently started server.
vh_stop_last() {
	local last=$((${#VH_PIDS[@]} - 1))
	kill "${VH_PIDS[$last]}" 2>/dev/null
	wait "${VH_PIDS[$last]}" 2>/dev/null
	unset "VH_PIDS[$last]"
	VH_PIDS=("${VH_PIDS[@]}")
}

# vh_get HOST PORT [PATH]: the body from busybox httpd, "" when refused.
vh_get() {
	curl -sS -g --max-time 10 "http://$1:$2${3:-/}" 2>/dev/null
}

# vh_talk HOST PORT: everything the service sends back (no request).
vh_talk() {
	socat -T 10 -u "TCP:$1:$2" - 2>/dev/null
}

# vh_log_wait PATTERN: the last syslog line matching PATTERN (waits up
# to 3 s for syslogd to write it).
vh_log_wait() {
	local i line
	for i in $(seq 60); do
		line=$(grep -a -- "$1" "$F/syslog" | tail -n 1)
		if [ -n "$line" ]; then
			printf '%s\n' "$line"
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# vh_log_mark: forget earlier log lines (so the next wait sees new ones).
vh_log_mark() {
	: >"$F/syslog"
}

# vh_test_user NAME UID: a host user (and group) of the test's own, seen
# only in this test's private mount namespace (a copy of passwd and group
# bound over the host's), so that no other process of the machine shares
# its uid.
vh_test_user() {
	[ -f "$F/passwd" ] || { cp /etc/passwd "$F/passwd" && mount --bind "$F/passwd" /etc/passwd; }
	[ -f "$F/group" ] || { cp /etc/group "$F/group" && mount --bind "$F/group" /etc/group; }
	echo "$1:x:$2:$2:test user:/:/bin/false" >>"$F/passwd"
	echo "$1:x:$2:" >>"$F/group"
}

# vh_bomb PORT: connect to a fork bomb (probe forkbomb) on 127.0.0.2:PORT
# in the background (its pid in BOMB) and wait up to 10 s for its report
# in $F/bombPORT.out.
vh_bomb() {
	socat -T 20 -u "TCP:127.0.0.2:$1" - >"$F/bomb$1.out" 2>/dev/null &
	BOMB=$!
	for _ in $(seq 200); do
		grep -q forked= "$F/bomb$1.out" && break
		sleep 0.05
	done
}
