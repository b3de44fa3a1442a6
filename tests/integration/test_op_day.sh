#!/bin/bash
# Issue 13, "Done when": the operator's day, scripted. The Virtual
# Services HOWTO's installation - its inetd.conf and conf files, with the
# HOWTO's own `default /` - migrated in one command and served by a real
# openbsd-inetd; the `/` line refused until the operator says what it
# means; rows changed in place with `set` while inetd serves them; the
# history of every change shown; the findings of `check` fixed or
# accepted, with reasons, until `check` exits 0.
. "$(dirname "$0")/lib.sh"

DATA=$VH_SRC/tests/integration/data/legacy
INETD=$(command -v inetd || echo /usr/sbin/inetd)
V=$F/virtual
mkdir -m 0755 "$V"
vh_mkjail "$V/domain1.com" "domain1"
vh_mkjail "$V/domain2.com" "domain2"
vh_mkjail "$V/default" "ftp default"
vh_mkjail "$V/pop1" "pop one"
vh_mkjail "$V/popdefault" "pop default"
vh_init_db
data() { sed -e "s|@F@|$F|g" "$DATA/$1" >"$2"; }
data howto_inetd.conf "$F/inetd.conf"
data howto_conf.pop "$V/conf.pop"
# the HOWTO's own sample: its default line serves the host's /
data howto_conf.ftp "$V/conf.ftp"
sed -i "s|^default .*|default /|" "$V/conf.ftp"
chmod 0644 "$V/conf.ftp" "$V/conf.pop"
rows() { sqlite3 "$DB" "SELECT count(*) FROM domains"; }

# --- 1. migrate: `default /` is an error, with the way to keep it ---------
out=$(vh_ctl migrate-inetd "$F/inetd.conf" --write --virtuald "$VIRTUALD" 2>&1)
vh_eq "migrate-inetd with the HOWTO's 'default /': refused" 65 $?
vh_contains "the error names the line" "$V/conf.ftp:8: error: / is no jail" "$out"
vh_contains "and the way to keep the old meaning on purpose" "--unjailed" "$out"
vh_eq "nothing imported" 0 "$(rows)"
vh_check "inetd.conf untouched" test ! -e "$F/inetd.conf.bak"
# the operator keeps it on purpose for now, and migrates in one command
vh_ctl migrate-inetd "$F/inetd.conf" --write --virtuald "$VIRTUALD" --unjailed >"$F/migrate.out" 2>&1
vh_eq "migrate-inetd --unjailed: done" 0 $?
vh_eq "five domains imported" 5 "$(rows)"
vh_eq "only the '/' row is marked unjailed" "ftp|default" \
	"$(sqlite3 "$DB" "SELECT service || '|' || address FROM domains WHERE unjailed = 1")"
vh_contains "the converted lines run this virtuald" "$VIRTUALD" "$(grep -v '^#' "$F/inetd.conf" | grep ftp)"
vh_not_contains "and not the legacy program's path" "/usr/local/bin/virtuald" "$(grep -v '^#' "$F/inetd.conf")"

# --- 2. served by a real openbsd-inetd (ports in this test's namespace) ----
sed -e '/^ftp[[:space:]]/d' -e '/^pop3[[:space:]]/d' /etc/services >"$F/services"
printf 'ftp\t\t19501/tcp\npop3\t\t19502/tcp\tpop-3\n' >>"$F/services"
mount --bind "$F/services" /etc/services
"$INETD" -d -R 10000 "$F/inetd.conf" >"$F/inetd.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 19501 && vh_wait_listen 19502
vh_eq "ftp on 127.0.0.2: domain1.com" "domain1" "$(vh_get 127.0.0.2 19501)"
vh_eq "ftp on 127.0.0.3: domain2.com" "domain2" "$(vh_get 127.0.0.3 19501)"
vh_eq "pop-3 on 127.0.0.2: pop1" "pop one" "$(vh_get 127.0.0.2 19502)"
vh_eq "pop-3 on 127.0.0.4: its default" "pop default" "$(vh_get 127.0.0.4 19502)"
vh_log_mark
vh_get 127.0.0.4 19501 >/dev/null
vh_contains "ftp on 127.0.0.4: the unjailed default, on the host, said in the log" "unjailed=1" \
	"$(vh_log_wait "served service=ftp local=127.0.0.4")"

# --- 3. changes in place while inetd serves ---------------------------------
# the default gets a jail of its own: the mark goes with the new root
vh_ctl set ftp default --root "$V/default" >/dev/null
vh_eq "set --root: the default has a jail now, and no mark" "$V/default|0" \
	"$(sqlite3 "$DB" "SELECT root || '|' || unjailed FROM domains WHERE service = 'ftp' AND address = 'default'")"
vh_eq "ftp on 127.0.0.4: the new jail at once" "ftp default" "$(vh_get 127.0.0.4 19501)"
# a run-as user for the customers, a comment, without a window
for a in 127.0.0.2 127.0.0.3; do
	vh_ctl set ftp $a --user nobody --comment "customer $a" >/dev/null
	vh_ctl set pop-3 $a --user nobody >/dev/null 2>&1
done
vh_ctl set pop-3 default --user nobody >/dev/null
vh_log_mark
vh_eq "ftp on 127.0.0.2 after set --user: still domain1" "domain1" "$(vh_get 127.0.0.2 19501)"
vh_contains "and it runs as nobody now" "user=nobody" "$(vh_log_wait "served service=ftp local=127.0.0.2")"

# --- 4. the history of the day ---------------------------------------------
h=$(vh_ctl history)
vh_contains "history: the migration's summary" "migrate-inetd" "$h"
vh_contains "history: the set of the default's root" "set ftp default --root" "$h"
hj=$(vh_ctl history ftp default --json)
vh_eq "history ftp default: the migration marked it, set moved it" "/|$V/default" \
	"$(printf '%s' "$hj" | jq -r '.[-1] | "\(.before.root)|\(.after.root)"')"
vh_eq "every change of the day has its entry (the migration, 5 sets; the refused set of a missing pop-3 row none)" 6 \
	"$(sqlite3 "$DB" "SELECT count(*) FROM history WHERE command NOT LIKE 'init%'")"

# --- 5. check until green ----------------------------------------------------
vh_ctl check >"$F/check1" 2>&1
rc=$?
vh_check "check before: findings remain (exit $rc)" test "$rc" -ne 0
# what is left - the default that still runs as root, and the customers
# that share nobody here - is accepted, kind by kind, with the reason
for k in $(grep -o 'warning \[[a-z-]*\]' "$F/check1" | sort -u | tr -d '[]' | cut -d' ' -f2); do
	grep "warning \[$k\]" "$F/check1" | grep -o '^[^:]*' | sort -u | while read -r dom; do
		vh_ctl accept "$k" --domain "${dom%%/*}" "${dom#*/}" --reason "reviewed on the operator's day" >/dev/null 2>>"$F/accept.err"
	done
done
vh_eq "no acceptance was refused" "" "$(cat "$F/accept.err")"
vh_ctl check >"$F/check2" 2>&1
vh_eq "check after the accepted findings: exit 0" 0 $?
vh_contains "check counts the accepted findings apart" "accepted" "$(cat "$F/check2")"
vh_ctl check --all >"$F/check3" 2>&1
vh_contains "check --all shows them with the reason" "reviewed on the operator's day" "$(cat "$F/check3")"
vh_done
