#!/bin/bash
# J3: a fork bomb in one jail leaves the other jails served. The bound is
# the per-uid RLIMIT_NPROC that the operator gives the super-server
# (virtuald passes resource limits on untouched) together with a unique
# run-as uid per domain (A13): the bomb exhausts its own uid's allowance
# only. Positive control: the same bomb under a super-server without the
# limit forks as far as it likes.
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/bomb" "bomb"
vh_mkjail "$J/calm" "calm page"
vh_ctl add probe 127.0.0.2 "$J/bomb" --user nobody >/dev/null
vh_ctl add http 127.0.0.3 "$J/calm" --user daemon >/dev/null   # another uid
HOLD=5

# the operator's limit, inherited by the super-server and everything below
prlimit --nproc=40 "$TCPSERVER" -H -l 0 -R -c 200 0 18960 "$VIRTUALD" --db "$DB" probe /bin/probe forkbomb $HOLD 300 \
	>>"$F/tcpserver.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 18960
"$TCPSERVER" -H -l 0 -R -c 200 0 18961 "$VIRTUALD" --db "$DB" http /bin/busybox httpd -i -h /www \
	>>"$F/tcpserver.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 18961

vh_bomb 18960
out=$(cat "$F/bomb18960.out")
vh_contains "the bomb is stopped by its uid's RLIMIT_NPROC" "stopped_by=Resource temporarily unavailable" "$out"
n=$(printf '%s\n' "$out" | sed -n 's/^forked=\([0-9]*\).*/\1/p')
[ "${n:-999}" -lt 40 ] && vh_ok "the bomb got fewer than 40 processes ($n)" || vh_notok "the bomb got $n processes"
vh_eq "while it holds them, a domain of another uid is served" "calm page" "$(vh_get 127.0.0.3 18961)"
wait "$BOMB"

# positive control: no limit, the same bomb reaches its own cap of 300
"$TCPSERVER" -H -l 0 -R -c 200 0 18962 "$VIRTUALD" --db "$DB" probe /bin/probe forkbomb 1 300 >>"$F/tcpserver.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 18962
vh_bomb 18962
out=$(cat "$F/bomb18962.out")
vh_contains "control: without the limit the bomb forks 300 times" "forked=300 stopped_by=count" "$out"
wait "$BOMB"
vh_done
