#!/bin/bash
# The README's install line, built as it says on a host without cmocka
# (cmocka hidden from CMake), installed into a DESTDIR; then one scenario
# served from the installed tree; every installed file in place; the man
# pages' references to doc/ resolve in the install; the example configs
# usable: the inetd.conf line, and the systemd units (checked offline,
# then run as a socket activator runs them: listening per address, and
# the exit statuses the service unit counts as success exactly the
# refusals it says).
. "$(dirname "$0")/lib.sh"

# --- the README's install line, cmocka hidden -------------------------------
INSTALL=$(sed -n '/^## Install/,/^## [^I]/p' "$VH_SRC/README.md")
vh_eq "README's build line is the one built here" \
	"    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build" \
	"$(printf '%s\n' "$INSTALL" | grep -m1 '^    cmake -S ')"
vh_contains "README's install line installs under /usr" "cmake --install build --prefix /usr " \
	"$(printf '%s\n' "$INSTALL" | grep -m1 'cmake --install build')"
B=$F/build
cmake -S "$VH_SRC" -B "$B" -DCMAKE_BUILD_TYPE=Release -DCMAKE_DISABLE_FIND_PACKAGE_cmocka=ON >"$F/configure.log" 2>&1
vh_eq "the README's configure succeeds with cmocka hidden" 0 $?
CMAKE_BUILD_PARALLEL_LEVEL=2 cmake --build "$B" >"$F/build.log" 2>&1
vh_eq "the README's build succeeds with cmocka hidden" 0 $?
vh_check "no test is configured by default (VH_TESTS is a developer's option)" test ! -e "$B/tests"
vh_check "nothing in the install build refers to cmocka" bash -c "! grep -rqiE 'cmocka\\.h|libcmocka' '$B'"
# control: the hiding hides (the tests need cmocka, and are refused without it)
cmake -S "$VH_SRC" -B "$F/build-tests" -DVH_TESTS=ON -DCMAKE_DISABLE_FIND_PACKAGE_cmocka=ON >"$F/ctl.log" 2>&1
vh_check "control: -DVH_TESTS=ON with cmocka hidden fails to configure" test $? != 0
vh_contains "control: ... naming the package to install" "libcmocka-dev" "$(tr -s ' \n' ' ' <"$F/ctl.log")"

R=$F/root
mkdir -m 0755 "$R"
DESTDIR=$R cmake --install "$B" --prefix /usr >"$F/install.log" 2>&1
vh_eq "cmake --install succeeds" 0 $?
for f in sbin/virtuald sbin/vhostctl share/man/man8/virtuald.8 share/man/man8/vhostctl.8 \
	share/doc/virtuald/design.md share/doc/virtuald/jails.md share/doc/virtuald/legacy-migration.md \
	share/doc/virtuald/operations.md share/doc/virtuald/threats.md \
	share/doc/virtuald/examples/inetd.conf share/doc/virtuald/examples/xinetd.d/virtuald-http \
	share/doc/virtuald/examples/systemd/virtuald-http@.socket \
	share/doc/virtuald/examples/systemd/virtuald-http@.service \
	share/doc/virtuald/examples/systemd/virtuald-init.service \
	share/bash-completion/completions/vhostctl; do
	vh_check "installed: $f" test -s "$R/usr/$f"
done
vh_check "bash completion loads" bash -c ". /usr/share/bash-completion/bash_completion 2>/dev/null; . '$R/usr/share/bash-completion/completions/vhostctl' && complete -p vhostctl"

# --- the man pages point into the install, not into the source tree ---------
# docrefs FILE...: every path with "doc/" in it that the pages name
docrefs() { grep -ohE '[^ ]*doc/[^ ]*' "$@" | sed -e 's/\\-/-/g' -e 's/[.,;)]*$//' | sort -u; }
vh_eq "man/*.8 name no source-tree doc/ path" "" \
	"$(docrefs "$VH_SRC"/man/*.8 | grep -v '^/usr/share/doc/virtuald/')"
refs=$(docrefs "$R"/usr/share/man/man8/*.8)
vh_check "the installed man pages name documents ($(echo $refs))" test -n "$refs"
for r in $refs; do
	vh_check "man page reference $r is installed" test -s "$R$r"
done
# another prefix: the installed pages name that prefix's documents
DESTDIR=$F/root2 cmake --install "$B" --prefix /opt/vh >"$F/install2.log" 2>&1
refs2=$(docrefs "$F"/root2/opt/vh/share/man/man8/*.8)
vh_eq "--prefix /opt/vh: the pages name the same documents under /opt/vh" \
	"$(printf '%s\n' $refs | sed 's|^/usr/|/opt/vh/|')" "$refs2"
for r in $refs2; do
	vh_check "--prefix /opt/vh: man page reference $r is installed" test -s "$F/root2$r"
done

# --- the installed binaries serve a connection ------------------------------
VIRTUALD=$R/usr/sbin/virtuald
VHOSTCTL=$R/usr/sbin/vhostctl
vh_init_db
mkdir -m 0755 "$F/jails"
vh_mkjail "$F/jails/a" "installed a"
vh_mkjail "$F/jails/b" "installed b"
vh_ctl add http 127.0.0.2 "$F/jails/a" --user nobody >/dev/null
vh_ctl add http 127.0.0.3 "$F/jails/b" --user nobody >/dev/null
vh_tcpserver 0 18150 "$VIRTUALD" --db "$DB" http /bin/busybox httpd -i -h /www
vh_eq "installed virtuald serves 127.0.0.2" "installed a" "$(vh_get 127.0.0.2 18150)"
vh_eq "installed virtuald serves 127.0.0.3" "installed b" "$(vh_get 127.0.0.3 18150)"
vh_stop_last

# the example inetd.conf line, pointed at the installed tree and a test port
EX=$R/usr/share/doc/virtuald/examples
line=$(grep -m1 '^http' "$EX/inetd.conf")
printf '%s\n' "$line" | sed -e "s|^http|127.0.0.2:18151|" -e "s|/usr/sbin/virtuald|$VIRTUALD|" \
	-e "s|virtuald http|virtuald --db $DB http|" >"$F/inetd.conf"
/usr/sbin/inetd -d -R 100000 "$F/inetd.conf" >"$F/inetd.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 18151
vh_eq "the example inetd.conf line works" "installed a" "$(vh_get 127.0.0.2 18151)"
vh_stop_last

# --- the example systemd units ----------------------------------------------
# Checked offline (systemd-analyze verify loads them as PID 1 would, with
# the system's own units; no running systemd is needed), against the
# installed binaries.
U=$F/units
mkdir -m 0755 "$U"
for u in virtuald-http@.socket virtuald-http@.service virtuald-init.service; do
	sed -e "s|/usr/sbin/virtuald|$VIRTUALD|" -e "s|/usr/sbin/vhostctl|$VHOSTCTL|" "$EX/systemd/$u" >"$U/$u"
done
verify() { (cd "$U" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$@" 2>&1); }
for u in virtuald-http@127.0.0.2.socket virtuald-http@1.service virtuald-init.service; do
	vh_eq "systemd-analyze verify ./$u: no finding" "" "$(verify "./$u")"
done
# an IPv6 instance ("virtuald-http@\x5b::1\x5d.socket"): verify cannot
# load names with ":", so the template with its %I expanded
mkdir -m 0755 "$U/v6"
sed 's/%I/[::1]/g' "$U/virtuald-http@.socket" >"$U/v6/virtuald-http@.socket"
cp "$U/virtuald-http@.service" "$U/v6/"
vh_eq "systemd-analyze verify: the socket for [::1] parses" "" \
	"$(cd "$U/v6" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no ./virtuald-http@v6.socket 2>&1)"
vh_eq "the instance of the IPv6 example unescapes to [2001:db8::10]" "[2001:db8::10]" \
	"$(systemd-escape --unescape "$(systemd-escape '[2001:db8::10]')")"
# virtuald-init.service runs before sockets.target without an ordering
# cycle: a unit needing basic.target and it puts both in one transaction
# (basic.target comes after sockets.target). Control: with the default
# dependencies the same transaction has a cycle, and verify reports it.
printf '[Unit]\nRequires=basic.target virtuald-init.service\nAfter=basic.target virtuald-init.service\n[Service]\nExecStart=/bin/true\n' >"$U/vhboot.service"
vh_not_contains "virtuald-init.service before sockets.target: no ordering cycle at boot" "cycle" "$(verify ./vhboot.service)"
mkdir -m 0755 "$U/ctl"
sed 's/^DefaultDependencies=no/DefaultDependencies=yes/' "$U/virtuald-init.service" >"$U/ctl/virtuald-init.service"
cp "$U/vhboot.service" "$U/ctl/"
vh_contains "control: with default dependencies the same boot has an ordering cycle" "ordering cycle" \
	"$(cd "$U/ctl" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no ./vhboot.service 2>&1)"
vh_contains "virtuald-init.service is ordered before the super-servers and sockets.target" \
	"sockets.target inetd.service" "$(grep '^Before=sockets' "$U/virtuald-init.service")"

# virtuald-init.service's command on an existing database, twice: it
# rebuilds the index, keeps every row, succeeds; it never creates one.
unit_env_db=$(sed -n 's/^Environment=VIRTUALD_DB=//p' "$U/virtuald-init.service")
vh_eq "the init unit's condition is the database it names" "ConditionPathExists=$unit_env_db" \
	"$(grep '^ConditionPathExists=' "$U/virtuald-init.service")"
init_cmd=$(sed -n 's/^ExecStart=//p' "$U/virtuald-init.service")
sqlite3 "$DB" "UPDATE domains SET comment = 'behind vhostctl''s back' WHERE address = '127.0.0.3'"
vh_contains "before the init unit: the index is stale" "index-stale" "$(vh_ctl check 2>&1)"
rows=$(vh_ctl list --json)
for n in 1 2; do
	out=$(VIRTUALD_DB=$DB $init_cmd 2>&1)
	vh_eq "init unit's command, run $n: succeeds" 0 $?
	vh_contains "init unit's command, run $n: up to date" "up to date" "$out"
	vh_eq "init unit's command, run $n: every row unchanged" "$rows" "$(vh_ctl list --json)"
	vh_not_contains "init unit's command, run $n: the index is current" "index-stale" "$(vh_ctl check 2>&1)"
done

# The service half, as a socket unit runs it: listening per address (the
# socket's ListenStream= for the instance 127.0.0.2, on a test port),
# Accept=yes with StandardInput=socket (systemd-socket-activate --inetd
# --accept), ExecStart as given in the unit.
listen=$(sed -n 's/^ListenStream=//p' "$U/virtuald-http@.socket")
vh_eq "the socket unit listens on its instance's address" "%I:80" "$listen"
exec_start=$(sed -n 's/^ExecStart=//p' "$U/virtuald-http@.service")
# ssa ADDRESS PORT [DB]: the instance for ADDRESS, on PORT
ssa() {
	local l=${listen//%I/$1}
	vh_ssa "${l%:80}:$2" ${exec_start/virtuald http/virtuald --db ${3:-$DB} http}
}
ssa 127.0.0.2 18152
vh_eq "the example units serve their address" "installed a" "$(vh_get 127.0.0.2 18152)"
vh_eq "... and nothing listens on the host's other addresses" "" "$(vh_get 127.0.0.3 18152)"
vh_stop_last

# Exit statuses: the service unit counts as success exactly the refusals
# its comment names: no domain (68) and a disabled domain (69); an
# untrusted database (78) stays a failure. The statuses are virtuald's
# own, as the activator reports them ("Child N died with code S").
success=" $(sed -n 's/^SuccessExitStatus=//p' "$U/virtuald-http@.service") "
# status_of ADDRESS DB: virtuald's exit status for one connection
status_of() {
	: >"$F/ssa.log"
	ssa "$1" 18153 "$2"
	vh_get "$1" 18153 >/dev/null
	local i
	for i in $(seq 60); do
		grep -q 'died with code' "$F/ssa.log" && break
		sleep 0.05
	done
	vh_stop_last
	sed -n 's/.*died with code \([0-9]*\).*/\1/p' "$F/ssa.log" | tail -n 1
}
vh_ctl disable http 127.0.0.3 >/dev/null
mkdir -m 0777 "$F/untrusted"
cp "$DB" "$F/untrusted/vhosts.db"
for c in "no domain:127.0.0.4:$DB:68:success" "disabled:127.0.0.3:$DB:69:success" \
	"database untrusted:127.0.0.2:$F/untrusted/vhosts.db:78:failure"; do
	IFS=: read -r what addr db want counts <<<"$c"
	st=$(status_of "$addr" "$db")
	vh_eq "refusal ($what): virtuald exits $want" "$want" "$st"
	case "$success" in
	*" $st "*) got=success ;;
	*) got=failure ;;
	esac
	vh_eq "refusal ($what): the unit counts status $st as $counts" "$counts" "$got"
done

vh_done
