#!/bin/bash
# Issue 14 points 2 and 3: profiles. For each profile of profiles/, an
# empty jail is provisioned with ONE command, a row added, and a real
# client is served through tcpserver and virtuald on the first try, with
# the command line the profile's own inetd line gives. Then all six go
# into one shared jail, one after the other: after each provision, every
# service provisioned before it still serves (and a re-provision of the
# first changes nothing). Ports 19700-19799.
. "$(dirname "$0")/lib.sh"

vh_init_db
vh_test_user webu 41710
vh_test_user gitu 41711
vh_test_user rsyncu 41712
vh_test_user mailu 41713
# the service users the profiles name, resolved on the host: Debian's
# vsftpd and popa3d packages make them; made here (in this test's
# private passwd) when the host lacks them
getent passwd ftp >/dev/null || vh_test_user ftp 41714
getent passwd popa3d >/dev/null || vh_test_user popa3d 41715
# the profiles as installed: a root-owned directory (provision trusts a
# profile as virtuald trusts its database)
cp -r "$VH_SRC/profiles" "$F/profiles"
chmod -R go-w "$F/profiles"
PD=(--profile-dir "$F/profiles")
# vsftpd conflicts with inetutils-ftpd (the other tests' ftpd): scripts/deps
# unpacks it, and this test lays it over /usr/sbin and /etc/pam.d in its
# private mount namespace (read-only overlays), as if installed.
V=/var/cache/virtuald-test/vsftpd
if [ ! -x /usr/sbin/vsftpd ]; then
	if [ ! -x "$V/usr/sbin/vsftpd" ]; then
		vh_notok "vsftpd is neither installed nor unpacked in $V - run scripts/deps"
	else
		mount -t overlay vhsbin -o "lowerdir=$V/usr/sbin:/usr/sbin" /usr/sbin &&
			mount -t overlay vhpam -o "lowerdir=$V/etc/pam.d:/etc/pam.d" /etc/pam.d ||
			vh_notok "cannot lay vsftpd over /usr/sbin and /etc/pam.d"
	fi
fi
mkdir -m 0755 "$F/jails"

# the command line of profile NAME's inetd line: SERVICE PROGRAM ARGS
inetd_cmd() {
	sed -n 's/^inetd .*virtuald virtuald //p' "$F/profiles/$1.profile"
}

# provision_one JAIL PROFILE [--user U]: one command, exit 0
provision_one() {
	local j=$1 p=$2
	shift 2
	local rc
	out=$(vh_ctl provision "$j" --profile "$p" "${PD[@]}" "$@" 2>&1)
	rc=$?
	vh_eq "provision $p into ${j##*/} exits 0" 0 "$rc"
	[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -5
}

# tenant_data JAIL PROFILE: what the tenant puts in the jail after
# provisioning (its site, repository, files, mailbox, password hash)
tenant_data() {
	local j=$1
	case $2 in
	git-daemon)
		rm -rf "$F/work.git"
		git init -q -b main "$F/work.git"
		git -C "$F/work.git" -c user.name=t -c user.email=t@example.org commit -q --allow-empty -m first
		git clone -q --bare --no-local "$F/work.git" "$j/srv/git/repo.git"
		chown -R gitu:gitu "$j/srv/git/repo.git"
		;;
	rsync)
		echo "rsync file of $(basename "$j")" >"$j/srv/rsync/hello.txt"
		chown rsyncu:rsyncu "$j/srv/rsync/hello.txt"
		;;
	popa3d)
		printf 'mailu:%s:19000:0:99999:7:::\n' "$(openssl passwd -6 -salt vhtest secret)" >>"$j/etc/shadow"
		printf 'From a@example.org Mon Jan  1 00:00:00 2024\nSubject: hi\n\nhello %s\n\n' "$(basename "$j")" \
			>"$j/var/mail/mailu"
		chown mailu:mailu "$j/var/mail/mailu"
		chmod 0600 "$j/var/mail/mailu"
		;;
	inetutils-ftpd) echo "ftp file of $(basename "$j")" >"$j/srv/ftp/pub/a.txt" ;;
	vsftpd) echo "vsftpd file of $(basename "$j")" >"$j/srv/ftp/v.txt" ;;
	esac
}

# client PROFILE ADDR PORT JAIL: 0 when the service answers as it should
client() {
	local p=$1 a=$2 port=$3 j=$4 got
	case $p in
	busybox-httpd) got=$(vh_get "$a" "$port" /) && [[ $got == *"It works"* ]] ;;
	git-daemon)
		got=$(timeout 20 git ls-remote "git://$a:$port/repo.git" 2>&1)
		[[ $got == *"refs/heads/main"* ]] ;;
	rsync)
		got=$(timeout 20 rsync "rsync://$a:$port/files/hello.txt" "$F/rsync.out" 2>&1 && cat "$F/rsync.out")
		[ "$got" = "rsync file of $(basename "$j")" ] ;;
	popa3d)
		got=$(printf 'USER mailu\r\nPASS secret\r\nSTAT\r\nQUIT\r\n' | socat -t 5 -T 10 - "TCP:$a:$port" 2>&1)
		[[ $got == *"+OK 1 "* ]] ;;
	inetutils-ftpd)
		got=$(curl -sS --max-time 10 "ftp://$a:$port/pub/a.txt" 2>&1)
		[ "$got" = "ftp file of $(basename "$j")" ] ;;
	vsftpd)
		got=$(curl -sS --max-time 10 "ftp://$a:$port/v.txt" 2>&1)
		[ "$got" = "vsftpd file of $(basename "$j")" ] ;;
	esac
	local rc=$?
	[ $rc = 0 ] || echo "# $p on $a:$port answered: $(printf '%s' "$got" | head -c 300)"
	return $rc
}

PROFILES=(busybox-httpd git-daemon rsync popa3d inetutils-ftpd vsftpd)
declare -A USER_OF=([busybox-httpd]=webu [git-daemon]=gitu [rsync]=rsyncu [popa3d]=mailu)
# the row's run-as user: the root-starting servers run as root
declare -A RUNAS=([busybox-httpd]=webu [git-daemon]=gitu [rsync]=rsyncu)

out=$(vh_ctl provision --list-profiles "${PD[@]}")
for p in "${PROFILES[@]}"; do
	vh_contains "--list-profiles lists $p" "$p " "$out"
done

# serve PROFILE JAIL ADDR PORT: row, super-server, first connection
serve() {
	local p=$1 j=$2 a=$3 port=$4 cmd svc
	cmd=$(inetd_cmd "$p")
	svc=${cmd%% *}
	local rc
	out=$(vh_ctl add "$svc" "$a" "$j" ${RUNAS[$p]:+--user ${RUNAS[$p]}} 2>&1)
	rc=$?
	vh_eq "add $svc $a ($p)" 0 "$rc"
	[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -5
	# shellcheck disable=SC2086 # the inetd line's words
	vh_tcpserver "$a" "$port" "$VIRTUALD" --db "$DB" $cmd
}

# 1. Each profile into an empty jail, served on the first connection.
i=0
for p in "${PROFILES[@]}"; do
	i=$((i + 1))
	j=$F/jails/$p
	if [ -n "${USER_OF[$p]:-}" ]; then
		provision_one "$j" "$p" --user "${USER_OF[$p]}"
	else
		provision_one "$j" "$p"
	fi
	tenant_data "$j" "$p"
	serve "$p" "$j" "127.0.0.$((70 + i))" "$((19700 + i))"
	vh_check "$p: served on the first try from an empty jail" client "$p" "127.0.0.$((70 + i))" "$((19700 + i))" "$j"
	out=$(vh_ctl provision "$j" --profile "$p" "${PD[@]}" ${USER_OF[$p]:+--user ${USER_OF[$p]}} 2>&1)
	vh_contains "$p: provisioning again changes nothing" "provisioned $j: 0 changes" "$out"
done
vh_contains "the rsync profile's config skeleton is the jail's own on a second run" "kept $F/jails/rsync/etc/rsyncd.conf" \
	"$(vh_ctl provision "$F/jails/rsync" --profile rsync "${PD[@]}" --user rsyncu 2>&1)"
vh_check "git-daemon: git-core's helpers came with the package" test -x "$F/jails/git-daemon/usr/lib/git-core/git-upload-pack"
vh_check "popa3d: its PAM stack is in the jail" test -f "$F/jails/popa3d/etc/pam.d/popa3d"
vh_check "popa3d: pam_unix.so is in the jail" test -f "$F/jails/popa3d/lib/x86_64-linux-gnu/security/pam_unix.so"
vh_check "popa3d: an NSS module is in the jail" test -f "$F/jails/popa3d/lib/x86_64-linux-gnu/libnss_files.so.2"
vh_check "popa3d: the C.UTF-8 locale is in the jail" test -f "$F/jails/popa3d/usr/lib/locale/C.utf8/LC_CTYPE"
GCONV=$(strings /lib/x86_64-linux-gnu/libc.so.6 | grep -m1 -x '/[a-z0-9/_-]*/gconv')
vh_check "rsync imports iconv: gconv modules are in the jail, where libc looks ($GCONV)" test -f "$F/jails/rsync$GCONV/gconv-modules"
# gconv is usable in a jail: iconv(1), provisioned alone, converts to a
# charset only a gconv module knows
out=$(vh_ctl provision "$F/jails/iconv" --program /usr/bin/iconv 2>&1)
vh_eq "provision iconv" 0 "$?"
vh_eq "iconv in the jail converts UTF-8 to ISO-8859-15 (a gconv module)" "63 61 66 e9" \
	"$(printf 'caf\xc3\xa9' | chroot "$F/jails/iconv" /usr/bin/iconv -f UTF-8 -t ISO-8859-15 | od -An -tx1 | xargs)"
vh_check "busybox (static) gets no NSS or locale" test ! -e "$F/jails/busybox-httpd/usr/lib/locale"

# 2. All six into one jail, one after the other; every earlier service
# keeps serving after each provision.
S=$F/jails/shared
i=0
for p in "${PROFILES[@]}"; do
	i=$((i + 1))
	provision_one "$S" "$p" ${USER_OF[$p]:+--user ${USER_OF[$p]}}
	tenant_data "$S" "$p"
	serve "$p" "$S" "127.0.0.$((80 + i))" "$((19710 + i))"
	k=0
	for q in "${PROFILES[@]:0:$i}"; do
		k=$((k + 1))
		vh_check "shared jail, after provisioning $p: $q serves" client "$q" "127.0.0.$((80 + k))" "$((19710 + k))" "$S"
	done
done
out=$(vh_ctl provision "$S" --profile busybox-httpd "${PD[@]}" --user webu 2>&1)
vh_contains "shared jail: re-provisioning the first profile changes nothing" "provisioned $S: 0 changes" "$out"
vh_eq "shared jail: every service's users are in its passwd" "root webu gitu rsyncu mailu popa3d ftp nobody" \
	"$(cut -d: -f1 "$S/etc/passwd" | xargs)"
k=0
for q in "${PROFILES[@]}"; do
	k=$((k + 1))
	vh_check "shared jail, at the end: $q serves" client "$q" "127.0.0.$((80 + k))" "$((19710 + k))" "$S"
done
vh_done
