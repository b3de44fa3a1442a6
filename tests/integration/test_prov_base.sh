#!/bin/bash
# Issue 14 point 5: one shared system layer (sql/008, doc/jails.md "A
# shared base"). A base provisioned once (busybox, the dynamically linked
# /usr/bin/id, the probe), two customer jails holding only their data,
# each served through tcpserver and virtuald with its own page, as a
# run-as and as a root service. Inside: the base's directories are
# read-only, nosuid and nodev, cannot be written, remounted, detached or
# cloned; outside: an untrusted base, a symlink where a mount point should
# be, refuse the connection with the reason; a run-as row without a base
# is pivoted like every row, with no bind of a base.
# Ports 20500-20599.
. "$(dirname "$0")/lib.sh"

# vh_refused STATUS DESCRIPTION: passes when STATUS is not 0
vh_refused() {
	if [ "$1" != 0 ]; then vh_ok "$2"; else vh_notok "$2"; fi
}

vh_init_db
vh_test_user basea 41801
vh_test_user baseb 41802
S=$F/srv
mkdir -m 0755 "$S" "$S/jails"
BASE=$S/base
HTTPD=(/bin/busybox httpd -f -i -h /www)

# --- the base: built by provision like any jail -----------------------------
out=$(vh_ctl provision "$BASE" --program /bin/busybox --program /usr/bin/id 2>&1)
vh_eq "provision builds the base (exit 0)" 0 "$?"
cp "$VH_PROBE" "$BASE/bin/probe" && chmod 0755 "$BASE/bin/probe"
vh_check "the base's id is dynamically linked (its libraries come from the base)" \
	bash -c "file -L '$BASE/usr/bin/id' | grep -q dynamic"

# customer jails: their data only (and the /etc a jail keeps), no program
for c in a b; do
	mkdir -m 0755 "$S/jails/$c" "$S/jails/$c/www" "$S/jails/$c/etc"
	echo "page of customer $c" >"$S/jails/$c/www/index.html"
	chmod 0644 "$S/jails/$c/www/index.html"
done

out=$(vh_ctl add http 127.0.0.2 "$S/jails/a" --user basea --base "$BASE" 2>&1)
vh_eq "add --base (run-as) exits 0" 0 "$?"
vh_contains "add --base makes the jail's mount points" "made $S/jails/a/usr (root, 0755)" "$out"
vh_eq "the mount point is root's, 0755, empty" "0:755:0" \
	"$(stat -c %u:%a "$S/jails/a/usr"):$(find "$S/jails/a/usr" -mindepth 1 | wc -l)"
vh_not_contains "no /etc mount point: the jail's /etc is its own" "jails/a/etc (root" "$out"
out=$(vh_ctl add http 127.0.0.3 "$S/jails/b" --base "$BASE" 2>&1)
vh_eq "add --base (root service) exits 0" 0 "$?"
vh_eq "the customer jails hold no program or library" "" \
	"$(find "$S/jails" -type f ! -path '*/www/*')"
vh_contains "list shows the base" "$S/jails/a [base $BASE]" "$(vh_ctl list)"
vh_contains "list --json shows the base" "\"base\":\"$BASE\"" "$(vh_ctl list --json | tr -d ' ')"
out=$(vh_ctl lookup http 127.0.0.2)
vh_contains "lookup shows the base" "base $BASE" "$out"
out=$(vh_ctl export --service http 2>&1 >/dev/null)
vh_contains "export warns that the flat format drops the base" "2 domains have a base" "$out"

# --- served: each customer its own page, from the one base -------------------
vh_tcpserver 127.0.0.2 20500 "$VIRTUALD" --db "$DB" http "${HTTPD[@]}"
vh_tcpserver 127.0.0.3 20500 "$VIRTUALD" --db "$DB" http "${HTTPD[@]}"
vh_eq "run-as service with a base serves customer a's page" "page of customer a" "$(vh_get 127.0.0.2 20500)"
vh_eq "root service with a base serves customer b's page" "page of customer b" "$(vh_get 127.0.0.3 20500)"
line=$(vh_log_wait "served service=http local=127.0.0.2")
vh_contains "the served line names the base" "base=$BASE" "$line"

# the dynamically linked id: its libraries from the base, the jail has none
vh_ctl add id 127.0.0.2 "$S/jails/a" --user basea --base "$BASE" >/dev/null 2>&1
vh_tcpserver 127.0.0.2 20501 "$VIRTUALD" --db "$DB" id /usr/bin/id
vh_contains "a dynamically linked program of the base runs as the run-as user" "uid=41801" "$(vh_talk 127.0.0.2 20501)"

# --- inside: read-only, nosuid, nodev, no write, no remount ------------------
vh_ctl add probe 127.0.0.2 "$S/jails/a" --user basea --base "$BASE" >/dev/null 2>&1
vh_ctl add probe 127.0.0.3 "$S/jails/b" --base "$BASE" >/dev/null 2>&1
vh_tcpserver 127.0.0.2 20502 "$VIRTUALD" --db "$DB" probe /bin/probe base /usr /bin /www
vh_tcpserver 127.0.0.3 20502 "$VIRTUALD" --db "$DB" probe /bin/probe base /usr /bin /www
for who in run-as:127.0.0.2 root:127.0.0.3; do
	w=${who%%:*} a=${who#*:}
	out=$(vh_talk "$a" 20502)
	vh_contains "$w: the probe ran" "probe=base" "$out"
	for d in /usr /bin; do
		vh_contains "$w: $d is read-only, nosuid, nodev" "flags.$d=rdonly:1,nosuid:1,nodev:1" "$out"
		vh_not_contains "$w: writing to $d fails" "create.$d=ok" "$out"
		vh_contains "$w: a remount of $d fails" "remount.$d=Operation not permitted" "$out"
		vh_contains "$w: $d cannot be detached" "umount.$d=Operation not permitted" "$out"
		vh_contains "$w: mount_setattr on $d fails" "setattr.$d=Operation not permitted" "$out"
		vh_contains "$w: open_tree of $d fails" "open_tree.$d=Operation not permitted" "$out"
	done
	# the jail's own data is a plain directory: the flags are read right
	vh_contains "$w: control: the jail's /www is not read-only" "flags./www=rdonly:0" "$out"
	[ "$w" = root ] && {
		vh_contains "root: writing to /usr fails with EROFS (not a permission)" "create./usr=Read-only file system" "$out"
		vh_contains "root: control: the probe's write works in the jail's /www" "create./www=ok" "$out"
	}
done
vh_eq "nothing written into the base" "" "$(find "$BASE" -name probe-written)"
# Positive control: the probe's attacks work where they are allowed - as
# real root with every capability and no filter, in a throwaway mount
# namespace, against the same kind of bind (read-only, nosuid, nodev) of
# the base's usr: the remount and the detach succeed.
mkdir -m 0755 "$F/ctlmnt"
out=$(unshare --mount --propagation private sh -c "mount --bind '$BASE/usr' '$F/ctlmnt' &&
	mount -o remount,bind,ro,nosuid,nodev '$F/ctlmnt' && '$VH_PROBE' base '$F/ctlmnt'" 2>&1)
vh_contains "control: the same bind outside virtuald reads as read-only, nosuid, nodev" \
	"flags.$F/ctlmnt=rdonly:1,nosuid:1,nodev:1" "$out"
vh_contains "control: ... a write there fails with EROFS" "create.$F/ctlmnt=Read-only file system" "$out"
vh_contains "control: ... and root with its capabilities and no filter remounts it" "remount.$F/ctlmnt=ok" "$out"
vh_contains "control: ... and detaches it" "umount.$F/ctlmnt=ok" "$out"

# --- a run-as row without a base: pivoted like every row, nothing bound ------
mkdir -m 0755 "$S/plain"
vh_mkjail "$S/plain" "plain page"
vh_ctl add probe 127.0.0.4 "$S/plain" --user baseb >/dev/null 2>&1
STRACE=$(command -v strace)
if [ -n "$STRACE" ]; then
	vh_tcpserver 127.0.0.4 20503 "$STRACE" -f -qq -e trace=unshare,chroot,pivot_root,mount -o "$F/plain.trace" \
		"$VIRTUALD" --db "$DB" probe /bin/probe info
	out=$(vh_talk 127.0.0.4 20503)
	vh_stop_last
	vh_contains "no base: the run-as probe ran" "probe=info" "$out"
	vh_check "no base: pivot_root into the jail (every row: doc/design.md \"Jails\")" \
		grep -qE 'pivot_root\("\.", "\."\) += 0' "$F/plain.trace"
	vh_eq "no base: no read-only bind (nothing of a base)" "" "$(grep -E 'MS_RDONLY' "$F/plain.trace")"
	vh_tcpserver 127.0.0.2 20504 "$STRACE" -f -qq -e trace=unshare,mount,chroot,pivot_root -o "$F/base.trace" \
		"$VIRTUALD" --db "$DB" probe /bin/probe info
	vh_talk 127.0.0.2 20504 >/dev/null
	vh_stop_last
	vh_check "control: the run-as row with a base gets its mount namespace" grep -q CLONE_NEWNS "$F/base.trace"
	vh_check "control: ... and the read-only remount" grep -q 'MS_RDONLY|MS_NOSUID|MS_NODEV|MS_REMOUNT|MS_BIND' "$F/base.trace"
	# never a chroot in the connection's own copy of the host's tree
	# (doc/design.md "Jails", test_red_base_chroot.sh): pivoted like a
	# root service, the old root detached
	vh_check "run-as with a base: pivot_root into the jail" grep -qE 'pivot_root\("\.", "\."\) += 0' "$F/base.trace"
	vh_check "run-as with a base: the jail bound on itself" \
		grep -qE 'mount\("/proc/self/fd/([0-9]+)", "/proc/self/fd/\1", NULL, MS_BIND, NULL\) += 0' "$F/base.trace"
	vh_tcpserver 127.0.0.3 20504 "$STRACE" -f -qq -e trace=unshare,mount,chroot,pivot_root -o "$F/rootbase.trace" \
		"$VIRTUALD" --db "$DB" probe /bin/probe info
	vh_talk 127.0.0.3 20504 >/dev/null
	vh_stop_last
	vh_check "control: the root service with a base still pivots" grep -qE 'pivot_root\("\.", "\."\) += 0' \
		"$F/rootbase.trace"
else
	vh_notok "strace is missing - run scripts/deps"
fi

# --- check understands the base ----------------------------------------------
out=$(vh_ctl check http 127.0.0.2 --program /bin/busybox 2>&1)
vh_not_contains "check: the jail's programs are looked for in the base" "busybox" "$out"
vh_not_contains "check: a clean base has no base finding" "[base-" "$out"
echo tenant >"$S/jails/a/usr/hidden"
out=$(vh_ctl check http 127.0.0.2 2>&1)
vh_contains "check warns about jail content the base hides" "warning [base-hides] $S/jails/a/usr: $S/jails/a/usr holds 1 entry" "$out"
rm "$S/jails/a/usr/hidden"
chown basea "$BASE/bin"
out=$(vh_ctl check http 127.0.0.2 2>&1)
vh_contains "check: a base directory the run-as user can write is an error" "error [base-writable] $BASE/bin" "$out"
vh_contains "check: the base's own rules report it too" "base $BASE: error" "$out"
chown root "$BASE/bin"
mv "$S/jails/b/bin" "$S/jails/b/bin.away"
out=$(vh_ctl check http 127.0.0.3 2>&1)
vh_contains "check: a missing mount point is an error naming the fix" "error [base-mount-point] $S/jails/b/bin" "$out"
mv "$S/jails/b/bin.away" "$S/jails/b/bin"
vh_ctl set probe 127.0.0.4 --base "$S/jails/b" >/dev/null 2>&1
vh_refused $? "set --base refuses a base that is another domain's jail"

# --- refusals: an untrusted base, a symlink where a mount point should be ----
chmod g+w "$BASE/usr"
vh_log_mark
vh_eq "a base directory writable by group: nothing served" "" "$(vh_get 127.0.0.2 20500)"
line=$(vh_log_wait "refused service=http local=127.0.0.2")
vh_contains "... and the reason names it" "base $BASE: usr is writable by group or others" "$line"
chmod g-w "$BASE/usr"
chmod g+w "$BASE"
vh_log_mark
vh_eq "a group-writable base: nothing served (root service)" "" "$(vh_get 127.0.0.3 20500)"
line=$(vh_log_wait "refused service=http local=127.0.0.3")
vh_contains "... and the reason names the base" "base $BASE of jail $S/jails/b" "$line"
out=$(vh_ctl set http 127.0.0.2 --base "$BASE" 2>&1)
vh_refused $? "set --base refuses a group-writable base"
vh_contains "... naming the finding" "base $BASE has 1 error" "$out"
chmod g-w "$BASE"
vh_eq "the base fixed: served again" "page of customer a" "$(vh_get 127.0.0.2 20500)"

rmdir "$S/jails/b/usr" && ln -s /usr "$S/jails/b/usr"
vh_log_mark
vh_eq "a symlink where a mount point should be: nothing served" "" "$(vh_get 127.0.0.3 20500)"
line=$(vh_log_wait "refused service=http local=127.0.0.3")
vh_contains "... and the reason says so" "jail $S/jails/b: usr, where base $BASE is bound, is a symlink or no directory" "$line"
out=$(vh_ctl set http 127.0.0.3 --base "$BASE" 2>&1)
vh_refused $? "set --base refuses a symlink in the way of a mount point"
vh_contains "... naming it" "usr is a symlink" "$out"
rm "$S/jails/b/usr"
out=$(vh_ctl set http 127.0.0.3 --base "$BASE" 2>&1)
vh_eq "set --base again makes the missing mount point" 0 "$?"
vh_eq "served again" "page of customer b" "$(vh_get 127.0.0.3 20500)"

# a base the base gained (lib32) without its mount point in a jail: refused
mkdir -m 0755 "$BASE/lib32"
vh_log_mark
vh_eq "a mount point missing for a directory the base gained: nothing served" "" "$(vh_get 127.0.0.2 20500)"
line=$(vh_log_wait "refused service=http local=127.0.0.2")
vh_contains "... the reason names the fix" "lib32, where base $BASE is bound, is missing" "$line"
rmdir "$BASE/lib32"

# --- the refusals at add and set ---------------------------------------------
out=$(vh_ctl set http 127.0.0.2 --base "$S/jails/b" 2>&1)
vh_refused $? "a base that is another domain's jail is refused"
vh_contains "... as nesting (K8)" "base-in-jail" "$out"
mkdir -m 0755 "$BASE/usr/x"
out=$(vh_ctl add http 127.0.0.9 "$BASE/usr/x" 2>&1)
vh_refused $? "a jail inside a base is refused"
vh_contains "... as nesting (K8)" "[jail-in-base]" "$out"
rmdir "$BASE/usr/x"
out=$(vh_ctl set http 127.0.0.2 --base / 2>&1)
vh_refused $? "--base / is refused"
out=$(vh_ctl set http 127.0.0.2 --base none 2>&1)
vh_eq "set --base none" 0 "$?"
vh_eq "the row has no base" "" "$(sqlite3 "$DB" "SELECT base FROM domains WHERE service='http' AND address='127.0.0.2'")"
sqlite3 "$DB" "UPDATE domains SET base='rel' WHERE service='http'" 2>/dev/null
vh_refused $? "schema: a relative base is refused by the CHECK"

vh_done
