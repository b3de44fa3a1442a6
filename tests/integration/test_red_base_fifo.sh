#!/bin/bash
# Red team of issue 14 point 5 (the shared base): a read-only bind stops
# no FIFO and no unix socket - the kernel checks a read-only mount only
# for regular files, directories and symlinks. A FIFO (or a socket) in a
# base's code directories is one object in every jail of the base: tenant
# A writes into it, tenant B reads what A wrote (or a host process
# behind a socket talks to all of them). The tenants cannot make one
# (the bind is read-only); the operator's base can hold one (a package's
# runtime directory under usr, a copy with cp -a), and check said
# nothing about the FIFO and only warned about the socket. Expected: in a
# base, a FIFO or a socket is an error of check and of add/set --base.
# Ports 20710-20719.
. "$(dirname "$0")/lib.sh"

vh_init_db
vh_test_user redfifa 41921
vh_test_user redfifb 41922
S=$F/srv
mkdir -m 0755 "$S" "$S/jails"
BASE=$S/base
vh_ctl provision "$BASE" --program /bin/busybox >/dev/null 2>&1
vh_eq "provision builds the base" 0 "$?"
mkdir -p -m 0755 "$BASE/usr/share"
for c in a b; do
	mkdir -m 0755 "$S/jails/$c" "$S/jails/$c/etc"
done
vh_ctl add send 127.0.0.2 "$S/jails/a" --user redfifa --base "$BASE" >/dev/null 2>&1
vh_eq "tenant A with the base" 0 "$?"
vh_ctl add recv 127.0.0.3 "$S/jails/b" --user redfifb --base "$BASE" >/dev/null 2>&1
vh_eq "tenant B with the base" 0 "$?"

# the channel: what A writes into the base's FIFO, B reads
mkfifo -m 0666 "$BASE/usr/share/chan"
vh_tcpserver 127.0.0.2 20710 "$VIRTUALD" --db "$DB" send /bin/busybox sh -c 'echo from-tenant-A >/usr/share/chan'
vh_tcpserver 127.0.0.3 20711 "$VIRTUALD" --db "$DB" recv /bin/busybox timeout 5 /bin/busybox cat /usr/share/chan
vh_talk 127.0.0.3 20711 >"$F/recv.out" &
r=$!
sleep 0.5
vh_talk 127.0.0.2 20710 >/dev/null
wait "$r"
echo "# the channel through the read-only base: B read '$(cat "$F/recv.out")'"

out=$(vh_ctl check recv 127.0.0.3 2>&1)
vh_contains "check: a FIFO in the base is an error" "error [fifo] $BASE/usr/share/chan" "$out"
out=$(vh_ctl set recv 127.0.0.3 --base "$BASE" 2>&1)
vh_eq "set --base refuses a base holding a FIFO (EX_OSFILE)" 72 "$?"
rm "$BASE/usr/share/chan"

python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('$BASE/usr/share/sock')"
out=$(vh_ctl check recv 127.0.0.3 2>&1)
vh_contains "check: a socket in the base is an error" "error [socket] $BASE/usr/share/sock" "$out"
out=$(vh_ctl set recv 127.0.0.3 --base "$BASE" 2>&1)
vh_eq "set --base refuses a base holding a socket (EX_OSFILE)" 72 "$?"
rm "$BASE/usr/share/sock"

# a FIFO outside the code directories is bound into no jail: not a finding
mkdir -p -m 0755 "$BASE/var"
mkfifo -m 0600 "$BASE/var/fifo"
out=$(vh_ctl check recv 127.0.0.3 2>&1)
vh_not_contains "control: a FIFO the base does not bind is no base error" "[fifo]" "$out"
out=$(vh_ctl set recv 127.0.0.3 --base "$BASE" 2>&1)
vh_eq "control: set --base takes the clean base" 0 "$?"
vh_done
