#!/bin/bash
# Issue 13 point 10: a service's own end. virtuald, the parent of its
# service's tree, logs one "ended" line (exit status or signal, duration);
# every line of a connection carries the host pid of the virtuald the
# super-server started, also a refusal written inside the service's PID
# namespace (it said virtuald[2]); vhostctl disable --kill and remove
# --kill end the domain's running services, run-as and root, and no
# other domain's (here one of the same uid, and one of the same jail
# kind); killing the outer virtuald ends its tree (PR_SET_PDEATHSIG).
. "$(dirname "$0")/lib.sh"

# The domains' running files (/run/virtuald/running) of this test's own:
# a tmpfs over /run/virtuald (made on the host when missing, as virtuald
# itself would) in this private mount namespace, so that a
# --kill here can only ever see this test's services.
mkdir -p /run/virtuald
mount -t tmpfs -o mode=0755,size=64k vhop10run /run/virtuald

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
for j in a b r s p; do vh_mkjail "$J/$j" "jail $j"; done
# a file the jail check accepts (root's, 0755) that exec cannot run: the
# service's own process refuses it inside the namespace
printf 'not a program\n' >"$J/p/bin/junk"
chmod 0755 "$J/p/bin/junk"
# run-as domains a and b share a uid: --kill must not go by uid
vh_ctl add sleepy 127.0.0.2 "$J/a" --user nobody >/dev/null
vh_ctl add sleepy 127.0.0.4 "$J/b" --user nobody >/dev/null
vh_ctl add probe 127.0.0.2 "$J/p" --user nobody >/dev/null
vh_ctl add junk 127.0.0.2 "$J/p" --user nobody >/dev/null
# the clients this test starts (a failing run leaves their services to
# end by themselves within a minute)
declare -A C
CG=
end_test() {
	local p
	for p in "${C[@]}"; do kill "$p" 2>/dev/null; done
	vh_cleanup
	[ -n "$CG" ] && rmdir "$CG"/vh-* "$CG" 2>/dev/null
}
trap end_test EXIT
ROOT=0
if [ -n "$VH_PIDS_CG" ]; then
	ROOT=1
	vh_ctl add sleepy 127.0.0.3 "$J/r" >/dev/null 2>&1 # root services
	vh_ctl add sleepy 127.0.0.5 "$J/s" >/dev/null 2>&1
	CG=$VH_PIDS_CG/vhtest-op10.$$
	VD=("$VIRTUALD" --db "$DB" --pids-cgroup "$CG")
else
	echo "# no pids cgroup controller: the root-service checks are skipped"
	VD=("$VIRTUALD" --db "$DB")
fi
vh_tcpserver 0 19480 "${VD[@]}" sleepy /bin/busybox sleep 60
vh_tcpserver 0 19481 "${VD[@]}" probe /bin/probe info
vh_tcpserver 0 19482 "${VD[@]}" junk /bin/junk

# pid_of LINE: the pid in "virtuald[PID]:"
pid_of() { sed -n 's/.*virtuald\[\([0-9]*\)\]:.*/\1/p' <<<"$1"; }
# gone PID: wait up to 5 s for PID to end
gone() {
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# --- the ended line, and its pid ----------------------------------------------
out=$(vh_talk 127.0.0.2 19481)
vh_contains "the probe was served" "probe=info" "$out"
served=$(vh_log_wait "served service=probe local=127.0.0.2:19481")
ended=$(vh_log_wait "ended service=probe local=127.0.0.2:19481")
vh_contains "ended: one line with status, domain and duration" "domain=probe/127.0.0.2 status=0 duration_ms=" "$ended"
vh_contains "ended: local and remote as the served line has them" \
	"$(sed -n 's/.*served service=probe \(local=[^ ]* remote=[^ ]*\).*/\1/p' <<<"$served")" "$ended"
vh_eq "ended: one line per connection" 1 "$(grep -ac 'ended service=probe' "$F/syslog")"
p=$(pid_of "$served")
[ -n "$p" ] && [ "$p" -gt 2 ] && vh_ok "served carries a host pid ($p)" || vh_notok "served pid '$p'"
vh_eq "ended carries the served line's pid" "$p" "$(pid_of "$ended")"

# A refusal written by the service's own process inside the namespace
# (the exec fails) carries the host pid, not 2.
out=$(vh_talk 127.0.0.2 19482)
vh_eq "junk: nothing reaches the client" "" "$out"
served=$(vh_log_wait "served service=junk")
refused=$(vh_log_wait "refused service=junk")
vh_contains "junk: refused inside the jail, after the served line" "cannot exec /bin/junk" "$refused"
p=$(pid_of "$served")
vh_eq "junk: the refusal from inside the namespace carries the host pid" "$p" "$(pid_of "$refused")"
ended=$(vh_log_wait "ended service=junk")
vh_contains "junk: ended with the exec failure's status" "status=127" "$ended"
vh_eq "junk: ended carries the host pid" "$p" "$(pid_of "$ended")"

# --- --kill -------------------------------------------------------------------
# client ADDR: a connection to the sleeping service, kept open in the
# background (it ends when the service ends); its pid in C[ADDR].
client() {
	socat -u "TCP:$1:19480" - >/dev/null 2>&1 &
	C[$1]=$!
	vh_log_wait "served service=sleepy local=$1:19480" >/dev/null ||
		vh_notok "sleepy on $1 was not served: $(tail -3 "$F/syslog")"
}
addrs="127.0.0.2 127.0.0.4"
[ "$ROOT" = 1 ] && addrs="$addrs 127.0.0.3 127.0.0.5"
for a in $addrs; do client "$a"; done
sleep 0.3

# disable without --kill: the running service stays
vh_ctl disable sleepy 127.0.0.4 >/dev/null
sleep 0.3
vh_check "disable without --kill: the running service stays" kill -0 "${C[127.0.0.4]}"
hexname() { printf 'vh-%s-%s' "$(printf %s "$1" | od -An -tx1 | tr -d ' \n')" "$(printf %s "$2" | od -An -tx1 | tr -d ' \n')"; }
RUNFILE=/run/virtuald/running/$(hexname sleepy 127.0.0.4)
vh_check "while its service runs, the domain's running file is there, root's, 0600" \
	test "$(stat -c '%u %a' "$RUNFILE" 2>&1)" = "0 600"

out=$(vh_ctl disable sleepy 127.0.0.2 --kill 2>&1)
rc=$?
vh_eq "disable --kill run-as: exit 0" 0 "$rc"
vh_contains "disable --kill run-as: says what it did" "disabled sleepy 127.0.0.2
ended 1 running service of sleepy 127.0.0.2" "$out"
vh_check "disable --kill run-as: the service ended (its client saw EOF)" gone "${C[127.0.0.2]}"
ended=$(vh_log_wait "ended service=sleepy local=127.0.0.2:19480")
vh_contains "disable --kill run-as: ended line with the signal" "domain=sleepy/127.0.0.2 signal=9 duration_ms=" "$ended"
vh_eq "disable --kill run-as: ended carries the served line's host pid" \
	"$(pid_of "$(vh_log_wait "served service=sleepy local=127.0.0.2:19480")")" "$(pid_of "$ended")"
vh_check "disable --kill run-as: another domain of the same uid survives" kill -0 "${C[127.0.0.4]}"
vh_eq "disable --kill run-as: no ended line for the other domain" "" "$(grep -a 'ended service=sleepy local=127.0.0.4' "$F/syslog")"

out=$(vh_ctl disable sleepy 127.0.0.2 --kill 2>&1)
vh_contains "disable --kill again: nothing left to end" "ended 0 running services of sleepy 127.0.0.2" "$out"

if [ "$ROOT" = 1 ]; then
	out=$(vh_ctl remove sleepy 127.0.0.3 --kill 2>&1)
	rc=$?
	vh_eq "remove --kill root: exit 0" 0 "$rc"
	vh_contains "remove --kill root: says what it did" "removed sleepy 127.0.0.3
ended 1 running service of sleepy 127.0.0.3" "$out"
	vh_check "remove --kill root: the service ended" gone "${C[127.0.0.3]}"
	ended=$(vh_log_wait "ended service=sleepy local=127.0.0.3:19480")
	vh_contains "remove --kill root: ended line with the signal" "domain=sleepy/127.0.0.3 signal=9" "$ended"
	vh_check "remove --kill root: another root domain survives" kill -0 "${C[127.0.0.5]}"
	vh_check "remove --kill run-as: the run-as domain survives too" kill -0 "${C[127.0.0.4]}"

	# Killing the outer virtuald ends its tree (PR_SET_PDEATHSIG).
	outer=$(pid_of "$(vh_log_wait "served service=sleepy local=127.0.0.5:19480")")
	init=$(pgrep -P "$outer" | head -1)
	[ -n "$init" ] && vh_ok "the outer virtuald $outer has PID 1 $init" || vh_notok "no child of $outer"
	kill -9 "$outer"
	vh_check "SIGKILL to the outer virtuald: the service ended (client EOF)" gone "${C[127.0.0.5]}"
	vh_check "SIGKILL to the outer virtuald: its PID 1 is gone" gone "${init:-999999}"
fi

out=$(vh_ctl disable sleepy 127.0.0.4 --kill 2>&1)
vh_contains "disable --kill of an already disabled domain ends its service" "ended 1 running service of sleepy 127.0.0.4" "$out"
vh_check "the last one ended" gone "${C[127.0.0.4]}"

# The last tree of a domain to end removes its running file: /run holds
# one per domain being served, not one per domain ever served (~1 KB of
# kernel memory each).
for i in $(seq 30); do
	[ -e "$RUNFILE" ] || break
	sleep 0.1
done
vh_check "the last tree's end removed the domain's running file" test ! -e "$RUNFILE"
# (but the one whose outer virtuald was killed above: it never released
# its file; the next tree of that domain to end removes it)
left=$(ls -A /run/virtuald/running | grep -vx "$(hexname sleepy 127.0.0.5)")
vh_eq "no other running file is left for domains that serve nothing now" "" "$left"

# A holder that is no namespace's PID 1 (a host process of this test's
# own, on a file made as virtuald makes it) is never signalled: reported
# after 3 s, status 75.
install -m 0600 /dev/null "$RUNFILE"
sleep 30 <"$RUNFILE" &
H=$!
C[holder]=$H
out=$(vh_ctl disable sleepy 127.0.0.4 --kill 2>&1)
vh_eq "a holder that is no PID 1: status 75" 75 "$?"
vh_contains "a holder that is no PID 1: reported" "1 process of sleepy 127.0.0.4 still running after 3 s" "$out"
vh_check "a holder that is no PID 1: never signalled" kill -0 "$H"
kill "$H"

# enable takes no --kill
vh_ctl enable sleepy 127.0.0.4 --kill >/dev/null 2>&1
vh_eq "enable --kill: a usage error" 64 "$?"

vh_done
