#!/bin/bash
# THREATS A9: a racer swaps a directory on the jail path with a symlink to
# a directory outside (which holds a marker and a jail of its own) while
# jails are entered. Thousands of trials through the library's jail entry
# in forked children (the fd walk, then pivot_root in a new mount
# namespace, as virtuald enters every jail), some through the real virtuald
# binary under tcpserver, and a positive control: the same path checker
# followed by chroot(path) escapes.
. "$(dirname "$0")/lib.sh"
RACE=${VH_RACE:-$VH_BUILD/tests/integration/vh_race_a9}
LOAD=${VH_LOADCLIENT:-$VH_BUILD/tests/integration/vh_loadclient}
# The plain build runs the full counts; the sanitizer build (a fork of
# an ASan process costs ten times more) runs a fifth of them.
s=1
[ -n "${VH_SANITIZE:-}" ] && s=5
PIVOT_TRIALS=${VH_A9_PIVOT_TRIALS:-$((4000 / s))}
REAL_TRIALS=${VH_A9_REAL_TRIALS:-$((2000 / s))}

B=$F/race
mkdir -m 0755 "$B"
"$RACE" setup "$B"
# fields "mode=pivot trials=N refused=R real=J escaped=X ..." -> value of KEY
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# The rule that makes A9 moot for tenants: every component is root-owned
# and not writable by group or others, so only root can swap anything.
# (lib.sh's 0700 fixture would stop the tenant before the rule does:
# searchable for this one attempt)
chmod 0755 "$F"
swapped=0
setpriv --reuid=nobody --regid=nogroup --clear-groups mv "$B/jails/sw" "$B/jails/x" 2>/dev/null && swapped=1
chmod 0700 "$F"
if [ "$swapped" = 1 ]; then
	vh_notok "a tenant swapped a component of the jail path"
else
	vh_ok "a tenant cannot swap a component of the jail path (root-owned, not group/other-writable)"
fi

# --- positive control: check the path, then chroot(path) -------------------
out=$("$RACE" trials naive $((4000 / s)) "$B")
echo "# $out"
esc=$(field escaped "$out")
[ "${esc:-0}" -gt 0 ] && vh_ok "control: check-then-chroot(path) escapes under the racer ($esc of $((4000 / s)))" ||
	vh_notok "control: the naive design never escaped: the racer is not racing ($out)"

# --- the library's jail entry ------------------------------------------------
for mode in pivot:$PIVOT_TRIALS; do
	m=${mode%%:*} n=${mode#*:}
	out=$("$RACE" trials "$m" "$n" "$B")
	echo "# $out"
	vh_eq "A9 $m: $n trials, 0 escapes" 0 "$(field escaped "$out")"
	vh_eq "A9 $m: every trial refused or in the real jail" 0 "$(field neither "$out")"
	vh_eq "A9 $m: all $n trials ran" "$n" "$(($(field refused "$out") + $(field real "$out") + $(field escaped "$out") + $(field neither "$out")))"
	# not vacuous: the racer made some trials refuse, others landed inside,
	# with the parent and with the last component swapped
	[ "$(field refused "$out")" -gt 0 ] && [ "$(field real_parent_swapped "$out")" -gt 0 ] &&
		[ "$(field real_leaf_swapped "$out")" -gt 0 ] && vh_ok "A9 $m: the race was live (refusals and entries both seen)" ||
		vh_notok "A9 $m: the race was not live: $out"
done

# --- the real binary ---------------------------------------------------------
# The real jails and the outside one all serve a page: an escape would be
# served from outside.
for j in "$B/jails/sw/j" "$B/leaf/j" "$B/outside/j"; do
	mkdir -p "$j/bin" "$j/www"
	cp /bin/busybox "$j/bin/busybox"
	chmod 0755 "$j/bin" "$j/www"
done
echo REAL-JAIL-PAGE >"$B/jails/sw/j/www/index.html"
echo REAL-JAIL-PAGE >"$B/leaf/j/www/index.html"
echo OUTSIDE-ESCAPED >"$B/outside/j/www/index.html"
vh_init_db
vh_ctl add http 127.0.0.2 "$B/jails/sw/j" --user nobody >/dev/null
vh_ctl add http 127.0.0.3 "$B/jails/sw/j" >/dev/null
vh_ctl add http 127.0.0.4 "$B/leaf/j" --user nobody >/dev/null
vh_ctl add http 127.0.0.5 "$B/leaf/j" >/dev/null
vh_tcpserver 0 18300 "$VIRTUALD" --db "$DB" http /bin/busybox httpd -i -h /www
vh_eq "real binary: the real jail is served before the race" REAL-JAIL-PAGE "$(vh_get 127.0.0.2 18300)"

"$RACE" racer "$B" &
racer=$!
VH_PIDS+=($racer)
out=$("$LOAD" -p 18300 -n "$REAL_TRIALS" -c 4 -w OUTSIDE-ESCAPED \
	127.0.0.2=REAL-JAIL-PAGE 127.0.0.3=REAL-JAIL-PAGE 127.0.0.4=REAL-JAIL-PAGE 127.0.0.5=REAL-JAIL-PAGE)
kill "$racer"
wait "$racer" 2>/dev/null
"$RACE" restore "$B"
printf '%s\n' "$out" | sed 's/^/# /'
tot=$(printf '%s\n' "$out" | grep '^total')
vh_eq "A9 real virtuald: $REAL_TRIALS connections, 0 served from outside" 0 "$(field wrong "$tot")"
vh_eq "A9 real virtuald: every connection refused or served from the real jail" 0 \
	"$(($(field other "$tot") + $(field error "$tot")))"
for a in 2 3 4 5; do
	l=$(printf '%s\n' "$out" | grep "^target 127.0.0.$a ")
	[ "$(field ok "$l")" -gt 0 ] && [ "$(field refused "$l")" -gt 0 ] &&
		vh_ok "A9 real virtuald 127.0.0.$a: the race was live (served and refused both seen)" ||
		vh_notok "A9 real virtuald 127.0.0.$a: the race was not live: $l"
done
line=$(vh_log_wait "refused service=http local=127.0.0.")
vh_contains "A9 real virtuald: a swapped path is refused with status 72" "status=72" "$line"
vh_eq "real binary: the real jail is served after the race" REAL-JAIL-PAGE "$(vh_get 127.0.0.5 18300)"
vh_stop_last

vh_done
