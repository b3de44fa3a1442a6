#!/bin/bash
# Issue 13, point 1: migrate-inetd's converted lines ran the legacy
# program's path (/usr/local/bin/virtuald in the HOWTO), so the old
# program read --db as its CONF and every migrated service failed. The
# converted lines run the installed virtuald (built in; --help names it),
# or --virtuald PATH, which must be trusted as the database is (absolute,
# a regular executable file called virtuald, every component root's and
# not writable by group or others); the dry run says which it writes.
# The installed path is made to exist in this test's own mount namespace
# (a tmpfs over its directory): nothing is installed on the host.
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/a" "page A"
printf '127.0.0.2 %s\n' "$J/a" >"$F/conf.ftp"
chmod 0644 "$F/conf.ftp"
LEGACY=/usr/local/bin/virtuald
printf 'ftp stream tcp nowait root %s virtuald %s /bin/busybox httpd -i -h /www\n' "$LEGACY" "$F/conf.ftp" >"$F/inetd.conf"
printf 'pop3 stream tcp nowait root /usr/sbin/tcpd %s %s /bin/busybox httpd -i -h /www\n' "$LEGACY" "$F/conf.ftp" >"$F/tcpd.conf"

# the installed path, as --help names it (main's vhostctl names none)
INSTALLED=$("$VHOSTCTL" migrate-inetd --help | sed -n 's/.*the virtuald the converted lines run (default \(\/[^)]*\)).*/\1/p')
[ -n "$INSTALLED" ] || INSTALLED=/usr/local/sbin/virtuald
vh_check "the installed path is absolute" test "${INSTALLED#/}" != "$INSTALLED"
vh_check "the installed path is not the legacy one" test "$INSTALLED" != "$LEGACY"

# --- the installed virtuald missing: refused, nothing imported ---------------
if [ ! -e "$INSTALLED" ]; then
	out=$(vh_ctl migrate-inetd "$F/inetd.conf" --dry-run 2>&1)
	vh_eq "no installed virtuald: refused (EX_USAGE)" 64 $?
	vh_contains "no installed virtuald: the fix" "give --virtuald PATH" "$out"
	vh_eq "nothing imported" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM domains")"
	# now install it, in this namespace only
	mount -t tmpfs -o mode=0755,size=16m vhsbin "$(dirname "$INSTALLED")"
	cp "$VIRTUALD" "$INSTALLED"
	chmod 0755 "$INSTALLED"
fi

# --- by default: the installed path, said by the dry run ---------------------
out=$(vh_ctl migrate-inetd "$F/inetd.conf" --dry-run 2>/dev/null)
vh_contains "the converted line runs the installed virtuald" "root $INSTALLED virtuald --db $DB ftp /bin/busybox" "$out"
vh_not_contains "the converted line never runs the legacy program" "$LEGACY" "$out"
err=$(vh_ctl migrate-inetd "$F/inetd.conf" --dry-run 2>&1 >/dev/null)
vh_contains "the dry run says which virtuald it writes" "converted to run $INSTALLED" "$err"
out=$(vh_ctl migrate-inetd "$F/tcpd.conf" --dry-run 2>/dev/null)
vh_contains "under tcpd: tcpd runs the installed virtuald" "/usr/sbin/tcpd $INSTALLED --db $DB pop3 /bin/busybox" "$out"

# --- --virtuald PATH -----------------------------------------------------------
out=$(vh_ctl migrate-inetd "$F/inetd.conf" --virtuald "$VIRTUALD" --dry-run 2>&1)
vh_eq "--virtuald the built one: accepted" 0 $?
vh_contains "--virtuald: the converted line runs it" "root $VIRTUALD virtuald --db $DB ftp" "$out"
vh_contains "--virtuald: the dry run says so" "converted to run $VIRTUALD" "$out"
refused() { # DESCRIPTION PATH NEEDLE
	local o
	o=$(vh_ctl migrate-inetd "$F/inetd.conf" --virtuald "$2" --write 2>&1)
	vh_eq "$1: refused (EX_USAGE)" 64 $?
	vh_contains "$1: says why" "$3" "$o"
}
mkdir -m 0755 "$F/bin" "$F/gw" "$F/other"
cp "$VIRTUALD" "$F/bin/virtuald"
cp "$VIRTUALD" "$F/bin/vd"
refused "a relative path" bin/virtuald "is relative"
refused "a missing file" "$F/bin/nothere/virtuald" "not trusted"
refused "a file not called virtuald" "$F/bin/vd" "must be called virtuald"
cp "$VIRTUALD" "$F/gw/virtuald"
chmod 0775 "$F/gw"
refused "a group-writable directory above it" "$F/gw/virtuald" "not trusted"
cp "$VIRTUALD" "$F/other/virtuald"
chown 65534 "$F/other/virtuald"
refused "a file not owned by root" "$F/other/virtuald" "not trusted"
chown 0 "$F/other/virtuald"
chmod 0664 "$F/other/virtuald"
refused "a group-writable file" "$F/other/virtuald" "not trusted"
chmod 0644 "$F/other/virtuald"
refused "a file that is not executable" "$F/other/virtuald" "not executable"
ln -s "$F/bin" "$F/link"
refused "a symbolic link on the way" "$F/link/virtuald" "not trusted"
vh_eq "no refused run imported anything" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM domains")"
vh_check "no refused run touched the file" grep -q "$LEGACY virtuald $F/conf.ftp" "$F/inetd.conf"

# --- --write: the file runs the new virtuald, and it serves ------------------
out=$(vh_ctl migrate-inetd "$F/inetd.conf" --virtuald "$VIRTUALD" --write 2>&1)
vh_eq "--write with --virtuald" 0 $?
vh_contains "--write says which virtuald" "converted to run $VIRTUALD" "$out"
vh_contains "the written file runs it" "root $VIRTUALD virtuald --db $DB ftp" "$(cat "$F/inetd.conf")"
vh_done
