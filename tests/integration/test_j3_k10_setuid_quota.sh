#!/bin/bash
# Red team, J3/K10 (issue 11, second round): a root service keeps
# CAP_SETUID, takes another customer's run-as uid and holds that uid's
# RLIMIT_NPROC allowance, the bound J3 relies on ("a unique run-as uid per
# domain"). The other customer's service can no longer fork: it is not
# served. The root domain's pids cgroup (K10) counts these processes, but
# its limit (default 1,024) is far above a per-uid RLIMIT_NPROC.
# Control: the same customer is served before and after the attack.
. "$(dirname "$0")/lib.sh"
RP=${VH_REDPROBE:-$VH_BUILD/tests/integration/vh_redprobe}
BUID=64124
cp /etc/passwd "$F/passwd"
cp /etc/group "$F/group"
echo "vhrtb:x:$BUID:$BUID:customer B:/:/bin/false" >>"$F/passwd"
echo "vhrtb:x:$BUID:" >>"$F/group"
mount --bind "$F/passwd" /etc/passwd
mount --bind "$F/group" /etc/group

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/a" "A root jail"
cp "$RP" "$J/a/bin/redprobe"
vh_mkjail "$J/b" "B page"
vh_ctl add probe 127.0.0.2 "$J/a" >/dev/null 2>&1         # customer A: a root service
vh_ctl add page 127.0.0.3 "$J/b" --user vhrtb >/dev/null  # customer B: a uid of its own
CG=${VH_PIDS_CG:+$VH_PIDS_CG/vhtest-rtj3.$$}
trap 'vh_cleanup; [ -n "$CG" ] && rmdir "$CG"/vh-* "$CG" 2>/dev/null' EXIT
NPROC=40
HOLD=8
# the operator's per-uid limit (J3), the same for every super-server
prlimit --nproc=$NPROC "$TCPSERVER" -H -l 0 -R -c 200 0 19301 "$VIRTUALD" --db "$DB" --pids-cgroup "${CG:-none}" \
	probe /bin/redprobe nproc $BUID $BUID $NPROC $HOLD >>"$F/tcpserver.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 19301
# B's service forks once (a shell running a command), as most services do
prlimit --nproc=$NPROC "$TCPSERVER" -H -l 0 -R -c 200 0 19302 "$VIRTUALD" --db "$DB" \
	page /bin/busybox sh -c "/bin/busybox cat /www/index.html; exit 0" >>"$F/tcpserver.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 19302

vh_eq "control: customer B is served before the attack" "B page" "$(vh_talk 127.0.0.3 19302)"
socat -T 20 -u TCP:127.0.0.2:19301 - >"$F/a.out" 2>/dev/null &
A=$!
for _ in $(seq 100); do
	grep -q forked= "$F/a.out" && break
	sleep 0.05
done
sed 's/^/# A: /' "$F/a.out"
out=$(vh_talk 127.0.0.3 19302)
echo "# processes of uid $BUID: $(ps -u $BUID --no-headers | wc -l)"
vh_not_contains "J3 K10 a root service cannot take another customer's uid" "setresuid=ok" "$(cat "$F/a.out")"
vh_eq "J3 K10 customer B is served while customer A's root service runs" "B page" "$out"
wait $A
vh_eq "control: customer B is served again once A's processes are gone" "B page" "$(vh_talk 127.0.0.3 19302)"
vh_done
