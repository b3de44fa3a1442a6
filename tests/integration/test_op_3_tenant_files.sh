#!/bin/bash
# Issue 13 point 3: a root service trusts what is under etc, lib*, usr,
# bin and sbin of its jail. When that jail is shared with a run-as
# service, or its files belong to a tenant (not root), a file or
# directory there that someone other than root can change is root for
# that someone: `vhostctl check` reports it as an error of the root
# domain (kind tenant-writable), with the path and the fix. Before, the
# root domain had no finding at all (only the run-as domain a warning).
. "$(dirname "$0")/lib.sh"
TUID=64133
vh_test_user op3tenant $TUID
vh_init_db
J=$F/jails
mkdir -m 0755 "$J"

# tree JAIL: a jail with a tenant-owned /etc file and a root-owned file
# others may write in /usr/lib
tree() {
	vh_mkjail "$1" "page"
	mkdir -p "$1/etc" "$1/usr/lib"
	chmod 0755 "$1/etc" "$1/usr" "$1/usr/lib"
	echo conf >"$1/etc/app.conf"
	chown $TUID "$1/etc/app.conf"
	chmod 0644 "$1/etc/app.conf"
	echo lib >"$1/usr/lib/libapp.so"
	chmod 0666 "$1/usr/lib/libapp.so"
}

# --- shared: a root service and a run-as service in one jail --------------
tree "$J/s"
vh_ctl add svc 127.0.0.2 "$J/s" --force >/dev/null 2>&1
vh_ctl add svc 127.0.0.3 "$J/s" --user op3tenant --force >/dev/null 2>&1
out=$(vh_ctl check svc 127.0.0.2 2>&1)
rc=$?
vh_eq "shared jail: check of the root domain exits 2 (errors)" 2 "$rc"
vh_contains "a tenant-owned file under etc is an error of the root domain" \
	"svc/127.0.0.2: error [tenant-writable] $J/s/etc/app.conf:" "$out"
vh_contains "the problem names the owner" "is owned by another uid than root (uid $TUID" "$out"
vh_contains "the problem names the run-as domain sharing the jail" "run-as domain svc/127.0.0.3 shares this jail" "$out"
vh_contains "the fix is given" "fix: chown root:root $J/s/etc/app.conf && chmod go-w $J/s/etc/app.conf" "$out"
vh_contains "a root-owned file others may write under usr/lib is an error when the jail is shared" \
	"svc/127.0.0.2: error [tenant-writable] $J/s/usr/lib/libapp.so:" "$out"
out=$(vh_ctl check svc 127.0.0.3 2>&1)
vh_not_contains "the run-as domain keeps its own finding (a warning), not this one" "[tenant-writable]" "$out"

# --- not shared, files of a tenant ----------------------------------------
tree "$J/t"
vh_ctl add svc 127.0.0.4 "$J/t" --force >/dev/null 2>&1
out=$(vh_ctl check svc 127.0.0.4 2>&1)
vh_contains "a root jail alone: a tenant-owned file is still an error" \
	"svc/127.0.0.4: error [tenant-writable] $J/t/etc/app.conf:" "$out"
vh_not_contains "a root jail alone: a root-owned file others may write (no tenant inside, hidden from host users) is not" \
	"[tenant-writable] $J/t/usr/lib/libapp.so" "$out"

# --- add refuses such a jail for a root service ------------------------------
tree "$J/a"
out=$(vh_ctl add svc 127.0.0.5 "$J/a" 2>&1)
rc=$?
vh_eq "add of a root service over a tenant's files is refused (jail errors)" 72 "$rc"
vh_contains "add names the file" "[tenant-writable] $J/a/etc/app.conf" "$out"

# --- code by another name (red-team probe 6) ---------------------------------
# lib64 -> data/lib64 holding ls's loader and libraries, a program under
# /opt, a script interpreter under /opt: a root service trusts them all
C=$J/c
vh_mkjail "$C" "page"
mkdir -p "$C/data/lib64" "$C/opt/app" "$C/opt/tools"
cp /bin/ls "$C/bin/ls"
for l in $(ldd /bin/ls | grep -o '/[^ ]*'); do cp "$l" "$C/data/lib64/"; done
ln -s data/lib64 "$C/lib64"
printf '#!/bin/busybox sh\n' >"$C/opt/app/daemon"
printf '#!/opt/tools/sh\n' >"$C/opt/app/script"
cp /bin/busybox "$C/opt/tools/sh"
chmod -R go-w "$C"
chmod 0755 "$C/data" "$C/data/lib64" "$C/opt" "$C/opt/app" "$C/opt/tools" "$C/opt/app/daemon" "$C/opt/app/script"
vh_ctl add svc 127.0.0.6 "$C" --force >/dev/null 2>&1
out=$(vh_ctl check svc 127.0.0.6 --program /bin/ls --program /opt/app/daemon --program /opt/app/script 2>&1)
vh_not_contains "root's code behind lib64 -> data/lib64 and under /opt: no tenant-writable finding" \
	"[tenant-writable]" "$out"
chown -R $TUID "$C/data/lib64" "$C/opt/app/daemon" "$C/opt/tools/sh"
out=$(vh_ctl check svc 127.0.0.6 2>&1)
vh_contains "a tenant's loader behind the symlink lib64 -> data/lib64 is an error of the root domain" \
	"svc/127.0.0.6: error [tenant-writable] $C/data/lib64/ld-linux-x86-64.so.2: file is owned by another uid than root (uid $TUID" "$out"
vh_contains "the symlink's target directory itself too" "error [tenant-writable] $C/data/lib64: directory" "$out"
vh_not_contains "data of the tenant outside the code directories is no finding without --program" \
	"[tenant-writable] $C/opt" "$out"
out=$(vh_ctl check svc 127.0.0.6 --program /bin/ls 2>&1)
n=$(grep -c "tenant-writable\] $C/data/lib64/libc.so.6:" <<<"$out")
vh_eq "libc, met by the deep scan and by the walk through the link, is said once" 1 "$n"
out=$(vh_ctl check svc 127.0.0.6 --program /opt/app/daemon 2>&1)
vh_contains "a tenant's program under /opt given with --program is an error" \
	"svc/127.0.0.6: error [tenant-writable] $C/opt/app/daemon: file is owned by another uid than root (uid $TUID" "$out"
vh_contains "with the fix" "fix: chown root:root $C/opt/app/daemon && chmod go-w $C/opt/app/daemon" "$out"
out=$(vh_ctl check svc 127.0.0.6 --program /opt/app/script 2>&1)
vh_contains "a tenant's interpreter under /opt found by the walk is an error" \
	"svc/127.0.0.6: error [tenant-writable] $C/opt/tools/sh:" "$out"
# an absolute link resolves inside the jail: the jail's data/lib64
rm "$C/lib64"
ln -s /data/lib64 "$C/lib64"
out=$(vh_ctl check svc 127.0.0.6 2>&1)
vh_contains "lib64 -> /data/lib64 is followed inside the jail" \
	"error [tenant-writable] $C/data/lib64/ld-linux-x86-64.so.2:" "$out"
# merged /usr with root's files: clean
M=$J/m
mkdir -p "$M/usr/bin" "$M/usr/lib"
cp /bin/busybox "$M/usr/bin/busybox"
ln -s usr/bin "$M/bin"
ln -s usr/lib "$M/lib"
ln -s /usr/bin "$M/sbin"
chmod -R go-w "$M"
chmod 0755 "$M" "$M/usr" "$M/usr/bin" "$M/usr/lib"
vh_ctl add svc 127.0.0.7 "$M" --force >/dev/null 2>&1
out=$(vh_ctl check svc 127.0.0.7 --program /bin/busybox --program busybox 2>&1)
vh_not_contains "merged /usr (bin -> usr/bin, sbin -> /usr/bin), root's: no tenant-writable finding" \
	"[tenant-writable]" "$out"
chown $TUID "$M/usr/bin/busybox"
out=$(vh_ctl check svc 127.0.0.7 --program /bin/busybox 2>&1)
n=$(grep -c "tenant-writable\] $M/usr/bin/busybox:" <<<"$out")
vh_eq "merged /usr: a tenant's program is said once, by its real path" 1 "$n"

# --- fixed: green again ---------------------------------------------------------
chown 0 "$J/s/etc/app.conf"
chmod 0644 "$J/s/usr/lib/libapp.so"
out=$(vh_ctl check svc 127.0.0.2 2>&1)
vh_not_contains "after chown and chmod go-w: no tenant-writable finding" "[tenant-writable]" "$out"

vh_done
