#!/bin/bash
# Red team of the Landlock rule "files only beneath the jail's top"
# (bd4975d). A host user passes a root service of a jail the host's "/"
# over a unix socket - through a socket in a jail host users reach (K7,
# nosuid), or through an abstract unix socket the service listens on,
# which needs no reachable jail at all: abstract names are per network
# namespace, services share the host's, and Landlock's scoping stops only
# the domain's own connects, not the host's connects into it.
#
# Held (Landlock, seccomp or EXDEV): open, O_PATH then /proc/self/fd
# reopen, linkat (AT_EMPTY_PATH too), RENAME_EXCHANGE, rename and unlink
# in the host's tree, symlink to the O_PATH's magic link, O_TRUNC,
# truncate(2), mkfifo, mkdir, symlinkat, bind of a unix socket,
# open_by_handle_at, open_tree, io_uring, execveat of a host binary,
# fchdir then relative opens.
# Held by the root service's user namespace (userns.h), once virtuald(8)'s
# "Not contained" residual: connect(2) to the host's pathname unix
# sockets (root-only ones), chmod (set-uid on a host file), chown, and a
# POSIX ACL through the directory - Landlock governs none of these, but
# root of a user namespace has no capability over a host inode. The
# controls above (the jail's own directory) show the same calls work on
# the jail's files.
# Ports 20760-20769.
. "$(dirname "$0")/lib.sh"
: "${VH_REDPROBE:?set VH_REDPROBE to the redprobe binary}"

# Without Landlock (not built, or off at boot) nothing here is held: the
# whole of it is the residual virtuald(8) names for such kernels.
abi=$("$VH_PROBE" landlock | sed -n 's/^landlock_abi=//p')
if [ "${abi:-0}" -lt 1 ]; then
	vh_ok "this kernel has no Landlock: a passed host descriptor is virtuald(8)'s residual, nothing to test here"
	vh_done
fi

vh_init_db
vh_test_user redlla 41941
chmod 0755 "$F"
mkdir -m 0755 "$F/ns"
mount -t tmpfs -o nosuid,mode=0755,size=32m vhredll "$F/ns"
J=$F/ns/j
vh_ctl provision "$J" --program /bin/busybox >/dev/null 2>&1
vh_eq "provision builds the jail" 0 "$?"
cp "$VH_REDPROBE" "$J/bin/redprobe" && chmod 0755 "$J/bin/redprobe"
mkdir -m 1777 "$J/tmp"

# fixtures: HD the host's (outside the jail), the same names in the jail
# for the controls
fixtures() { # DIR TAG
	mkdir -m 0755 "$1" "$1/priv"
	chmod 0700 "$1/priv"
	local n
	for n in secret ren del chmod chown acl; do
		echo "$2-$n-41941" >"$1/$n"
		chmod 0600 "$1/$n"
	done
	cp /bin/true "$1/bin"
}
HD=$F/hd
fixtures "$HD" host
fixtures "$J/hd" jail

vh_ctl add ll 127.0.0.2 "$J" >/dev/null 2>&1
vh_eq "a root service of a jail host users reach (nosuid)" 0 "$?"
vh_ctl add llsend 127.0.0.4 "$J" >/dev/null 2>&1
vh_eq "a second root service of the jail (a sender)" 0 "$?"
vh_tcpserver 127.0.0.2 20760 "$VIRTUALD" --db "$DB" ll /bin/redprobe lljail /tmp/s "${HD#/}"
vh_tcpserver 127.0.0.2 20761 "$VIRTUALD" --db "$DB" ll /bin/redprobe lljail @vhredll.$$ "${HD#/}"
vh_tcpserver 127.0.0.2 20762 "$VIRTUALD" --db "$DB" ll /bin/redprobe lljail /tmp/s hd
vh_tcpserver 127.0.0.4 20763 "$VIRTUALD" --db "$DB" llsend /bin/redprobe fdsend /tmp/s 10

wait_for() { # FILE WORD
	local i
	for i in $(seq 100); do
		grep -q "$2" "$1" && break
		sleep 0.05
	done
}
as_user() { setpriv --reuid=41941 --regid=41941 --clear-groups "$@"; }
# a root-only socket of the host's (0600 in a 0700 directory)
peer() { # DIR
	rm -f "$1/priv/sock"
	"$VH_REDPROBE" peerlisten "$1/priv/sock" 10 >"$F/peer.out" &
	PEER=$!
	wait_for "$F/peer.out" peerlisten=listening
}
reset() { # DIR TAG
	rm -rf "$1" "$J"/tmp/s "$J"/tmp/ll-*
	fixtures "$1" "$2"
}

# controls: the host user alone
out=$(as_user "$VH_REDPROBE" read "$HD/secret")
vh_contains "control: the host user alone cannot read root's 0600 host file" "read=Permission denied" "$out"
as_user chmod 0644 "$HD/chmod" 2>/dev/null
vh_eq "control: ... nor chmod it" 600 "$(stat -c %a "$HD/chmod")"

# control: the jail's own "/" from a sender of the jail: every attack
# that works on a directory beneath the jail's top works in the probe
reset "$J/hd" jail
peer "$J/hd"
vh_talk 127.0.0.4 20763 >"$F/jsend.out" &
s=$!
wait_for "$F/jsend.out" fdsend=listening
out=$(vh_talk 127.0.0.2 20762)
wait "$s" "$PEER"
vh_contains "control (jail dir): the directory arrives" "lljail_got=ok" "$out"
vh_contains "control (jail dir): open reads" "ll_open_read=ok data=jail-secret-41941" "$out"
vh_contains "control (jail dir): mkfifo" "ll_mkfifo=ok" "$out"
vh_contains "control (jail dir): rename" "ll_rename_in_host=ok" "$out"
vh_contains "control (jail dir): execveat runs" "ll_execveat=ran" "$out"
vh_contains "control (jail dir): fchdir + relative open" "ll_relopen=ok" "$out"
vh_contains "control (jail dir): bind of a unix socket" "ll_unix_bind=ok" "$out"
vh_contains "control (jail dir): connect" "ll_unix_connect=ok" "$out"
vh_contains "control (jail dir): fchmodat" "ll_fchmodat=ok" "$out"
vh_contains "control (jail dir): fchownat" "ll_fchownat=ok" "$out"
vh_contains "control (jail dir): an ACL" "ll_setxattr_acl=ok" "$out"
vh_contains "control (jail dir): the probe ran to the end" "lljail=done" "$out"
echo "$out" | sed 's/^/# jail: /'

# attack(PORT, CHANNEL): a host user passes its "/"; the root service's report
attack_path() {
	as_user "$VH_REDPROBE" fdsend "$J/tmp/s" 10 >"$F/hsend.out" &
	local s=$!
	wait_for "$F/hsend.out" fdsend=listening
	vh_talk 127.0.0.2 20760
	wait "$s"
}
attack_abstract() {
	vh_talk 127.0.0.2 20761 &
	local t=$!
	as_user "$VH_REDPROBE" llsend "@vhredll.$$" 5 >"$F/hsend.out"
	wait "$t"
}
for ch in path abstract; do
	reset "$HD" host
	peer "$HD"
	out=$(attack_$ch)
	wait "$PEER"
	echo "$out" | sed "s/^/# $ch: /"
	vh_contains "$ch: the host user's '/' arrives" "lljail_got=ok" "$out"
	vh_contains "$ch: the probe ran to the end" "lljail=done" "$out"
	vh_not_contains "$ch: no host file's content" "host-secret" "$out"
	# no procfs in the jail: the magic link is not there to follow
	vh_not_contains "$ch: O_PATH, then /proc/self/fd reopen refused" "ll_proc_reopen=ok" "$out"
	vh_not_contains "$ch: a symlink to /proc/self/fd/N refused" "ll_symlink_open=ok" "$out"
	for a in open_read relopen truncate_at truncate mkfifo mkdir unlink symlinkat \
		unix_bind rename_in_host; do
		vh_contains "$ch: $a refused (Landlock)" "ll_$a=Permission denied" "$out"
	done
	vh_contains "$ch: execveat of a host binary refused" "ll_execveat=Permission denied" "$out"
	vh_contains "$ch: linkat AT_EMPTY_PATH refused" "ll_linkat_empty=" "$out"
	vh_not_contains "$ch: linkat AT_EMPTY_PATH refused" "ll_linkat_empty=ok" "$out"
	vh_not_contains "$ch: linkat refused" "ll_linkat=ok" "$out"
	vh_not_contains "$ch: RENAME_EXCHANGE refused" "ll_rename_exchange=ok" "$out"
	vh_contains "$ch: open_by_handle_at refused (seccomp)" "ll_open_by_handle=Operation not permitted" "$out"
	vh_contains "$ch: open_tree refused (seccomp)" "ll_open_tree=Operation not permitted" "$out"
	vh_contains "$ch: io_uring refused (seccomp)" "ll_io_uring=Operation not permitted" "$out"
	[ -e "$HD/ren" ] && [ -e "$HD/del" ] && [ ! -e "$HD/ll-fifo" ] && [ ! -e "$HD/ll-bound" ]
	vh_eq "$ch: nothing made or removed in the host's directory" 0 "$?"
	# Held since the root service runs as root of a user namespace of
	# its own (userns.h): no capability over a host inode, no DAC
	# override - these were host root before (virtuald(8) "Not contained")
	vh_contains "$ch: connect to a root-only host unix socket refused (user namespace)" \
		"ll_unix_connect=Permission denied" "$out"
	vh_not_contains "$ch: ... its listener saw no peer" "peerlisten=peer" "$(cat "$F/peer.out")"
	vh_contains "$ch: chmod of root's host file refused (user namespace)" "ll_fchmodat=Operation not permitted" "$out"
	vh_eq "$ch: ... its mode unchanged" 600 "$(stat -c %a "$HD/chmod")"
	vh_not_contains "$ch: ... the host user still cannot read it" "host-chmod-41941" \
		"$(as_user "$VH_REDPROBE" read "$HD/chmod")"
	vh_contains "$ch: chown of root's host file refused (user namespace)" "ll_fchownat=Operation not permitted" "$out"
	vh_eq "$ch: ... its owner unchanged" 0 "$(stat -c %u "$HD/chown")"
	vh_contains "$ch: an ACL on root's host file refused (user namespace)" \
		"ll_setxattr_acl=Operation not permitted" "$out"
	vh_not_contains "$ch: ... the host user still cannot read it" "host-acl-41941" \
		"$(as_user "$VH_REDPROBE" read "$HD/acl")"
done
umount "$F/ns"
vh_done
