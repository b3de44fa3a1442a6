#!/bin/bash
# Red team (issue 11, commit 4838fbd): every jailed root service is now
# host uid 1879048192 (ns 0) in a user namespace OWNED by uid 1879048192,
# the same owner for every tenant. RLIMIT_NPROC is no longer waived for
# them (the exemption is for the host's INIT_USER only), and the kernel
# counts each namespace's processes up the ucounts chain to (init userns,
# uid 1879048192), checked against the RLIMIT_NPROC the helper had when
# it made the namespace (the super-server's). virtuald(8) tells the
# operator to give the super-server a per-user process limit
# (prlimit --nproc=, LimitNPROC=) and says "RLIMIT_NPROC never limits
# uid 0": with such a limit, one tenant's root service that holds that
# many processes (its own domain's pids.max allows 1,024) makes every
# other tenant's root service fail: exec and fork return EAGAIN.
# Positive control: the same hog under a run-as row (own host uid) does
# not touch the victim; the victim is served before the hog starts.
. "$(dirname "$0")/lib.sh"

if [ -z "$VH_PIDS_CG" ]; then
	echo "ok - skipped: no pids cgroup controller"
	echo "1 passed, 0 failed"
	exit 0
fi
vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/hog" "hog"
vh_mkjail "$J/victim" "victim page"
vh_ctl add probe 127.0.0.2 "$J/hog" >/dev/null       # tenant A, root service
vh_ctl add http 127.0.0.3 "$J/victim" >/dev/null     # tenant B, root service
vh_test_user vhhog 4711
vh_ctl add probe 127.0.0.4 "$J/hog" --user vhhog >/dev/null 2>&1 ||
	vh_ctl add probe 127.0.0.4 "$J/hog" >/dev/null
CG=$VH_PIDS_CG/vhtest-rnproc.$$
trap 'vh_cleanup; rmdir "$CG"/vh-* "$CG" 2>/dev/null' EXIT
NPROC=60
# the super-server with the per-user process limit virtuald(8) recommends
VD=(prlimit --nproc=$NPROC "$VIRTUALD" --db "$DB" --pids-cgroup "$CG")
vh_tcpserver 0 18990 "${VD[@]}" probe /bin/probe forkbomb 6 $((NPROC + 5))
vh_tcpserver 0 18991 "${VD[@]}" http /bin/busybox httpd -i -h /www

vh_eq "control: tenant B's root service is served before" "victim page" "$(vh_get 127.0.0.3 18991)"

vh_bomb 18990
out=$(cat "$F/bomb18990.out")
echo "# hog (tenant A, root service): $(echo $out)"
# (the hog itself now stops at RLIMIT_NPROC, not its pids.max: "RLIMIT_NPROC
# never limits uid 0" no longer holds for a root service)
vh_log_mark
got=$(vh_get 127.0.0.3 18991)
if [ "$got" = "victim page" ]; then
	vh_ok "tenant B's root service is served while tenant A holds $NPROC processes"
else
	vh_notok "tenant B's root service is refused while tenant A's root service holds $NPROC processes (got '$got'; log: $(vh_log_wait 'refused service=http' || true))"
fi
wait "$BOMB"
vh_eq "control: served again once the hog ended" "victim page" "$(vh_get 127.0.0.3 18991)"

# Control: the same hog as a run-as row (its own host uid) holds its
# NPROC processes and tenant B's root service is still served.
vh_tcpserver 0 18992 "${VD[@]}" probe /bin/probe forkbomb 6 $((NPROC + 5))
socat -T 20 -u TCP:127.0.0.4:18992 - >"$F/runas.out" 2>/dev/null &
RB=$!
for _ in $(seq 200); do grep -q forked= "$F/runas.out" && break; sleep 0.05; done
echo "# hog (run-as row): $(echo $(cat "$F/runas.out"))"
vh_eq "control: a run-as hog leaves tenant B's root service served" "victim page" "$(vh_get 127.0.0.3 18991)"
wait "$RB"
vh_done
