#!/bin/bash
# What a hostile service sees from inside: ids, groups, capabilities,
# descriptors, environment, cwd; and that it cannot regain root or climb
# out of its jail, as a run-as user (chroot) and as root (pivot_root in
# a private mount namespace). Each escape has its positive control: the
# same probe escapes from a plain chroot(8).
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/u" "user jail"
vh_mkjail "$J/r" "root jail"
# a directory writable by the probe inside each jail, for its experiments
mkdir -m 0777 "$J/u/tmp" "$J/r/tmp"
chmod +t "$J/u/tmp" "$J/r/tmp"
# the locale the super-server passes, as the jail's own data (a LANG the
# jail lacks reaches the service as C: test_op_4_locale.sh)
mkdir -p "$J/u/usr/lib/locale/C.utf8" "$J/r/usr/lib/locale/C.utf8" && chmod -R go-w "$J/u/usr" "$J/r/usr"
MARKER=$F/host-marker-$$
echo outside >"$MARKER"

vh_ctl add probe 127.0.0.2 "$J/u" --user nobody >/dev/null
vh_ctl add probe 127.0.0.3 "$J/r" >/dev/null

# The super-server leaves junk descriptors open, one a host directory
# (THREATS A3, D1), and junk in the environment (C1, C2).
exec 7</ 8<"$MARKER" 9>"$F/junk"
vh_tcpserver 0 18090 env LD_PRELOAD=/evil.so LD_LIBRARY_PATH=/evil IFS=x BASH_ENV=/evil GLIBC_TUNABLES=x \
	MALLOC_CHECK_=3 ENV=/evil TCPREMOTEHOST=$'evil\nhost %n' PATH=/tmp:/evil LANG=C.UTF-8 TZ=UTC LC_ALL=C \
	"$VIRTUALD" --db "$DB" probe /bin/probe info
exec 7<&- 8<&- 9>&-

# --- run-as user -----------------------------------------------------------
out=$(vh_talk 127.0.0.2 18090)
vh_contains "user: runs as nobody everywhere" "uid=65534 euid=65534 suid=65534" "$out"
vh_contains "user: gid nogroup everywhere" "gid=65534 egid=65534 sgid=65534" "$out"
vh_contains "user: only its own groups (B2)" $'groups=65534\n' "$out"
vh_contains "user: no_new_privs (A6)" "no_new_privs=1" "$out"
vh_contains "user: no effective capabilities" "cap_eff=0000000000000000" "$out"
vh_contains "user: empty bounding set (B5)" "cap_bnd=0000000000000000" "$out"
vh_contains "user: no inheritable capabilities (B5)" "cap_inh=0000000000000000" "$out"
vh_contains "user: cwd is / (A2)" "cwd=/"$'\n' "$out"
vh_contains "user: only fds 0-2 (A3, D1)" "fds=0,1,2"$'\n' "$out"
vh_contains "user: PATH is the fixed safe value (C1)" "env PATH=/usr/local/bin:/usr/bin:/bin" "$out"
vh_contains "user: TZ passes the allow-list" "env TZ=UTC" "$out"
vh_contains "user: LANG passes the allow-list" "env LANG=C.UTF-8" "$out"
vh_contains "user: LC_* passes the allow-list" "env LC_ALL=C" "$out"
vh_contains "user: PROTO set by virtuald" "env PROTO=TCP" "$out"
vh_contains "user: TCPLOCALIP computed by virtuald" "env TCPLOCALIP=127.0.0.2" "$out"
vh_contains "user: TCPLOCALPORT computed by virtuald" "env TCPLOCALPORT=18090" "$out"
vh_contains "user: TCPREMOTEIP computed by virtuald" "env TCPREMOTEIP=127.0.0.1" "$out"
vh_contains "user: VIRTUALD_SERVICE" "env VIRTUALD_SERVICE=probe" "$out"
vh_contains "user: VIRTUALD_ADDRESS is the row's address" "env VIRTUALD_ADDRESS=127.0.0.2" "$out"
for bad in LD_PRELOAD LD_LIBRARY_PATH IFS BASH_ENV GLIBC_TUNABLES MALLOC_CHECK_ ENV= TCPREMOTEHOST PATH=/tmp; do
	vh_not_contains "user: $bad does not reach the service (C1, C2)" "env $bad" "$out"
done
nenv=$(printf '%s\n' "$out" | grep -c '^env ')
vh_eq "user: exactly the allow-listed environment" 11 "$nenv"
vh_stop_last

vh_tcpserver 0 18091 "$VIRTUALD" --db "$DB" probe /bin/probe regain
out=$(vh_talk 127.0.0.2 18091)
vh_contains "user: setuid(0) fails (B3)" "setuid0=Operation not permitted" "$out"
vh_contains "user: seteuid(0) fails (B3)" "seteuid0=Operation not permitted" "$out"
vh_contains "user: setgid(0) fails (B1)" "setgid0=Operation not permitted" "$out"
vh_contains "user: setgroups fails (B2)" "setgroups0=Operation not permitted" "$out"
vh_stop_last

vh_tcpserver 0 18092 "$VIRTUALD" --db "$DB" probe /bin/probe escape "$MARKER"
# The probe runs in /; the escape needs a writable cwd: use /tmp.
vh_stop_last
vh_tcpserver 0 18092 "$VIRTUALD" --db "$DB" probe /bin/busybox sh -c "cd /tmp && exec /bin/probe escape $MARKER"
out=$(vh_talk 127.0.0.2 18092)
vh_contains "user: cannot chroot (A1)" "chroot_sub=Operation not permitted" "$out"
vh_contains "user: host marker unreachable (A1)" "escape=no" "$out"

# --- root service: private mount namespace ---------------------------------
out=$(vh_talk 127.0.0.3 18092)
vh_contains "root: may chroot (classic ftpd needs it)" "chroot_sub=ok" "$out"
vh_contains "root: host marker unreachable after the chroot trick (A1)" "escape=no" "$out"
vh_stop_last

# positive control: the same probe escapes a plain chroot(8) as root
out=$(chroot "$J/r" /bin/busybox sh -c "cd /tmp && exec /bin/probe escape $MARKER")
vh_contains "control: chroot(8) without virtuald lets root escape" "escape=yes" "$out"

vh_tcpserver 0 18093 "$VIRTUALD" --db "$DB" probe /bin/probe info
out=$(vh_talk 127.0.0.3 18093)
vh_contains "root: runs as root" "uid=0 euid=0 suid=0" "$out"
vh_contains "root: no supplementary groups (B2)" $'groups=\n' "$out"
vh_contains "root: no_new_privs" "no_new_privs=1" "$out"
vh_contains "root: CAP_SYS_ADMIN gone from the bounding set" "cap_sys_admin_bnd=0" "$out"
vh_contains "root: CAP_MKNOD gone from the bounding set" "cap_mknod_bnd=0" "$out"
vh_contains "root: CAP_SYS_CHROOT kept for ftpds" "cap_sys_chroot_bnd=1" "$out"
vh_contains "root: only fds 0-2" "fds=0,1,2"$'\n' "$out"
vh_contains "root: cwd is /" "cwd=/"$'\n' "$out"
vh_stop_last

vh_contains "root: own PID namespace, virtuald is PID 1 (A13)" "pid=2"$'\n' "$out"

# A13: a root service cannot see or signal a host process (the syslogd
# of this test); the positive control does it from a plain chroot.
victim=${VH_PIDS[0]}
vh_tcpserver 0 18097 "$VIRTUALD" --db "$DB" probe /bin/probe kill "$victim"
out=$(vh_talk 127.0.0.3 18097)
vh_contains "root: cannot signal a host process (A13)" "kill=No such process" "$out"
vh_stop_last
out=$(chroot "$J/r" /bin/probe kill "$victim")
vh_contains "control: root in a plain chroot signals the host process" "kill=ok" "$out"

# The service's exit status is passed on through both virtuald processes.
"$TCPSERVER" -v -H -l 0 -R 127.0.0.3 18098 "$VIRTUALD" --db "$DB" probe /bin/probe exit 7 >"$F/ts-v.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 18098
vh_talk 127.0.0.3 18098 >/dev/null
sleep 0.2
vh_contains "root: exit status 7 passed on to the super-server" "status 1792" "$(cat "$F/ts-v.log")"
vh_stop_last

vh_tcpserver 0 18094 "$VIRTUALD" --db "$DB" probe /bin/busybox sh -c "cd /tmp && exec /bin/probe mknod"
out=$(vh_talk 127.0.0.3 18094)
# refused twice over: no CAP_MKNOD (EPERM) and, on a Landlock kernel,
# a domain that handles device creation (EACCES, checked first)
vh_contains "root: mknod of a block device is tried (A5)" "mknod=" "$out"
vh_not_contains "root: mknod of a block device fails (A5)" "mknod=ok" "$out"
vh_stop_last
vh_tcpserver 0 18095 "$VIRTUALD" --db "$DB" probe /bin/busybox sh -c "cd /tmp && exec /bin/probe mount"
out=$(vh_talk 127.0.0.3 18095)
vh_contains "root: mount fails" "mount=Operation not permitted" "$out"
vh_stop_last

# virtuald never reads fd 0: bytes sent before exec all reach the service
vh_tcpserver 0 18096 "$VIRTUALD" --db "$DB" probe /bin/probe readall
out=$( (head -c 100000 /dev/zero; printf 'END\n') | socat -T 10 - TCP:127.0.0.2:18096 2>/dev/null)
vh_contains "every byte sent before exec reaches the service" "bytes=100004" "$out"
vh_stop_last

vh_done
