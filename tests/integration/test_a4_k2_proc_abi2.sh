#!/bin/bash
# Red team, A4/K2 (issue 11, second round): a run-as service has no mount
# namespace of its own (a chroot), so a procfs mounted in its jail after
# "vhostctl add" (which refuses it; check reports it; virtuald does not
# look) is the host's. On a kernel whose Landlock has no ABI 6 (Debian
# 12: ABI 2) virtuald applies no Landlock domain at all, and the service
# reads a host file through /proc/PID/root of a host process of its uid:
# the new PID namespace does not help. On this kernel (ABI 6+) the
# Landlock domain's ptrace rule stops it; the ABI-2 case is virtuald's
# dynamic twin with abi2.so preloaded (Landlock answers "2").
. "$(dirname "$0")/lib.sh"
RP=${VH_REDPROBE:-$VH_BUILD/tests/integration/vh_redprobe}
ABI2=${VH_ABI2:-$VH_BUILD/tests/integration/vh_abi2.so}
DYN=${VH_VIRTUALD_DYNAMIC:-$VH_BUILD/tests/integration/vh_virtuald_dynamic}
KUID=64125
vh_test_user vhrtp "$KUID"
vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/u" "U"
cp "$RP" "$J/u/bin/redprobe"
mkdir -m 0555 "$J/u/proc"
# a host file the uid may read, outside the 0700 fixture directory
SEC=/run/vhtest/a4-secret.$$
mkdir -m 0755 "$SEC"
echo "SECRET-HOST-FILE" >"$SEC/host-secret"
chmod 0644 "$SEC/host-secret"
vh_ctl add probe 127.0.0.3 "$J/u" --user vhrtp >/dev/null
mount -t proc proc "$J/u/proc"        # the operator's mistake, after add
trap 'umount "$J/u/proc" 2>/dev/null; rm -rf "$SEC"; vh_cleanup' EXIT
setpriv --reuid=$KUID --regid=$KUID --clear-groups sleep 60 &
V=$!
VH_PIDS+=($V)
sleep 0.2
vh_tcpserver 0 19321 "$VIRTUALD" --db "$DB" probe /bin/redprobe read "/proc/$V/root$SEC/host-secret"
vh_tcpserver 0 19322 env LD_PRELOAD="$ABI2" "$DYN" --db "$DB" probe /bin/redprobe read "/proc/$V/root$SEC/host-secret"
abi=$("$VH_PROBE" landlock | grep -o 'landlock_abi=[0-9]*')
out=$(vh_talk 127.0.0.3 19321)
echo "# this kernel ($abi): $out"
vh_not_contains "A4 K2 a run-as service does not read a host file through a procfs in its jail" "SECRET-HOST-FILE" "$out"
out=$(vh_talk 127.0.0.3 19322)
echo "# Landlock answering ABI 2: $out"
vh_not_contains "A4 K2 ... nor where Landlock has no ABI 6 (Debian 12)" "SECRET-HOST-FILE" "$out"
out=$(chroot --userspec=$KUID:$KUID "$J/u" /bin/redprobe read "/proc/$V/root$SEC/host-secret")
vh_contains "control: the same uid in a plain chroot reads the host file" "SECRET-HOST-FILE" "$out"
vh_done
