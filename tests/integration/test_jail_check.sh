#!/bin/bash
# Jails end to end (PRODUCT §7, THREATS A4-A8, A11-A13):
# - provision a jail for a dynamically linked coreutils program, add it,
#   and serve a real connection through tcpserver and virtuald, first time;
# - a fixture jail per finding, each giving exactly its finding with a fix;
# - one deliberately broken jail naming every planted problem;
# - check's exit codes, --json parsed with jq, add refusing errors.
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
PORT=$((18400 + $$ % 500))

# check_kinds SERVICE ADDRESS [--program P]...: the sorted, unique kinds
# of the domain's findings (shared-uid left out: every fixture runs as
# nobody on purpose, so they share a uid).
check_kinds() {
	vh_ctl check "$@" --json | jq -r '[.[] | select(.kind != "shared-uid") | .kind] | unique | join(" ")'
}
jqe() { jq -e "$@" >/dev/null; }

# --- provision, add, serve: a new user's first time ----------------------
WEB=$J/web
out=$(vh_ctl provision "$WEB" --program /usr/bin/cat --user nobody 2>&1)
vh_check "provision exits 0" test $? = 0
vh_contains "provision reports the program" "created $WEB/usr/bin/cat" "$out"
vh_contains "provision reports the interpreter" "created $WEB/lib64/ld-linux-x86-64.so.2" "$out"
vh_contains "provision reports libc" "created $WEB/lib/x86_64-linux-gnu/libc.so.6" "$out"
vh_check "provision made /dev/null 1:3 0666" test "$(stat -c '%F %t:%T %a %u' "$WEB/dev/null")" = "character special file 1:3 666 0"
vh_check "provision made /dev/urandom 1:9" test "$(stat -c '%t:%T' "$WEB/dev/urandom")" = "1:9"
vh_eq "jail passwd holds only root and the run-as user" "root nobody" "$(cut -d: -f1 "$WEB/etc/passwd" | xargs)"
vh_eq "jail group holds only root and the run-as group" "root nogroup" "$(cut -d: -f1 "$WEB/etc/group" | xargs)"
vh_eq "nothing group/other-writable, everything root's" "" "$(find "$WEB" \( -perm /022 -a ! -type c \) -o ! -user root | head -3)"
out=$(vh_ctl provision "$WEB" --program /usr/bin/cat --user nobody)
vh_check "second provision succeeds" test $? = 0
vh_contains "second provision changes nothing" "0 changes" "$out"

mkdir -m 0755 "$WEB/www"
echo "hello from a provisioned jail" >"$WEB/www/page"
out=$(vh_ctl add jtest 127.0.0.21 "$WEB" --user nobody 2>&1)
vh_check "add of the provisioned jail succeeds" test $? = 0
vh_not_contains "add prints no finding for it" "[" "$out"
out=$(vh_ctl check jtest 127.0.0.21 --program cat 2>&1)
rc=$?
vh_eq "check of the provisioned jail with its program: exit 0" 0 "$rc"
vh_eq "check of the provisioned jail prints only its summary" \
	"checked the database and 1 domain: 0 errors, 0 warnings" "$out"
vh_eq "--json with nothing to say is []" "[]" "$(vh_ctl check jtest 127.0.0.21 --json | jq -c .)"

vh_tcpserver 127.0.0.21 "$PORT" "$VIRTUALD" --db "$DB" jtest cat /www/page
vh_eq "cat in the provisioned jail served a real connection" "hello from a provisioned jail" \
	"$(socat -u TCP:127.0.0.21:"$PORT",connect-timeout=5 - 2>/dev/null)"
vh_stop_last

# --- one fixture jail per finding ---------------------------------------
# fixture NAME ADDRESS: a fresh provisioned jail, added as SERVICE fx
fixture() {
	vh_ctl provision "$J/$1" --program /usr/bin/cat --user nobody >/dev/null 2>&1
}
n=30
declare -A ADDR
add_fx() { # add_fx NAME [ROOT]: the domain fx/127.0.0.N on the fixture
	n=$((n + 1))
	ADDR[$1]=127.0.0.$n
	vh_ctl add fx "127.0.0.$n" "${2:-$J/$1}" --user nobody --force >/dev/null 2>&1
}

fixture setuid
cp "$J/setuid/usr/bin/cat" "$J/setuid/usr/bin/su"
chmod 4755 "$J/setuid/usr/bin/su"
add_fx setuid

fixture blockdev
mknod "$J/blockdev/dev/loop0" b 7 0
add_fx blockdev

fixture worldw
mkdir -m 0777 "$J/worldw/upload"
chmod 0777 "$J/worldw/upload"
add_fx worldw

fixture hardlink
echo "host secret" >"$F/secret"
ln "$F/secret" "$J/hardlink/etc/secret"
add_fx hardlink

fixture realdir
ln -s realdir "$J/symlinked"
add_fx symlink "$J/symlinked"

mkdir -m 0775 "$F/gw"
chmod 0775 "$F/gw"
vh_ctl provision "$F/gw/jail" --program /usr/bin/cat --user nobody >/dev/null 2>&1 # refused: parent untrusted
vh_check "provision refuses a jail below a group-writable directory" test ! -e "$F/gw/jail"
chmod 0755 "$F/gw"
vh_ctl provision "$F/gw/jail" --program /usr/bin/cat --user nobody >/dev/null 2>&1
chmod 0775 "$F/gw"
add_fx groupw "$F/gw/jail"

fixture nolib
rm "$J/nolib/lib/x86_64-linux-gnu/libc.so.6"
add_fx nolib

fixture nointerp
rm "$J/nointerp/lib64/ld-linux-x86-64.so.2"
add_fx nointerp

fixture mounted
mkdir -m 0755 "$J/mounted/proc"
mount -t proc proc "$J/mounted/proc"
add_fx mounted

fixture sock
socat UNIX-LISTEN:"$J/sock/run.sock" /dev/null &
VH_PIDS+=($!)
for i in $(seq 50); do [ -S "$J/sock/run.sock" ] && break; sleep 0.05; done
add_fx sock

fixture clean
add_fx clean

vh_eq "set-uid file: exactly [setuid]" "setuid" "$(check_kinds fx "${ADDR[setuid]}")"
line=$(vh_ctl check fx "${ADDR[setuid]}" | grep '\[setuid\]')
vh_eq "set-uid finding: domain, severity, path, problem, fix" \
	"fx/${ADDR[setuid]}: error [setuid] $J/setuid/usr/bin/su: set-uid file (owner uid 0, mode 4755): it runs with its owner's rights - fix: chmod u-s $J/setuid/usr/bin/su (or remove it from the jail)" \
	"$line"
vh_eq "block device: exactly [device]" "device" "$(check_kinds fx "${ADDR[blockdev]}")"
vh_contains "block device names 7:0 and rm" "error [device] $J/blockdev/dev/loop0: block device 7:0" \
	"$(vh_ctl check fx "${ADDR[blockdev]}")"
vh_eq "world-writable dir: exactly [world-writable-dir]" "world-writable-dir" "$(check_kinds fx "${ADDR[worldw]}")"
vh_contains "world-writable dir: fix" "fix: chmod o-w $J/worldw/upload" "$(vh_ctl check fx "${ADDR[worldw]}")"
vh_eq "hard link outside: exactly [hard-link]" "hard-link" "$(check_kinds fx "${ADDR[hardlink]}")"
vh_contains "hard link: path and counts" "error [hard-link] $J/hardlink/etc/secret: file has 2 links but only 1 inside the jail" \
	"$(vh_ctl check fx "${ADDR[hardlink]}")"
vh_eq "symlink on the path: exactly [symlink]" "symlink" "$(check_kinds fx "${ADDR[symlink]}")"
vh_contains "symlink on the path: named" "error [symlink] $J/symlinked: $J/symlinked is a symbolic link" \
	"$(vh_ctl check fx "${ADDR[symlink]}")"
vh_eq "group-writable parent: exactly [group-writable]" "group-writable" "$(check_kinds fx "${ADDR[groupw]}")"
vh_contains "group-writable parent: path and fix" "error [group-writable] $F/gw: jail path component is writable by group 0 (mode 0775) - fix: chmod g-w $F/gw" \
	"$(vh_ctl check fx "${ADDR[groupw]}")"
# The fixtures are provisioned with this database: their manifest names
# the removed file too (issue 14 point 4), without --program.
vh_eq "missing library: exactly [missing-library] and the manifest's [manifest-missing]" "manifest-missing missing-library" \
	"$(check_kinds fx "${ADDR[nolib]}" --program cat)"
vh_contains "missing library: named, with the provision fix" \
	"error [missing-library] $J/nolib/usr/bin/cat: library libc.so.6 needed by /usr/bin/cat is not found in the library directories in the jail - fix: vhostctl provision $J/nolib --program /usr/bin/cat" \
	"$(vh_ctl check fx "${ADDR[nolib]}" --program cat)"
vh_eq "missing interpreter: exactly [missing-interpreter] and [manifest-missing]" "manifest-missing missing-interpreter" \
	"$(check_kinds fx "${ADDR[nointerp]}" --program /usr/bin/cat)"
vh_contains "missing interpreter: named" \
	"error [missing-interpreter] $J/nointerp/lib64/ld-linux-x86-64.so.2: ELF interpreter /lib64/ld-linux-x86-64.so.2 needed by /usr/bin/cat is missing in the jail" \
	"$(vh_ctl check fx "${ADDR[nointerp]}" --program /usr/bin/cat)"
vh_eq "mounted procfs: exactly [mount-point]" "mount-point" "$(check_kinds fx "${ADDR[mounted]}")"
vh_contains "mount point: path and fix" "error [mount-point] $J/mounted/proc:" "$(vh_ctl check fx "${ADDR[mounted]}")"
vh_eq "socket: exactly [socket]" "socket" "$(check_kinds fx "${ADDR[sock]}")"
vh_eq "clean fixture: no finding" "" "$(check_kinds fx "${ADDR[clean]}" --program cat)"

# --- exit codes ----------------------------------------------------------
vh_ctl check fx "${ADDR[sock]}" >/dev/null
vh_eq "warnings only (socket, shared uid): exit 1" 1 $?
vh_ctl check fx "${ADDR[setuid]}" >/dev/null
vh_eq "errors: exit 2" 2 $?
vh_ctl check fx 127.0.0.99 >/dev/null 2>&1
vh_eq "no such domain: exit 68" 68 $?
vh_contains "shared uid across jails is a warning" "warning [shared-uid]" "$(vh_ctl check fx "${ADDR[clean]}")"

# --- --json, parsed ------------------------------------------------------
json=$(vh_ctl check --json)
vh_check "--json is one JSON array" jqe 'type == "array"' <<<"$json"
vh_check "--json: every finding has domain, severity, kind, path, problem, fix" \
	jqe 'all(.[]; (keys | sort) == ["domain","fix","kind","path","problem","severity"])' <<<"$json"
vh_eq "--json: the set-uid finding" "error $J/setuid/usr/bin/su" \
	"$(jq -r --arg d "fx/${ADDR[setuid]}" '.[] | select(.domain == $d and .kind == "setuid") | "\(.severity) \(.path)"' <<<"$json")"
vh_eq "--json: no finding but the shared uid for the provisioned jail" "0" \
	"$(jq --arg d jtest/127.0.0.21 '[.[] | select(.domain == $d and .kind != "shared-uid")] | length' <<<"$json")"

# --- one deliberately broken jail: every problem named, with its fix -----
B=$J/broken
fixture broken
cp "$B/usr/bin/cat" "$B/usr/bin/su" && chmod 4755 "$B/usr/bin/su"
mknod "$B/dev/sda" b 8 0
mkdir -m 0777 "$B/tmp" && chmod 0777 "$B/tmp"
ln "$F/secret" "$B/etc/shadow"
rm "$B/lib/x86_64-linux-gnu/libc.so.6"
chown nobody "$B/usr/bin/cat"
mkdir -m 0755 "$B/sys" && mount -t sysfs sysfs "$B/sys"
out=$(vh_ctl add broken 127.0.0.50 "$B" --user nobody 2>&1)
vh_eq "add refuses a jail with errors: exit 72" 72 $?
vh_contains "add prints the findings" "error [setuid] $B/usr/bin/su" "$out"
vh_contains "add says how to go on" "add anyway with --force" "$out"
vh_eq "nothing was added" "" "$(vh_ctl list --json | jq -r '.[] | select(.service == "broken") | .address')"
vh_ctl add broken 127.0.0.50 "$B" --user nobody --force >/dev/null 2>&1
vh_eq "add --force adds it" 0 $?
out=$(vh_ctl check broken 127.0.0.50 --program cat)
vh_eq "broken jail: exit 2" 2 $?
for want in "[setuid] $B/usr/bin/su" "[device] $B/dev/sda" "[world-writable-dir] $B/tmp" \
	"[hard-link] $B/etc/shadow" "[missing-library] $B/usr/bin/cat" "[runas-writable] $B/usr/bin/cat" \
	"[mount-point] $B/sys"; do
	vh_contains "broken jail names $want" "$want" "$out"
done
vh_eq "every finding carries a fix" "" "$(grep -v ' - fix: ' <<<"$out" | grep -v '^checked ')"
umount "$B/sys" "$J/mounted/proc"

# --- the database itself -------------------------------------------------
chmod 0644 "$DB"
vh_contains "database readable by others: warning" "database: warning [db-readable] $DB" "$(vh_ctl check jtest 127.0.0.21)"
chmod 0600 "$DB"

vh_done
