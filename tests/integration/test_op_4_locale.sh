#!/bin/bash
# Issue 13 point 4: LANG and LC_* from the super-server reach the service
# only when its jail has that locale, else as "C". The bug: svnserve in
# a jail without locale data wrote glibc's locale warning to stderr -
# the socket under inetd (E210004: Malformed network data). "Has":
# C and POSIX always; else /usr/lib/locale/NAME (or its normalised
# codeset, de_DE.utf8) or a locale archive, asked by stat inside the
# jail (test_strace.sh: nothing opened). `check` warns when the host's
# default locale is not in a jail.
. "$(dirname "$0")/lib.sh"
vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/bare" "no locale"
vh_mkjail "$J/loc" "de_DE"
mkdir -p "$J/loc/usr/lib/locale/de_DE.utf8" && chmod -R go-w "$J/loc/usr"
vh_mkjail "$J/arc" "archive"
mkdir -p "$J/arc/usr/lib/locale" && : >"$J/arc/usr/lib/locale/locale-archive" && chmod -R go-w "$J/arc/usr"
vh_ctl add probe 127.0.0.2 "$J/bare" --user nobody >/dev/null
vh_ctl add probe 127.0.0.3 "$J/loc" --user nobody >/dev/null
vh_ctl add probe 127.0.0.4 "$J/bare" >/dev/null
vh_ctl add probe 127.0.0.5 "$J/arc" --user nobody >/dev/null

vh_tcpserver 0 19420 env LANG=de_DE.UTF-8 LC_MESSAGES=de_DE.UTF-8 LC_CTYPE=C.UTF-8 LC_NUMERIC=POSIX LC_ALL= \
	"$VIRTUALD" --db "$DB" probe /bin/probe info
out=$(vh_talk 127.0.0.2 19420)
vh_contains "control: served" "probe=info" "$out"
vh_contains "no locale data: LANG reaches the service as C" $'env LANG=C\n' "$out"
vh_contains "no locale data: LC_MESSAGES as C" $'env LC_MESSAGES=C\n' "$out"
vh_contains "no locale data: C.UTF-8 (data, not built into glibc) as C" $'env LC_CTYPE=C\n' "$out"
vh_contains "POSIX always passes" $'env LC_NUMERIC=POSIX\n' "$out"
vh_contains "an empty value passes as it is" $'env LC_ALL=\n' "$out"
out=$(vh_talk 127.0.0.3 19420)
vh_contains "the jail has de_DE.utf8: LANG=de_DE.UTF-8 passes" $'env LANG=de_DE.UTF-8\n' "$out"
vh_contains "the jail has de_DE.utf8: LC_MESSAGES passes" $'env LC_MESSAGES=de_DE.UTF-8\n' "$out"
vh_contains "the jail lacks C.utf8: LC_CTYPE as C" $'env LC_CTYPE=C\n' "$out"
out=$(vh_talk 127.0.0.5 19420)
vh_contains "a locale archive: the value passes (its content is not read)" $'env LANG=de_DE.UTF-8\n' "$out"
if [ -n "$VH_PIDS_CG" ]; then
	out=$(vh_talk 127.0.0.4 19420)
	vh_contains "root service, no locale data: LANG as C" $'env LANG=C\n' "$out"
fi
vh_stop_last

# The symptom itself: a glibc program that sets its locale from the
# environment, its stderr on the socket as under inetd.
if vh_ctl provision "$J/bare" --program /usr/bin/locale >/dev/null 2>&1; then
	vh_tcpserver 0 19421 env LANG=de_DE.UTF-8 \
		"$VIRTUALD" --db "$DB" probe /bin/busybox sh -c 'exec /usr/bin/locale 2>&1'
	out=$(vh_talk 127.0.0.2 19421)
	vh_contains "control: locale(1) ran in the jail" "LC_CTYPE=" "$out"
	vh_not_contains "no locale warning on the socket" "Cannot set" "$out"
	vh_stop_last
else
	vh_notok "provision of /usr/bin/locale failed: $(vh_ctl provision "$J/bare" --program /usr/bin/locale 2>&1 | tail -3)"
fi

# check: the host's default locale, missing from a jail, is a warning
if [ -f /etc/default/locale ]; then
	echo 'LANG="de_DE.UTF-8"' >"$F/default-locale"
	mount --bind "$F/default-locale" /etc/default/locale
	out=$(vh_ctl check probe 127.0.0.2 2>&1)
	vh_contains "check: the host's default locale missing from the jail is a warning" \
		"probe/127.0.0.2: warning [locale-missing] $J/bare/usr/lib/locale:" "$out"
	vh_contains "check: it says what virtuald does" "passes the service LANG=C instead" "$out"
	out=$(vh_ctl check probe 127.0.0.3 2>&1)
	vh_not_contains "check: a jail with the locale has no such warning" "[locale-missing]" "$out"
	echo 'LANG=C' >"$F/default-locale"
	out=$(vh_ctl check probe 127.0.0.2 2>&1)
	vh_not_contains "check: a host default of C needs nothing in the jail" "[locale-missing]" "$out"
	umount /etc/default/locale
else
	vh_ok "# skip: no /etc/default/locale to stand in for the host's default locale"
fi
vh_done
