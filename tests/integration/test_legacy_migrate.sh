#!/bin/bash
# migrate-inetd (PRODUCT §6): one command moves the HOWTO's example
# installation, and the converted inetd.conf, run by a real openbsd-inetd,
# serves each loopback address from its jail through the built virtuald,
# fetched with curl. The HOWTO's inetd.conf runs the legacy program from
# /usr/local/bin/virtuald; the converted lines must run the new one
# (issue 13, point 1: --virtuald names the built one here, as the
# installed one is named by default). Golden transcripts for the
# realistic and the broken
# inetd.conf; running twice does no harm; a failed migration changes
# neither the database nor the file.
#
# Golden files: tests/integration/data/legacy/migrate_*.out
# (VH_GOLDEN_UPDATE=1 regenerates them; review the diff).
. "$(dirname "$0")/lib.sh"

DATA=$VH_SRC/tests/integration/data/legacy
INETD=$(command -v inetd || echo /usr/sbin/inetd)
V=$F/virtual
mkdir -m 0755 "$V" "$F/out"
vh_mkjail "$V/domain1.com" "domain1"
vh_mkjail "$V/domain2.com" "domain2"
vh_mkjail "$V/default" "ftp default"
vh_mkjail "$V/pop1" "pop one"
vh_mkjail "$V/popdefault" "pop default"
vh_init_db

# data NAME DEST: a data file with @F@ and @VIRTUALD@ filled in
data() {
	sed -e "s|@F@|$F|g" -e "s|@VIRTUALD@|$VIRTUALD|g" "$DATA/$1" >"$2"
}

# golden NAME ARGS...: "vhostctl ARGS" in $F, compared with NAME.out
golden() {
	local name=$1
	shift
	local out=$F/out/$name.out rc
	(cd "$F" && "$VHOSTCTL" "$@" >"$F/out/stdout" 2>"$F/out/stderr")
	rc=$?
	{
		printf '$ vhostctl'
		printf ' %q' "$@"
		echo
		echo "--- stdout"
		cat "$F/out/stdout"
		echo "--- stderr"
		cat "$F/out/stderr"
		echo "--- exit $rc"
	} | sed -e "s|$VIRTUALD|@VIRTUALD@|g" -e "s|$F|@F@|g" >"$out"
	[ -n "${VH_GOLDEN_UPDATE:-}" ] && cp "$out" "$DATA/$name.out"
	if diff -u "$DATA/$name.out" "$out" >"$F/out/diff"; then
		vh_ok "golden $name"
	else
		vh_notok "golden $name differs:"
		cat "$F/out/diff"
	fi
	return $rc
}

sum() {
	sha256sum <"$1" | cut -d' ' -f1
}

rows() {
	sqlite3 "$DB" "SELECT count(*) FROM domains WHERE service = '$1'"
}

data howto_inetd.conf "$F/inetd.conf"
data howto_conf.ftp "$V/conf.ftp"
data howto_conf.pop "$V/conf.pop"
cp "$F/inetd.conf" "$F/inetd.conf.orig"

# --- broken inputs first: nothing imported, nothing written --------------
data bad_inetd.conf "$F/bad.conf"
dbsum=$(sum "$DB")
golden migrate_bad migrate-inetd bad.conf --write --db "$DB" --virtuald "$VIRTUALD"
vh_eq "a refused migration leaves the database byte-identical" "$dbsum" "$(sum "$DB")"
vh_check "a refused migration writes no backup" test ! -e "$F/bad.conf.bak"
# a legacy CONF with a bad line: the whole migration is refused
printf '127.0.0.2 %s\n10.1 %s\n' "$V/pop1" "$V/pop1" >"$V/conf.bad"
printf 'ftp stream tcp nowait root %s virtuald %s p\nsmtp stream tcp nowait root %s virtuald %s p\n' \
	"$VIRTUALD" "$V/conf.ftp" "$VIRTUALD" "$V/conf.bad" >"$F/badconf.conf"
cp "$F/badconf.conf" "$F/badconf.orig"
golden migrate_badconf migrate-inetd badconf.conf --write --db "$DB" --virtuald "$VIRTUALD"
vh_eq "no row of the good CONF either" 0 "$(rows ftp)"
vh_eq "the database is byte-identical" "$dbsum" "$(sum "$DB")"
vh_check "the inetd.conf is unchanged" cmp -s "$F/badconf.conf" "$F/badconf.orig"
golden migrate_reldb migrate-inetd inetd.conf --db db/vhosts.db
ln -s inetd.conf "$F/link.conf"
golden migrate_symlink migrate-inetd link.conf --write --db "$DB" --virtuald "$VIRTUALD"

# --- a realistic inetd.conf, dry run: the conversion, the report --------
data realistic_inetd.conf "$F/realistic.conf"
golden migrate_realistic_dry migrate-inetd realistic.conf --dry-run --db "$DB" --virtuald "$VIRTUALD"
vh_eq "a dry run imports nothing" "$dbsum" "$(sum "$DB")"

# --- the HOWTO installation: print, then --write, then --write again -----
golden migrate_howto migrate-inetd inetd.conf --db "$DB" --virtuald "$VIRTUALD"
vh_check "without --write the file is unchanged" cmp -s "$F/inetd.conf" "$F/inetd.conf.orig"
vh_eq "ftp's domains imported" 3 "$(rows ftp)"
vh_eq "pop-3's domains imported" 2 "$(rows pop-3)"
golden migrate_howto_write migrate-inetd inetd.conf --write --db "$DB" --virtuald "$VIRTUALD"
vh_check "the backup is the original file" cmp -s "$F/inetd.conf.bak" "$F/inetd.conf.orig"
vh_eq "the converted file keeps its mode" "$(stat -c %a "$F/inetd.conf.orig")" "$(stat -c %a "$F/inetd.conf")"
vh_check "no temporary file is left" bash -c "! ls '$F' | grep -q vhostctl-"
cp "$F/inetd.conf" "$F/inetd.conf.converted"
golden migrate_howto_again migrate-inetd inetd.conf --write --db "$DB" --virtuald "$VIRTUALD"
vh_check "a second --write changes nothing" cmp -s "$F/inetd.conf" "$F/inetd.conf.converted"
vh_check "a second --write keeps the original backup" cmp -s "$F/inetd.conf.bak" "$F/inetd.conf.orig"
vh_eq "and imports nothing twice" 3 "$(rows ftp)"
# a CONF changed after the first migration: a different row is an error
sed -i "s|^127.0.0.3 .*|127.0.0.3 $V/pop1|" "$V/conf.ftp"
cp "$F/inetd.conf.orig" "$F/again.conf"
golden migrate_changed migrate-inetd again.conf --db "$DB" --virtuald "$VIRTUALD"
sed -i "s|^127.0.0.3 .*|127.0.0.3 $V/domain2.com|" "$V/conf.ftp"

# --- the migrated line, served by a real openbsd-inetd -------------------
# ftp and pop-3 on high ports, in this test's own mount namespace only
sed -e '/^ftp[[:space:]]/d' -e '/^pop3[[:space:]]/d' /etc/services >"$F/services"
printf 'ftp\t\t18521/tcp\npop3\t\t18510/tcp\tpop-3\n' >>"$F/services"
mount --bind "$F/services" /etc/services
"$INETD" -d -R 10000 "$F/inetd.conf" >"$F/inetd.log" 2>&1 &
VH_PIDS+=($!)
vh_wait_listen 18521 && vh_wait_listen 18510
vh_eq "ftp on 127.0.0.2 is served from domain1.com" "domain1" "$(vh_get 127.0.0.2 18521)"
vh_eq "ftp on 127.0.0.3 is served from domain2.com" "domain2" "$(vh_get 127.0.0.3 18521)"
vh_eq "ftp on 127.0.0.4 falls to the default line" "ftp default" "$(vh_get 127.0.0.4 18521)"
vh_eq "pop-3 on 127.0.0.2 is served from pop1" "pop one" "$(vh_get 127.0.0.2 18510)"
vh_eq "pop-3 on 127.0.0.3 falls to its default" "pop default" "$(vh_get 127.0.0.3 18510)"
line=$(vh_log_wait "served service=ftp local=127.0.0.3:18521")
vh_contains "virtuald logged the migrated domain" "domain=ftp/127.0.0.3 rule=exact root=$V/domain2.com user=root" "$line"
line=$(vh_log_wait "served service=pop-3 local=127.0.0.3:18510")
vh_contains "pop-3 is the service name from inetd.conf's first column" "domain=pop-3/default rule=default" "$line"
vh_not_contains "inetd never saw a stray argument" "virtuald: " "$(grep -a 'refused' "$F/syslog")"

vh_done
