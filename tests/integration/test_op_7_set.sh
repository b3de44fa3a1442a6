#!/bin/bash
# Issue 13 point 7: vhostctl set changes a domain in place, in one
# transaction - its jail, run-as user, group, comment, enabled and the
# settings of sql/002. A client hammering the domain while set flips its
# jail 200 times between two jails is never refused and always gets one
# of the two pages (virtuald under tcpserver); a refused set (an unknown
# user, a jail with errors, a jail that would nest) changes nothing; a new
# jail and a new identity are checked as add checks them, --force as add
# has it. Before this point set took only the two limits: the jail flips
# fail (unknown option --root).
. "$(dirname "$0")/lib.sh"

expect() {
	local want=$1 needle=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	vh_eq "[$*] exits $want" "$want" "$rc"
	vh_contains "[$*] says '$needle'" "$needle" "$out"
}
row() { sqlite3 -readonly "$DB" "SELECT $1 FROM domains WHERE service = 'http' AND address = '127.0.0.2'"; }

vh_init_db
vh_test_user vhset-a 61741
vh_test_user vhset-b 61742
mkdir -m 0755 "$F/jails"
vh_mkjail "$F/jails/a" "page a"
vh_mkjail "$F/jails/b" "page b"
vh_ctl add http 127.0.0.2 "$F/jails/a" --user vhset-a --comment first >/dev/null
vh_tcpserver 0 19440 "$VIRTUALD" --db "$DB" http /bin/busybox httpd -i -h /www
vh_eq "before: served from jail a" "page a" "$(vh_get 127.0.0.2 19440)"

# --- each setting, in place ---------------------------------------------------
created=$(row created)
expect 0 "root $F/jails/b" vh_ctl set http 127.0.0.2 --root "$F/jails/b"
vh_eq "set --root: served from jail b" "page b" "$(vh_get 127.0.0.2 19440)"
vh_eq "set --root: the row is the same row (created kept)" "$created" "$(row created)"
vh_eq "set --root: the user stays" "vhset-a 61741" "$(row "user || ' ' || uid")"
expect 0 "user vhset-b:vhset-b (uid 61742, gid 61742)" vh_ctl set http 127.0.0.2 --user vhset-b
vh_eq "set --user: uid and gid stored" "61742 61742" "$(row "uid || ' ' || gid")"
expect 0 "user vhset-b:vhset-a" vh_ctl set http 127.0.0.2 --group vhset-a
vh_eq "set --group alone: same user, another group" "vhset-b vhset-a 61741" "$(row "user || ' ' || grp || ' ' || gid")"
expect 0 "comment second" vh_ctl set http 127.0.0.2 --comment second
vh_eq "set --comment" second "$(row comment)"
expect 0 disabled vh_ctl set http 127.0.0.2 --disable
vh_eq "set --disable: refused" "" "$(vh_get 127.0.0.2 19440)"
expect 0 enabled vh_ctl set http 127.0.0.2 --enable
vh_eq "set --enable: served" "page b" "$(vh_get 127.0.0.2 19440)"
expect 0 "user root" vh_ctl set http 127.0.0.2 --no-user --net-bind-service on
vh_eq "set --no-user: a root row" 1 "$(row "user IS NULL AND uid IS NULL AND groups = ''")"
vh_eq "set --no-user --net-bind-service on" 1 "$(row net_bind_service)"
vh_eq "a root service is served" "page b" "$(vh_get 127.0.0.2 19440)"
expect 65 "--net-bind-service off" vh_ctl set http 127.0.0.2 --user vhset-a
vh_eq "... and nothing changed" "1 " "$(row "net_bind_service || ' ' || coalesce(user, '')")"
expect 0 "user vhset-a" vh_ctl set http 127.0.0.2 --user vhset-a --net-bind-service off --max-procs 50
vh_eq "user and settings in one set" "vhset-a 0 50" "$(row "user || ' ' || net_bind_service || ' ' || max_procs")"

# --- refusals change nothing -------------------------------------------------
before=$(vh_ctl list --json)
expect 64 "nothing to set" vh_ctl set http 127.0.0.2
expect 64 "contradict" vh_ctl set http 127.0.0.2 --user vhset-a --no-user
expect 64 "contradict" vh_ctl set http 127.0.0.2 --enable --disable
expect 68 "no domain" vh_ctl set http 127.0.0.9 --root "$F/jails/a"
expect 67 "unknown user" vh_ctl set http 127.0.0.2 --root "$F/jails/a" --user vhset-nosuch --comment x
expect 65 "relative" vh_ctl set http 127.0.0.2 --root jails/a
vh_eq "refused sets changed nothing" "$before" "$(vh_ctl list --json)"
vh_eq "... and it is served from jail b still" "page b" "$(vh_get 127.0.0.2 19440)"
# a jail with errors (writable by others) as add refuses it; --force as add
mkdir -m 0755 "$F/jails/w"
vh_mkjail "$F/jails/w" "page w"
chmod 0777 "$F/jails/w/www"
expect 72 "or set anyway with --force" vh_ctl set http 127.0.0.2 --root "$F/jails/w"
vh_eq "a jail with errors: nothing changed" "$before" "$(vh_ctl list --json)"
# K8: a jail inside another domain's
vh_ctl add http 127.0.0.3 "$F/jails/b" --user vhset-b >/dev/null
mkdir -m 0755 "$F/jails/b/inner"
vh_mkjail "$F/jails/b/inner" "page inner"
before=$(vh_ctl list --json)
expect 72 "would nest" vh_ctl set http 127.0.0.2 --root "$F/jails/b/inner"
vh_eq "a nesting jail: nothing changed" "$before" "$(vh_ctl list --json)"
expect 0 "root $F/jails/b/inner" vh_ctl set http 127.0.0.2 --root "$F/jails/b/inner" --force
vh_eq "--force: moved" "page inner" "$(vh_get 127.0.0.2 19440)"
vh_ctl remove http 127.0.0.3 >/dev/null
vh_ctl set http 127.0.0.2 --root "$F/jails/a" >/dev/null

# --- 200 flips under load: never refused, always one of the two pages --------
vh_eq "before the flips: jail a" "page a" "$(vh_get 127.0.0.2 19440)"
stop=$F/stop
(
	while [ ! -e "$stop" ]; do
		printf '%s\n' "$(vh_get 127.0.0.2 19440)"
	done
) >"$F/hammer.out" &
client=$!
fails=0
for i in $(seq 200); do
	j=b
	[ $((i % 2)) = 0 ] && j=a
	vh_ctl set http 127.0.0.2 --root "$F/jails/$j" >/dev/null 2>>"$F/flips.err" || fails=$((fails + 1))
done
touch "$stop"
wait "$client"
vh_eq "200 set --root flips succeeded" 0 "$fails"
total=$(wc -l <"$F/hammer.out")
vh_check "the client was served during the flips ($total requests)" test "$total" -ge 20
vh_eq "no request was refused or got another page" "" "$(grep -v -x -e 'page a' -e 'page b' "$F/hammer.out" | sort | uniq -c)"
vh_check "both pages were seen" grep -q -x 'page b' "$F/hammer.out"
vh_eq "after the flips: jail a (the 200th)" "page a" "$(vh_get 127.0.0.2 19440)"
# --- comments are printable UTF-8 (they go out as JSON and to terminals)
vh_ctl add http 127.0.0.40 "$F/jails/a" --user nobody --comment "$(printf 'caf\xe9')" >/dev/null 2>&1
vh_eq "add --comment with bytes that are not UTF-8: refused (65)" 65 $?
vh_ctl add http 127.0.0.40 "$F/jails/a" --user nobody --comment "café – ok" >/dev/null 2>&1
vh_eq "add --comment in UTF-8: taken" 0 $?
vh_ctl set http 127.0.0.40 --comment "$(printf 'a\033[2Jb')" >/dev/null 2>&1
vh_eq "set --comment with a control character: refused (65)" 65 $?
vh_ctl set http 127.0.0.40 --comment "$(printf '\xc0\xaf')" >/dev/null 2>&1
vh_eq "set --comment with an overlong form: refused (65)" 65 $?
vh_check "list --json is valid JSON" bash -c "'$VHOSTCTL' --db '$DB' list --json | jq -e . >/dev/null"
vh_ctl remove http 127.0.0.40 >/dev/null
vh_done
