#!/bin/bash
# What virtuald does between entering the jail and exec, seen by
# `strace -f` (THREATS A10, C3, D2): no file is opened and no socket
# connected between chroot/pivot_root and the service's execve, for a
# run-as service and a root service, also with locale and timezone tricks
# in the environment; with fds 1 and 2 closed at start, nothing virtuald
# opens lands on fds 0-2. Positive controls: coreutils chroot(8)
# --userspec resolves the user inside the jail (it opens files there after
# chroot), and a plain program run with fds 1 and 2 closed gets its file
# on fd 1 - the same checks catch both.
. "$(dirname "$0")/lib.sh"
STRACE=$(command -v strace)

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/u" "user jail"
vh_mkjail "$J/r" "root jail"
# C3: the files a confused virtuald would read from the jail
mkdir -m 0755 "$J/u/jail" "$J/r/jail" "$J/u/etc" "$J/r/etc"
echo "TZif-evil" >"$J/u/jail/evil"
echo "TZif-evil" >"$J/r/jail/evil"
printf 'passwd: evil\ngroup: evil\n' >"$J/u/etc/nsswitch.conf"
echo "nobody:x:0:0::/:/bin/sh" >"$J/u/etc/passwd"
echo "nogroup:x:0:" >"$J/u/etc/group"
vh_ctl add probe 127.0.0.2 "$J/u" --user nobody >/dev/null
vh_ctl add probe 127.0.0.3 "$J/r" >/dev/null

# window TRACE: the trace lines after the jail entry - the first
# successful pivot_root (virtuald's), or chroot where the trace has no
# pivot_root (chroot(8), the control; a root service's user-namespace
# helper chroots to leave an outer chroot before the jail, and writes
# its maps through /proc then) - and before the next successful execve
# (the service's).
window() {
	local entry='chroot'
	grep -qE 'pivot_root\(.*\) += 0' "$1" && entry='pivot_root'
	awk -v e="$entry" '!w && $0 ~ (e "\\(.*\\) += 0") { w = 1; next }
	     w && /execve\(.*\) += 0/ { exit }
	     w { print }' "$1"
}
# opens TEXT: lines that open a file or reach a socket
opens() {
	grep -E '(^|[0-9] +)(open|openat|openat2|creat|open_by_handle_at|name_to_handle_at|socket|connect|bind)\(|<\.\.\. (open|openat|openat2|creat|socket|connect) resumed>' <<<"$1"
}

# traced NAME PORT ADDR [ENV...]: one connection to the probe's "info"
# through virtuald under strace -f; the trace lands in $F/NAME.trace.
traced() {
	local name=$1 port=$2 addr=$3
	shift 3
	vh_tcpserver 0 "$port" env "$@" "$STRACE" -f -qq -s 256 -o "$F/$name.trace" \
		"$VIRTUALD" --db "$DB" probe /bin/probe info
	OUT=$(vh_talk "$addr" "$port")
	vh_stop_last
}

# --- A10: nothing opened between chroot/pivot_root and exec -----------------
for kind in user:127.0.0.2 root:127.0.0.3; do
	k=${kind%%:*} a=${kind#*:}
	port=$((18800 + ${a##*.}))
	traced "a10-$k" $port $a
	vh_contains "A10 $k: the probe ran under strace" "probe=info" "$OUT"
	w=$(window "$F/a10-$k.trace")
	vh_check "A10 $k: the trace holds the jail entry and the exec" grep -qE '(chroot|pivot_root)\(.*\) += 0' "$F/a10-$k.trace"
	vh_eq "A10 $k: no open/openat/socket/connect between jail entry and execve" "" "$(opens "$w")"
	# not vacuous: virtuald did work in that window (the served log line)
	vh_check "A10 $k: the served line is sent inside the window, on the socket opened before" \
		grep -qE '(sendto|sendmsg|send|write)\([0-9]+, "<30>' <<<"$w"
done

# positive control: chroot(8) --userspec resolves the user inside the jail
"$STRACE" -f -qq -o "$F/ctl.trace" chroot --userspec=nobody:nogroup "$J/u" /bin/probe info >/dev/null 2>&1
w=$(window "$F/ctl.trace")
c=$(opens "$w" | grep -c -E 'nsswitch|passwd|group' || true)
[ "$c" -gt 0 ] && vh_ok "control: chroot(8) --userspec opens the jail's user database after chroot ($c opens)" ||
	vh_notok "control: the window check saw nothing in chroot(8): $(head -c 2000 <<<"$w")"

# --- C3: locale and timezone tricks ------------------------------------------
# the jails hold the locale (a directory, as localedef makes it), so that
# LANG reaches the service: virtuald only stats it after entering the
# jail, it opens nothing there (issue 13 point 4)
mkdir -p "$J/u/usr/lib/locale/tr_TR.utf8" "$J/r/usr/lib/locale/tr_TR.utf8" && chmod -R go-w "$J/u/usr" "$J/r/usr"
for kind in user:127.0.0.2 root:127.0.0.3; do
	k=${kind%%:*} a=${kind#*:}
	port=$((18810 + ${a##*.}))
	traced "c3-$k" $port $a LANG=tr_TR.UTF-8 LC_ALL=tr_TR.UTF-8 TZ=:/jail/evil
	vh_contains "C3 $k: served as usual" "probe=info" "$OUT"
	vh_contains "C3 $k: TZ reaches the service (allow-list)" "env TZ=:/jail/evil" "$OUT"
	vh_contains "C3 $k: LANG reaches the service (allow-list)" "env LANG=tr_TR.UTF-8" "$OUT"
	line=$(vh_log_wait "served service=probe local=$a:$port")
	vh_contains "C3 $k: the served line is the usual one" "domain=probe/$a rule=exact" "$line"
	w=$(window "$F/c3-$k.trace")
	vh_eq "C3 $k: no open between jail entry and execve" "" "$(opens "$w")"
	vh_check "C3 $k: the jail's locale is asked for by stat, inside the jail" \
		grep -qE 'stat[a-z0-9]*\(.*"/usr/lib/locale/tr_TR\.utf8"' <<<"$w"
	# before the jail, virtuald opened no locale file, and the TZ file only
	# by its host path (which does not exist): nothing from the jail
	pre=$(awk '/(chroot|pivot_root)\(.*\) += 0/ { exit } { print }' "$F/c3-$k.trace")
	vh_eq "C3 $k: no locale file opened" "" "$(grep -E 'open.*(locale|LC_|\.mo")' <<<"$pre")"
	vh_eq "C3 $k: nothing under the jail opened except by the O_PATH walk" "" \
		"$(grep -E "open.*\"$J/" <<<"$pre" | grep -v O_PATH)"
	vh_eq "C3 $k: the TZ file was not read from the jail" "" "$(grep -E '"/jail/evil".* = [0-9]' "$F/c3-$k.trace")"
done

# --- D2: fds 1 and 2 closed at start ------------------------------------------
vh_tcpserver 0 18820 "$STRACE" -f -qq -s 256 -o "$F/d2.trace" \
	sh -c 'exec 1>&- 2>&-; exec "$0" "$@"' "$VIRTUALD" --db "$DB" probe /bin/probe stdio
out=$(vh_talk 127.0.0.2 18820)
vh_eq "D2 user: the service is served, fds 1 and 2 are /dev/null fillers" "fd0=socket fd1=chr:1:3 fd2=chr:1:3" "$out"
out=$(vh_talk 127.0.0.3 18820)
vh_eq "D2 root: the service is served, fds 1 and 2 are /dev/null fillers" "fd0=socket fd1=chr:1:3 fd2=chr:1:3" "$out"
vh_stop_last
dbfd=$(grep -E "openat\(.*\"$DB\"" "$F/d2.trace" | sed -n "s/.* = *\\([0-9-]*\\)$/\\1/p" | sort -n | head -1)
[ -n "$dbfd" ] && [ "$dbfd" -ge 3 ] && vh_ok "D2: the database was opened on fd $dbfd (never 0-2)" ||
	vh_notok "D2: database fd '$dbfd' ($(grep -E "openat\(.*\"$DB\"" "$F/d2.trace" | head -3))"
logfd=$(grep -E 'socket\(AF_UNIX' "$F/d2.trace" | sed -n "s/.* = *\\([0-9-]*\\)$/\\1/p" | sort -n | head -1)
[ -n "$logfd" ] && [ "$logfd" -ge 3 ] && vh_ok "D2: the syslog socket is fd $logfd (never 0-2)" ||
	vh_notok "D2: syslog socket fd '$logfd'"
# positive control: without the fillers a file opened first lands on fd 1
"$STRACE" -f -qq -o "$F/d2ctl.trace" sh -c 'exec 1>&- 2>&-; exec busybox cat "$0"' "$DB" </dev/null
ctl=$(grep -E "open.*\"$DB\"" "$F/d2ctl.trace" | sed -n "s/.* = *\\([0-9-]*\\)$/\\1/p" | head -1)
vh_eq "control: without fillers the database would be fd 1" 1 "$ctl"

vh_done
