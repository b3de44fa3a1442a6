#!/bin/bash
# Issue 14 point 1: provision never loses what is there. One jail serves
# two services under two users (busybox httpd with a CGI as svca, busybox
# whoami as svcb; each needs its own user in the jail's /etc/passwd to
# answer). Provisioning the jail for one service, then the other, then
# again for the first keeps both serving: the jail's /etc/passwd and
# /etc/group are merged, not rewritten with root and one user. Plus
# several --users in one run, and a conflict refused with both entries
# named and nothing written. Ports 19600-19619.
. "$(dirname "$0")/lib.sh"

vh_init_db
vh_test_user svca 41660
vh_test_user svcb 41661
vh_test_user svcc 41662
mkdir -m 0755 "$F/jails"
J=$F/jails/shared

# serves: the answers of both services, one line each.
serves() {
	printf 'A=%s B=%s' "$(vh_get 127.0.0.61 19600 /cgi-bin/who | tr -d '\r\n')" \
		"$(vh_talk 127.0.0.62 19601 | tr -d '\r\n')"
}

out=$(vh_ctl provision "$J" --program /bin/busybox --user svca 2>&1)
vh_eq "provision for service A exits 0" 0 "$?"
out=$(vh_ctl provision "$J" --program /bin/busybox --user svcb 2>&1)
vh_eq "provision for service B exits 0" 0 "$?"
vh_eq "the jail's passwd: root and both users" "root svca svcb" "$(cut -d: -f1 "$J/etc/passwd" | xargs)"
vh_eq "the jail's group: root and both groups" "root svca svcb" "$(cut -d: -f1 "$J/etc/group" | xargs)"

mkdir -m 0755 "$J/www" "$J/www/cgi-bin"
printf '#!/bin/busybox sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\n/bin/busybox id -un\n' >"$J/www/cgi-bin/who"
chmod 0755 "$J/www/cgi-bin/who"
vh_check "add service A (httpd as svca)" vh_ctl add http 127.0.0.61 "$J" --user svca --force
vh_check "add service B (whoami as svcb)" vh_ctl add who 127.0.0.62 "$J" --user svcb --force
vh_tcpserver 127.0.0.61 19600 "$VIRTUALD" --db "$DB" http /bin/busybox httpd -i -h /www
vh_tcpserver 127.0.0.62 19601 "$VIRTUALD" --db "$DB" who /bin/busybox whoami
vh_eq "both services serve, each under its name" "A=svca B=svcb" "$(serves)"

# The bug: re-provisioning for A dropped B's user, and B stopped serving.
out=$(vh_ctl provision "$J" --program /bin/busybox --user svca 2>&1)
vh_eq "re-provision for service A exits 0" 0 "$?"
vh_contains "re-provision for A changes nothing" "provisioned $J: 0 changes" "$out"
vh_eq "after re-provisioning A, both still serve" "A=svca B=svcb" "$(serves)"
out=$(vh_ctl provision "$J" --program /bin/busybox 2>&1)
vh_eq "re-provision as a root service exits 0" 0 "$?"
vh_eq "after re-provisioning without --user, both still serve" "A=svca B=svcb" "$(serves)"

# Several --users in one run, merged with what is there.
out=$(vh_ctl provision "$J" --program /bin/busybox --user svcc --user svca 2>&1)
vh_eq "provision with two --users exits 0" 0 "$?"
vh_eq "the third user appended, none dropped" "root svca svcb svcc" "$(cut -d: -f1 "$J/etc/passwd" | xargs)"
vh_eq "its group appended" "root svca svcb svcc" "$(cut -d: -f1 "$J/etc/group" | xargs)"
vh_eq "after provisioning two users at once, both still serve" "A=svca B=svcb" "$(serves)"
out=$(vh_ctl provision "$J" --program /bin/busybox --user svca --user svcb --group svca 2>&1)
vh_eq "--group with several --users: usage error" 64 "$?"

# A conflict: the jail lists svcb under another uid. Refused, both named,
# nothing written (not even a missing /dev/null).
sed -i 's/^svcb:x:41661:/svcb:x:41700:/' "$J/etc/passwd"
before=$(sha256sum "$J/etc/passwd" "$J/etc/group")
rm "$J/dev/null"
out=$(vh_ctl provision "$J" --program /bin/busybox --user svcb 2>&1)
rc=$?
vh_eq "conflicting svcb: provision exits 65 (data error)" 65 "$rc"
vh_contains "the conflict names the jail's line" "line 3 of the jail's /etc/passwd 'svcb:x:41700:41661::/:/nonexistent'" "$out"
vh_contains "and the host's entry" "conflicts with --user svcb's entry 'svcb' (uid 41661, gid 41661)" "$out"
vh_eq "the conflict wrote nothing" "$before" "$(sha256sum "$J/etc/passwd" "$J/etc/group")"
vh_check "the conflict made no /dev/null" test ! -e "$J/dev/null"
sed -i 's/^svcb:x:41700:/svcb:x:41661:/' "$J/etc/passwd"

# A malformed line is named, never dropped.
echo 'garbage line' >>"$J/etc/group"
out=$(vh_ctl provision "$J" --program /bin/busybox --user svca 2>&1)
vh_eq "malformed group line: exit 65" 65 "$?"
vh_contains "the line is named" "$J/etc/group line 5 is malformed (not 4 fields name:password:gid:members): 'garbage line'" "$out"
vh_check "the line is still there" grep -qx 'garbage line' "$J/etc/group"
sed -i '/^garbage line$/d' "$J/etc/group"
out=$(vh_ctl provision "$J" --program /bin/busybox --user svca 2>&1)
vh_eq "repaired: provision exits 0" 0 "$?"
vh_eq "repaired: both serve" "A=svca B=svcb" "$(serves)"

vh_done
