#!/bin/bash
# THREATS K8: a jail inside another domain's jail. The outer domain's
# root service renames the inner jail away and puts its own in its
# place: the inner domain's next connection runs the outer tenant's
# files. Control: that attack on a layout forced past add (--force).
# Protection: add, import and migrate-inetd refuse a nested jail (and a
# database inside a jail), nothing half-applied; check reports it.
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/j
mkdir -m 0755 "$J"
vh_mkjail "$J/a" "page of a"
vh_mkjail "$J/a/b" "page of b"
vh_mkjail "$J/c" "page of c"
vh_mkjail "$J/x" "page of x"
count() { sqlite3 "$DB" "SELECT count(*) FROM domains"; }

vh_ctl add probe 127.0.0.2 "$J/a" >/dev/null 2>&1
vh_eq "K8 the outer jail is added" 0 $?
out=$(vh_ctl add probe 127.0.0.3 "$J/a/b" 2>&1)
vh_eq "K8 add refuses a jail inside another domain's jail" 72 $?
vh_contains "K8 add names the nesting" "[nested-jail] $J/a/b" "$out"
vh_eq "K8 add wrote nothing" 1 "$(count)"
# the other way round: a jail around an existing one
vh_ctl add probe 127.0.0.5 "$J/x" >/dev/null 2>&1
out=$(vh_ctl add www 127.0.0.6 "$J" 2>&1)
vh_eq "K8 add refuses a jail around other domains' jails" 72 $?
# the same jail for another service of the same domain is no nesting
vh_ctl add www 127.0.0.2 "$J/a" >/dev/null 2>&1
vh_eq "K8 one jail shared by two services is not nested" 0 $?

# import: one nested line refuses the whole file
printf '127.0.0.7 %s\n127.0.0.8 %s\n' "$J/c" "$J/a/b" >"$F/nested.conf"
out=$(vh_ctl import --service ftp "$F/nested.conf" 2>&1)
rc=$?
vh_eq "K8 import of a file with a nested jail fails" 72 "$rc"
vh_contains "K8 import names the nesting" "[nested-jail] $J/a/b" "$out"
vh_eq "K8 import: nothing half-applied" 3 "$(count)"

# migrate-inetd: the same legacy file behind an inetd.conf
cat >"$F/inetd.conf" <<EOC
127.0.0.7:
ftp stream tcp nowait root $VIRTUALD virtuald $F/nested.conf /bin/busybox httpd -i -h /www
EOC
out=$(vh_ctl migrate-inetd "$F/inetd.conf" --write --virtuald "$VIRTUALD" 2>&1)
vh_check "K8 migrate-inetd with a nested jail fails" test $? != 0
vh_contains "K8 migrate-inetd names the nesting" "[nested-jail] $J/a/b" "$out"
vh_eq "K8 migrate-inetd: nothing half-applied" 3 "$(count)"
vh_not_contains "K8 migrate-inetd: inetd.conf not rewritten" "virtuald --db" "$(cat "$F/inetd.conf")"

# the database inside a jail
mkdir -m 0755 "$J/d" "$J/d/db"
"$VHOSTCTL" --db "$J/d/db/v.db" init >/dev/null
out=$("$VHOSTCTL" --db "$J/d/db/v.db" add probe 127.0.0.2 "$J/d" 2>&1)
vh_eq "K8 add refuses a jail that holds the database" 72 $?
vh_contains "K8 the database in the jail named (issue 13: no jail without --unjailed)" "it holds the database $J/d/db/v.db" "$out"

# control: the layout forced past add, and the attack
vh_ctl add probe 127.0.0.3 "$J/a/b" --force >/dev/null 2>&1
vh_eq "K8 control: the nested layout added with --force" 0 $?
out=$(vh_ctl check 2>&1)
vh_contains "K8 check reports the nested jail" "jails: error [nested-jail] $J/a/b" "$out"
vh_tcpserver 0 18980 "$VIRTUALD" --db "$DB" probe /bin/busybox cat /www/index.html
vh_eq "K8 before the attack, b serves its own page" "page of b" "$(vh_talk 127.0.0.3 18980)"
vh_stop_last
vh_tcpserver 0 18981 "$VIRTUALD" --db "$DB" probe /bin/busybox sh -c \
	'cd / && /bin/busybox mv b b.old && /bin/busybox mkdir -p b/bin b/www && /bin/busybox cp /bin/busybox b/bin/ &&
	 echo "page of a, served as b" >b/www/index.html && echo swapped'
vh_contains "K8 control: a's root service swapped b's jail" "swapped" "$(vh_talk 127.0.0.2 18981)"
vh_stop_last
vh_tcpserver 0 18982 "$VIRTUALD" --db "$DB" probe /bin/busybox cat /www/index.html
vh_eq "K8 control: b's next connection runs a's files" "page of a, served as b" "$(vh_talk 127.0.0.3 18982)"
vh_stop_last
vh_done
