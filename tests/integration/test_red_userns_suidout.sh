#!/bin/bash
# Red team (issue 11, commit 4838fbd), cross-tenant attempt - HELD, kept
# as a guard: a hostile root
# service makes a set-uid file in its own jail (it is the owner: root's
# on disk, 04755 - its capability allow-list and the jail's idmapped
# mount allow that) and passes a descriptor of its jail's top to a
# colluding unprivileged host user over an abstract unix socket it
# listens on (the host's network namespace: any host process may connect
# in; Landlock's scope stops only the service's own connects). The jail
# is unreachable by path for host users, so K7 lets it live on a file
# system that honours set-uid, and the idmapped bind (attrs 0) keeps
# that. The host user execs the file through the descriptor (through
# /proc/self/fd/N, the idmapped mount): set-uid to the file's owner AS
# THAT MOUNT SHOWS IT, host uid 1879048192 - the owner of EVERY root
# service's user namespace, of every tenant. With that uid it reads (and
# could rewrite) another tenant's jail through its running root
# service's /proc/PID/root, and may signal or ptrace that service.
# Held because the kernel honours set-uid only on a mount of the exec'ing
# process's own mount namespace (mnt_may_suid: check_mnt), and the
# idmapped jail mount lives only in the service's: the host user's exec
# keeps its own uid. Were the jail's bind ever made in (or propagated to)
# a namespace host processes share, this is host uid 1879048192 (and
# host root for a --net-bind-service row). Control: the host user alone
# reads nothing either.
. "$(dirname "$0")/lib.sh"
: "${VH_REDPROBE:?set VH_REDPROBE to the redprobe binary}"
B=1879048192
U=41981
vh_init_db
vh_test_user redsuid $U
mkdir -m 0755 "$F/s"
mount -t tmpfs -o mode=0755,size=64m vhsuid "$F/s"   # honours set-uid; $F is 0700 (K7)
for t in atk vic; do
	vh_mkjail "$F/s/$t" "$t page"
	cp "$VH_REDPROBE" "$F/s/$t/bin/redprobe" && chmod 0755 "$F/s/$t/bin/redprobe"
done
mkdir -m 0755 "$F/s/vic/etc"
echo "victim-secret-$$" >"$F/s/vic/etc/secret" && chmod 0600 "$F/s/vic/etc/secret"
vh_ctl add red 127.0.0.2 "$F/s/atk" >/dev/null      # tenant A: root service, hostile
vh_ctl add probe 127.0.0.3 "$F/s/vic" >/dev/null    # tenant B: root service, victim
# tenant A plants a set-uid program in its own jail
vh_tcpserver 127.0.0.2 18980 "$VIRTUALD" --db "$DB" red /bin/redprobe plant /bin/planted
out=$(vh_talk 127.0.0.2 18980)
vh_contains "tenant A's root service makes a set-uid file in its jail" "chmod=ok" "$out"
vh_eq "... root's on disk, 4755" "0 4755" "$(stat -c '%u %a' "$F/s/atk/bin/planted" 2>/dev/null)"
vh_stop_last
# tenant B's root service is running (a client holds a connection)
vh_tcpserver 127.0.0.3 18981 "$VIRTUALD" --db "$DB" probe /bin/probe sleep 20
TS=${VH_PIDS[$((${#VH_PIDS[@]} - 1))]}
socat -T 30 -u TCP:127.0.0.3:18981 - >/dev/null 2>&1 &
C=$!
ppid_of() { awk '/^PPid:/{print $2}' "/proc/$1/status" 2>/dev/null; }
vic=
for _ in $(seq 100); do
	for p in $(pgrep -x probe); do
		[ "$(ppid_of "$(ppid_of "$(ppid_of "$p")")")" = "$TS" ] && vic=$p
	done
	[ -n "$vic" ] && break
	sleep 0.05
done
vh_check "tenant B's root service runs" test -n "$vic"
# tenant A passes its jail's top out on an abstract name
NAME=vhsuid.$$
vh_tcpserver 127.0.0.2 18982 "$VIRTUALD" --db "$DB" red /bin/redprobe fdsendabs "$NAME" 15
socat -T 30 -u TCP:127.0.0.2:18982 - >"$F/send.out" 2>/dev/null &
S=$!
for _ in $(seq 100); do grep -q listening "$F/send.out" && break; sleep 0.05; done
as_user() { setpriv --reuid=$U --regid=$U --clear-groups "$@"; }
vh_eq "control: the host user alone cannot read tenant B's secret" "" \
	"$(as_user "$VH_REDPROBE" read "/proc/$vic/root/etc/secret" 2>/dev/null | grep -o "victim-secret-$$")"
# the colluding host user (uid 41981, no privilege)
cat >"$F/recv.py" <<'PY'
import os, socket, sys
name, victim = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
addr = b"\0" + name.encode()
s.connect(addr + b"\0" * (108 - len(addr)))
msg, fds, flags, a = socket.recv_fds(s, 1, 1)
os.set_inheritable(fds[0], True)
prog = "/proc/self/fd/%d/bin/planted" % fds[0]
os.execv(prog, [prog, "read", "/proc/%s/root/etc/secret" % victim])
PY
chmod 0644 "$F/recv.py"; chmod 0755 "$F"
got=$(as_user /usr/bin/python3 "$F/recv.py" "$NAME" "$vic" 2>&1)
echo "# host user through tenant A's descriptor: $(echo $got)"
vh_contains "the planted program ran for the host user (the descriptor leads there)" "redprobe=read" "$got"
vh_contains "... without its set-uid: euid stays the host user's" "euid=$U" "$got"
vh_not_contains "a host user colluding with tenant A cannot read tenant B's 0600 secret" "victim-secret-$$" "$got"
kill "$C" "$S" 2>/dev/null; wait "$C" "$S" 2>/dev/null
umount "$F/s"
vh_done
