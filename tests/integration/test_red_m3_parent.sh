#!/bin/bash
# THREATS M3, the parent: /run/virtuald writable by another user (an
# operator's chmod) let that user move /run/virtuald/running aside while
# slots were held; the next connection made a fresh directory and a limit
# of 1 served 2. virtuald now refuses a limited row (78) unless
# /run/virtuald is root's alone; an unlimited row pays nothing for the
# check and is served as ever.
# /run/virtuald is a tmpfs of this test's own mount namespace. Loopback
# only, ports 19960-19969.
. "$(dirname "$0")/lib.sh"

mkdir -p /run/virtuald
mount -t tmpfs -o mode=0755 tmpfs /run/virtuald
vh_init_db
vh_mkjail "$F/a" "page A"
vh_mkjail "$F/b" "page B"
vh_ctl add http 127.0.0.2 "$F/a" --user nobody --max-instances 1 >/dev/null
vh_ctl add http 127.0.0.3 "$F/b" --user nobody >/dev/null
vh_tcpserver 0.0.0.0 19960 "$VIRTUALD" --db "$DB" http /bin/probe sleep 30
vh_tcpserver 0.0.0.0 19961 "$VIRTUALD" --db "$DB" http /bin/probe info

HELD=()
hold() {
	socat -T 40 -u "TCP:$1:$2" /dev/null >/dev/null 2>&1 &
	HELD+=($!)
	VH_PIDS+=($!)
}
served() {
	grep -a -c "served service=http local=$1" "$F/syslog" || true
}

# control: root's 0755 parent, the limit holds
hold 127.0.0.2 19960
sleep 0.8
hold 127.0.0.2 19960
sleep 0.8
vh_eq "control: one served under a limit of 1" 1 "$(served 127.0.0.2:19960)"
vh_check "control: the second refused with 75" grep -a -q "127.0.0.2:19960.*status=75" "$F/syslog"

# the attack: the parent made world-writable, nobody moves running/ aside
chmod 0777 /run/virtuald
vh_check "attack: nobody can move running/ in a 0777 parent" \
	setpriv --reuid=65534 --regid=65534 --clear-groups mv /run/virtuald/running /run/virtuald/old
hold 127.0.0.2 19960
sleep 0.8
vh_eq "M3 parent: a limited row is not served past its limit" 1 "$(served 127.0.0.2:19960)"
vh_check "M3 parent: refused with 78 naming /run/virtuald" \
	grep -a -q 'status=78 reason="/run/virtuald is not a root-owned directory' "$F/syslog"
out=$(vh_talk 127.0.0.3 19961)
vh_contains "M3 parent: an unlimited row is still served" "uid=" "$out"
vh_check "M3 parent: ... and tracked as ever (the check is the limits', and costs unlimited rows nothing)" \
	grep -a -q "served service=http local=127.0.0.3" "$F/syslog"

# a group-writable parent, and a symlink as the parent, are refused too
chmod 0775 /run/virtuald
hold 127.0.0.2 19960
sleep 0.8
vh_eq "M3 parent: group-writable refused" 2 "$(grep -a -c 'status=78 reason="/run/virtuald is not' "$F/syslog")"
chmod 0755 /run/virtuald
rm -rf /run/virtuald/running
hold 127.0.0.2 19960
sleep 0.8
vh_eq "M3 parent control: root's 0755 again, served (the moved slot is forgotten)" 2 "$(served 127.0.0.2:19960)"
vh_done
