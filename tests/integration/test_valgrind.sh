#!/bin/bash
# valgrind memcheck of every vhostctl command on a fixture database: no
# invalid access, no uninitialised use, no leak (definite, indirect or
# possible), on the success and on the error paths. (virtuald's paths
# run under ASan and UBSan in the sanitizer build; valgrind needs the
# plain build, so this test is not registered there.)
. "$(dirname "$0")/lib.sh"
VG=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible --track-fds=no)
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/a" "page A"

# vg DESCRIPTION EXPECTED-STATUS ARGS...: vhostctl under memcheck
vg() {
	local what=$1 want=$2 rc
	shift 2
	"${VG[@]}" "$VHOSTCTL" --db "$DB" "$@" >"$F/vg.out" 2>"$F/vg.err"
	rc=$?
	if [ "$rc" = 99 ] || grep -q '^==[0-9]*==' "$F/vg.err"; then
		vh_notok "memcheck: vhostctl $what: $(grep '^==' "$F/vg.err" | head -5)"
	elif [ "$rc" != "$want" ]; then
		vh_notok "memcheck: vhostctl $what: status $rc, expected $want: $(head -3 "$F/vg.err")"
	else
		vh_ok "memcheck clean: vhostctl $what (status $rc)"
	fi
}

vg "init" 0 init
vg "init again (upgrade, idempotent)" 0 init
vg "add (run-as user, comment)" 0 add http 127.0.0.2 "$J/a" --user nobody --comment "site a"
vg "add (root service, disabled)" 0 add ftp 2001:db8::1 "$J/a" --disabled
vg "add (default row, group)" 0 add '*' default "$J/a" --user nobody --group nogroup
vg "add duplicate (error)" 65 add http 127.0.0.2 "$J/a" --user nobody
vg "add bad address (error)" 65 add http 010.0.0.1 "$J/a" --user nobody
vg "add unknown user (error)" 67 add http 127.0.0.3 "$J/a" --user no-such-user-vh
vg "list" 0 list
vg "list --json" 0 list --json
vg "list --service" 0 list --service http
vg "lookup (served)" 0 lookup http 127.0.0.2
vg "lookup --json" 0 lookup http 127.0.0.2 --json
vg "lookup (refused: disabled)" 1 lookup ftp 2001:db8::1
vg "disable" 0 disable http 127.0.0.2
vg "enable" 0 enable http 127.0.0.2
vg "remove" 0 remove ftp 2001:db8::1
vg "remove missing (error)" 68 remove ftp 2001:db8::1
# issue 13 points 7, 8: set in place, the history
vg "set (root, user, comment)" 0 set http 127.0.0.2 --root "$J/a" --user nobody --comment "site a2"
vg "set --no-user --disable" 0 set http 127.0.0.2 --no-user --disable
vg "set unknown user (error)" 67 set http 127.0.0.2 --user no-such-user-vh
vg "history" 0 history
vg "history SERVICE ADDRESS --limit --json" 0 history http 127.0.0.2 --limit 2 --json
vg "history --max" 0 history --max 5
vg "--help" 0 --help
vg "--version" 0 --version
vg "bad command (usage)" 64 frobnicate

vh_done
