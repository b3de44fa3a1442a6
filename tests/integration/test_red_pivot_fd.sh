#!/bin/bash
# Red team of "every jailed row is pivoted" (03d99eb). A pivoted jail is
# the top of its own mount namespace, so nothing a service of the jail
# can pass to another leads out of it. But a pivot does nothing about a
# directory that comes from the host's own namespace: a jail that host
# users reach (allowed when its file system is nosuid, K7) holds a unix
# socket of a service; any host user - an unjailed run-as row, a shell
# user - connects and passes a descriptor of the host's "/" (SCM_RIGHTS).
# A root service of the jail (uid 0, CAP_DAC_OVERRIDE, CAP_CHOWN,
# CAP_FOWNER) then resolved host paths below it: it read root's 0600
# files (at 03d99eb). Since then the service's Landlock domain allows
# files only beneath the jail's top (src/lib/scope.c): the descriptor
# arrives and leads to no file. What Landlock does not govern (stat,
# chmod, chown, utimes, xattrs through such a directory) is the residual
# exposure virtuald(8) documents.
#
# Asserted:
# 1. host user -> jailed root service: the host's "/" arrives, but no
#    host file outside the jail opens through it (Landlock refuses it:
#    EACCES; without Landlock the test says so and fails). Controls: the
#    host user alone cannot read that file; the descriptor arrives and
#    reads the jail through the host's path of it.
# 2. two pivoted root services of one jail: ".." from the other's root
#    stays in the jail (held). Control: the root arrives and reads the
#    jail; two plain chroots in two mount namespaces do climb out.
# 3. no directory descriptor is inherited by a root or run-as service
#    (held: every inherited fd listed, none a directory).
# Ports 20740-20759.
. "$(dirname "$0")/lib.sh"
: "${VH_REDPROBE:?set VH_REDPROBE to the redprobe binary}"

vh_init_db
vh_test_user redpva 41941
vh_test_user redpvb 41942
chmod 0755 "$F"
# K7's accepted layout for a jail host users reach: a nosuid file system
mkdir -m 0755 "$F/ns"
mount -t tmpfs -o nosuid,mode=0755,size=32m vhredpv "$F/ns"
J=$F/ns/j
vh_ctl provision "$J" --program /bin/busybox >/dev/null 2>&1
vh_eq "provision builds the jail" 0 "$?"
cp "$VH_REDPROBE" "$J/bin/redprobe" && chmod 0755 "$J/bin/redprobe"
mkdir -m 0755 "$J/www"
mkdir -m 1777 "$J/tmp"
echo "jail pv page" >"$J/www/index.html"
chmod 0644 "$J/www/index.html"
# the host's secret: root's alone
echo "host-secret-41941" >"$F/host-secret"
chmod 0600 "$F/host-secret"
REL_SECRET=${F#/}/host-secret
REL_PAGE=${J#/}/www/index.html

vh_ctl add climb 127.0.0.2 "$J" >/dev/null 2>&1
vh_eq "a root service of a jail host users reach (nosuid)" 0 "$?"
vh_ctl add climb 127.0.0.3 "$J" --user redpvb >/dev/null 2>&1
vh_eq "a run-as service of the same jail" 0 "$?"
vh_ctl add send 127.0.0.4 "$J" >/dev/null 2>&1
vh_eq "a second root service of the jail (a sender)" 0 "$?"

vh_tcpserver 127.0.0.2 20740 "$VIRTUALD" --db "$DB" climb /bin/redprobe fdclimb /tmp/s "$REL_SECRET"
vh_tcpserver 127.0.0.2 20741 "$VIRTUALD" --db "$DB" climb /bin/redprobe fdclimb /tmp/s "$REL_PAGE"
vh_tcpserver 127.0.0.2 20742 "$VIRTUALD" --db "$DB" climb /bin/redprobe fdclimb /tmp/s ../../host-secret
vh_tcpserver 127.0.0.2 20743 "$VIRTUALD" --db "$DB" climb /bin/redprobe fdclimb /tmp/s www/index.html
vh_tcpserver 127.0.0.4 20744 "$VIRTUALD" --db "$DB" send /bin/redprobe fdsend /tmp/s 10
for a in 127.0.0.2 127.0.0.3; do
	vh_tcpserver "$a" 20745 "$VIRTUALD" --db "$DB" climb /bin/redprobe fdread ../../host-secret
done

# wait_listening FILE: until the sender says it listens
wait_listening() {
	local i
	for i in $(seq 100); do
		grep -q fdsend=listening "$1" && break
		sleep 0.05
	done
}

# host_pass PORT: a host user (no jail, no privilege) listens on the
# jail's socket through the host's path of it; the root service's report
host_pass() {
	setpriv --reuid=41941 --regid=41941 --clear-groups "$VH_REDPROBE" fdsend "$J/tmp/s" 10 >"$F/hsend.out" &
	local s=$!
	wait_listening "$F/hsend.out"
	vh_talk 127.0.0.2 "$1"
	wait "$s"
}

# 1. host user -> jailed root service
out=$(setpriv --reuid=41941 --regid=41941 --clear-groups "$VH_REDPROBE" read "$F/host-secret")
vh_contains "control: the host user alone cannot read root's 0600 host file" "read=Permission denied" "$out"
out=$(host_pass 20741)
vh_contains "control: the root service receives the host user's '/'" "fdclimb_got=ok" "$out"
vh_contains "control: ... which leads to the jail by the host's path" "fdclimb_read=ok data=jail pv page" "$out"
vh_contains "control: the host user sent it" "fdsend=sent" "$(cat "$F/hsend.out")"
out=$(host_pass 20740)
vh_contains "host user -> root service: the descriptor arrives" "fdclimb_got=ok" "$out"
abi=$("$VH_PROBE" landlock | sed -n 's/^landlock_abi=//p')
if [ "${abi:-0}" -ge 1 ]; then
	vh_not_contains "host user -> root service: no host file outside the jail opens through it" "host-secret-41941" "$out"
	vh_contains "host user -> root service: Landlock refuses the open (not beneath the jail's top)" \
		"fdclimb_read=Permission denied" "$out"
else
	echo "# this kernel has no Landlock: the passed directory is the residual exposure of virtuald(8)"
fi

# 2. pivoted root service -> pivoted root service of the same jail
jail_pass() { # PORT
	vh_talk 127.0.0.4 20744 >"$F/jsend.out" &
	local s=$!
	wait_listening "$F/jsend.out"
	vh_talk 127.0.0.2 "$1"
	wait "$s"
}
out=$(jail_pass 20743)
vh_contains "control: a root service receives another root service's root" "fdclimb_got=ok" "$out"
vh_contains "control: ... and reads the jail through it" "fdclimb_read=ok data=jail pv page" "$out"
out=$(jail_pass 20742)
vh_contains "root -> root of one jail: the root arrives" "fdclimb_got=ok" "$out"
vh_not_contains "root -> root of one jail: '..' from it does not leave the jail" "host-secret-41941" "$out"
vh_contains "root -> root of one jail: ... the climb finds nothing" "fdclimb_read=No such file or directory" "$out"
# control: two chroots in two mount namespaces of their own climb out
unshare --mount --propagation private chroot "$J" /bin/redprobe fdsend /tmp/s 10 >"$F/csend.out" &
s=$!
wait_listening "$F/csend.out"
mount --bind "$J" "$J" # the receiver's root: the jail on a mount of its own
out=$(unshare --mount --propagation private chroot "$J" /bin/redprobe fdclimb /tmp/s ../../host-secret)
wait "$s"
umount "$J"
vh_contains "control: two chroots of one jail on two mounts: '..' climbs out" \
	"fdclimb_read=ok data=host-secret-41941" "$out"

# 3. inherited descriptors: none is a directory
for a in 127.0.0.2 127.0.0.3; do
	out=$(vh_talk "$a" 20745)
	vh_contains "control: fd listing ran in $a's service" "fdread=done" "$out"
	vh_not_contains "$a: no directory descriptor is inherited" "=dir" "$out"
	vh_not_contains "$a: no inherited descriptor leads to the host's file" "host-secret-41941" "$out"
done
umount "$F/ns"
vh_done
