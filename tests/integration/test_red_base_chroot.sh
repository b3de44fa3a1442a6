#!/bin/bash
# Red team of the cheaper entry for a run-as row with a base (a chroot in
# a mount namespace of the connection's own, no pivot_root: commit
# 3df3db5). A chroot holds against ".." only where the walk meets the
# process's root: the same mount and the same directory. Each connection
# of such a row has a copy of the host's mount tree of its own, so its
# root is the jail's directory on a mount no other connection has. Two
# connections of the same run-as row (or two rows of one jail) meet
# through a unix socket in the jail: one passes its root directory
# (SCM_RIGHTS), the other walks ".." from it - not its own root, not the
# same mount, so the walk climbs out of the jail into the host's tree
# (as the run-as user; as uid 0 with CAP_DAC_OVERRIDE when the receiver
# is a root service of the same jail). No capability, no filtered call.
# A plain run-as row holds: every chroot of the host's namespace shares
# the host's mounts, and the walk stops at the jail. A pivoted jail holds:
# the jail is the top of its namespace, nothing of the host is above it.
#
# Expected (asserted): through virtuald the passed root leads nowhere
# outside the jail, for a run-as and for a root receiver. Positive
# controls: the fd is passed and read inside the jail through virtuald;
# the same two programs in two chroots of two mount namespaces of their
# own (the shape of the cheaper entry, built by hand) do climb out; two
# chroots in one namespace (a plain run-as row) do not. Also asserted:
# the binds of the base do not show in the host's mount table while a
# connection is held. Ports 20720-20739.
. "$(dirname "$0")/lib.sh"
: "${VH_REDPROBE:?set VH_REDPROBE to the redprobe binary}"

vh_init_db
vh_test_user redchra 41931
vh_test_user redchrb 41932
S=$F/srv
mkdir -m 0755 "$S" "$S/jails"
BASE=$S/base
A=$S/jails/a
vh_ctl provision "$BASE" --program /bin/busybox >/dev/null 2>&1
vh_eq "provision builds the base" 0 "$?"
cp "$VH_REDPROBE" "$BASE/bin/redprobe" && chmod 0755 "$BASE/bin/redprobe"
# the jail: its /etc, its data and a /tmp where the services meet
mkdir -m 0755 "$A" "$A/etc" "$A/www"
mkdir -m 1777 "$A/tmp"
echo "jail page" >"$A/www/index.html"
# outside the jail, readable by anyone who gets there
echo "host-secret-41931" >"$S/host-secret"
chmod 0644 "$A/www/index.html" "$S/host-secret"

vh_ctl add send 127.0.0.2 "$A" --user redchra --base "$BASE" >/dev/null 2>&1
vh_eq "a run-as row with the base (the sender)" 0 "$?"
vh_ctl add climb 127.0.0.2 "$A" --user redchra --base "$BASE" >/dev/null 2>&1
vh_eq "the same jail, the same user, the same base (a second connection)" 0 "$?"
vh_ctl add climb 127.0.0.3 "$A" --user redchrb --base "$BASE" >/dev/null 2>&1
vh_eq "the same jail, another run-as user with the base" 0 "$?"
vh_ctl add climb 127.0.0.4 "$A" --base "$BASE" >/dev/null 2>&1
vh_eq "the same jail, a root service with the base" 0 "$?"

vh_tcpserver 127.0.0.2 20720 "$VIRTUALD" --db "$DB" send /bin/redprobe fdsend /tmp/s 10
for a in 127.0.0.2 127.0.0.3 127.0.0.4; do
	vh_tcpserver "$a" 20721 "$VIRTUALD" --db "$DB" climb /bin/redprobe fdclimb /tmp/s ../../host-secret
	vh_tcpserver "$a" 20722 "$VIRTUALD" --db "$DB" climb /bin/redprobe fdclimb /tmp/s www/index.html
done

# pass_at: SENDER_ADDR SENDER_PORT RECEIVER_ADDR PORT: one sender
# connection held open while one receiver connection runs; the
# receiver's report on stdout. pass: the sender of the base row.
pass_at() {
	vh_talk "$1" "$2" >"$F/send.out" &
	local s=$! i
	for i in $(seq 100); do
		grep -q fdsend=listening "$F/send.out" && break
		sleep 0.05
	done
	vh_talk "$3" "$4"
	wait "$s"
}
pass() { pass_at "$1" 20720 "$2" "$3"; }

# control: the descriptor goes across through virtuald, and names the jail
out=$(pass 127.0.0.2 127.0.0.2 20722)
vh_contains "control: the second connection receives the first's root" "fdclimb_got=ok" "$out"
vh_contains "control: ... and reads the jail through it" "fdclimb_read=ok data=jail page" "$out"
vh_contains "control: the sender sent it" "fdsend=sent" "$(cat "$F/send.out")"

# the attack: ".." from the other connection's root
for who in same-user:127.0.0.2 other-user:127.0.0.3 root:127.0.0.4; do
	w=${who%%:*} a=${who#*:}
	out=$(pass 127.0.0.2 "$a" 20721)
	vh_contains "$w: the receiver got the run-as sender's root" "fdclimb_got=ok" "$out"
	vh_not_contains "$w: '..' from another connection's root does not leave the jail" "host-secret-41931" "$out"
	vh_contains "$w: ... the climb finds nothing there" "fdclimb_read=No such file or directory" "$out"
done

# Positive controls, by hand, with the same two programs: each in a
# chroot of the jail (the base's bin bound over the jail's, as virtuald
# does) as the run-as user, (1) each in a mount namespace of its own -
# the shape of a chroot entry with a base - climbs out; (2) both in this
# one namespace - a plain run-as row - does not.
ctl_pass() { # UNSHARE-OR-EMPTY: the receiver's report
	local u=$1
	$u chroot --userspec=41931:41931 "$A" /bin/redprobe fdsend /tmp/s 10 >"$F/ctlsend.out" &
	local s=$! i
	for i in $(seq 100); do
		grep -q fdsend=listening "$F/ctlsend.out" && break
		sleep 0.05
	done
	$u chroot --userspec=41931:41931 "$A" /bin/redprobe fdclimb /tmp/s ../../host-secret
	wait "$s"
}
mount --bind "$BASE/bin" "$A/bin"
out=$(ctl_pass "unshare --mount --propagation private")
vh_contains "control: two chroots in two mount namespaces: the passed root climbs out" \
	"fdclimb_read=ok data=host-secret-41931" "$out"
out=$(ctl_pass "")
vh_contains "control: two chroots in one mount namespace: the passed root stops at the jail" \
	"fdclimb_read=No such file or directory" "$out"
umount "$A/bin"

# A jail of its own programs (no base), served by a plain run-as row and
# a root service: the run-as row's root, passed to the root service, must
# not climb into the host's tree either - as it did while plain run-as
# rows were chrooted in the host's namespace and the root service pivoted
# (then ".." from the host's mount of the jail met no root of the
# receiver's: uid 0 with CAP_DAC_OVERRIDE in the host's files).
J=$S/jails/j
vh_ctl provision "$J" --program /bin/busybox >/dev/null 2>&1
vh_eq "provision builds a jail of its own programs" 0 "$?"
cp "$VH_REDPROBE" "$J/bin/redprobe" && chmod 0755 "$J/bin/redprobe"
mkdir -m 0755 "$J/www"
mkdir -m 1777 "$J/tmp"
echo "jail j page" >"$J/www/index.html"
chmod 0644 "$J/www/index.html"
vh_ctl add send 127.0.0.5 "$J" --user redchra >/dev/null 2>&1
vh_eq "a plain run-as row (the sender)" 0 "$?"
vh_ctl add climb 127.0.0.6 "$J" >/dev/null 2>&1
vh_eq "the same jail, a root service (the receiver)" 0 "$?"
vh_ctl add climb 127.0.0.7 "$J" --user redchrb >/dev/null 2>&1
vh_eq "the same jail, another plain run-as row (a receiver)" 0 "$?"
vh_tcpserver 127.0.0.5 20723 "$VIRTUALD" --db "$DB" send /bin/redprobe fdsend /tmp/s 10
for a in 127.0.0.6 127.0.0.7; do
	vh_tcpserver "$a" 20724 "$VIRTUALD" --db "$DB" climb /bin/redprobe fdclimb /tmp/s ../../host-secret
	vh_tcpserver "$a" 20725 "$VIRTUALD" --db "$DB" climb /bin/redprobe fdclimb /tmp/s www/index.html
done
pass_j() { pass_at 127.0.0.5 20723 "$1" "$2"; }
out=$(pass_j 127.0.0.6 20725)
vh_contains "control: the root service receives the plain run-as row's root" "fdclimb_got=ok" "$out"
vh_contains "control: ... and reads the jail through it" "fdclimb_read=ok data=jail j page" "$out"
for who in root:127.0.0.6 run-as:127.0.0.7; do
	w=${who%%:*} a=${who#*:}
	out=$(pass_j "$a" 20724)
	vh_contains "plain sender, $w receiver: the root arrives" "fdclimb_got=ok" "$out"
	vh_not_contains "plain sender, $w receiver: '..' from it does not leave the jail" "host-secret-41931" "$out"
	vh_contains "plain sender, $w receiver: ... the climb finds nothing there" "fdclimb_read=No such file or directory" "$out"
done

# propagation: while a connection holds its namespace, the host's mount
# table (this test's namespace, the host's copy) shows none of its binds
vh_talk 127.0.0.2 20720 >"$F/send.out" &
s=$!
for i in $(seq 100); do
	grep -q fdsend=listening "$F/send.out" && break
	sleep 0.05
done
vh_eq "the base's binds do not propagate to the host's namespace" "" "$(grep -F "$A" /proc/self/mountinfo)"
vh_talk 127.0.0.2 20722 >/dev/null
wait "$s"
vh_done
