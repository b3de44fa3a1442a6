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

# --- fixed: green again ---------------------------------------------------------
chown 0 "$J/s/etc/app.conf"
chmod 0644 "$J/s/usr/lib/libapp.so"
out=$(vh_ctl check svc 127.0.0.2 2>&1)
vh_not_contains "after chown and chmod go-w: no tenant-writable finding" "[tenant-writable]" "$out"

vh_done
