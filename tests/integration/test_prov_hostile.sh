#!/bin/bash
# Issue 14 points 2 and 3, attacked: what provision copies and where it
# writes. A host secret named by --file, by a profile or by a package's
# file list is refused with its name; a profile name or path with ".."
# is refused; an untrusted profile is refused; symlinks a hostile root
# service plants where provision writes (a config file, a program, a
# package's symlink, a directory a profile makes) are never followed out
# of the jail; a --program that is a shared library is named as one.
# No ports.
. "$(dirname "$0")/lib.sh"

vh_test_user gitu 41730
getent passwd ftp >/dev/null || vh_test_user ftp 41731
cp -r "$VH_SRC/profiles" "$F/profiles"
chmod -R go-w "$F/profiles"
PD=(--profile-dir "$F/profiles")
mkdir -m 0755 "$F/jails"
J=$F/jails/j
echo "host secret" >"$F/secret"
echo "host file" >"$F/hostfile"
mkdir -m 0755 "$F/hostdir"
snap() { sha256sum "$F/secret" "$F/hostfile"; ls -A "$F/hostdir"; }
before=$(snap)

# --- secrets ------------------------------------------------------------
out=$(vh_ctl provision "$J" --program /bin/busybox --file /etc/shadow 2>&1)
vh_eq "--file /etc/shadow: refused (77)" 77 "$?"
vh_contains "--file /etc/shadow: named as a host secret" "/etc/shadow (mode 0640) is a host secret" "$out"
vh_check "--file /etc/shadow: nothing written (no jail made)" test ! -e "$J"
chmod 0600 "$F/secret"
out=$(vh_ctl provision "$J" --program /bin/busybox --file "$F/secret" 2>&1)
vh_eq "a file others cannot read: refused" 77 "$?"
vh_contains "a file others cannot read: named" "is not readable by others on the host" "$out"
ln -s /etc/shadow "$F/hostdir/innocent"
out=$(vh_ctl provision "$J" --program /bin/busybox --file "$F/hostdir/innocent" 2>&1)
vh_contains "a symlink to /etc/shadow: refused by where it leads" "$F/hostdir/innocent (mode 0640)" "$out"
rm "$F/hostdir/innocent"
mkdir -m 0700 "$F/private"
echo "root's eyes only" >"$F/private/readable"
chmod 0644 "$F/private/readable"
out=$(vh_ctl provision "$J" --program /bin/busybox --file "$F/private/readable" 2>&1)
vh_eq "a file readable by all below a 0700 directory: refused (77)" 77 "$?"
vh_contains "... named" "lies below a directory other host users cannot search" "$out"
out=$(vh_ctl provision "$J" --program /bin/busybox --file /etc/../etc/shadow 2>&1)
vh_eq "--file with '..': usage error" 64 "$?"
vh_contains "--file with '..': named" "clean absolute path" "$out"

# A package database that lists /etc/shadow, or a path with "..": a
# dpkg-query of the test's own laid over /usr/bin (private namespace).
mkdir -m 0755 "$F/fakebin"
cat >"$F/fakebin/dpkg-query" <<'SH'
#!/bin/sh
case $2 in
evil) printf '/.\n/etc\n/etc/shells\n/etc/shadow\n' ;;
dots) printf '/.\n/usr/bin/../../etc/shadow\n' ;;
*) echo "dpkg-query: package '$2' is not installed and no information is available" >&2; exit 1 ;;
esac
SH
chmod 0755 "$F/fakebin/dpkg-query"
mount -t overlay vhbin -o "lowerdir=$F/fakebin:/usr/bin" /usr/bin
out=$(vh_ctl provision "$J" --package evil 2>&1)
vh_eq "a package listing /etc/shadow: refused (77)" 77 "$?"
vh_contains "... naming the package and the file" "package evil: /etc/shadow (mode 0640) is a host secret" "$out"
out=$(vh_ctl provision "$J" --package dots 2>&1)
vh_eq "a package listing a path with '..': refused (65)" 65 "$?"
vh_contains "... named" "package dots lists '/usr/bin/../../etc/shadow', not a clean absolute path" "$out"
out=$(vh_ctl provision "$J" --package nosuch 2>&1)
vh_eq "a package that is not installed: 66" 66 "$?"
vh_contains "... with the remedy" "install it on the host first (apt-get install nosuch)" "$out"
out=$(vh_ctl provision "$J" --package '../etc' 2>&1)
vh_eq "a package name with '/': usage error" 64 "$?"
umount -l /usr/bin
vh_check "no package attempt made the jail" test ! -e "$J"

# --- profiles -----------------------------------------------------------
out=$(vh_ctl provision "$J" --profile ../profiles/rsync "${PD[@]}" 2>&1)
vh_eq "--profile with '..' as a name: usage error" 64 "$?"
vh_contains "... named" "give a clean absolute path (no '.', '..' or '//') or a profile name" "$out"
out=$(vh_ctl provision "$J" --profile "$F/profiles/../profiles/rsync.profile" 2>&1)
vh_eq "--profile path with '..': usage error" 64 "$?"
printf 'description bad\nprogram /bin/busybox\nfile /etc/shadow\n' >"$F/profiles/steal.profile"
out=$(vh_ctl provision "$J" --profile steal "${PD[@]}" 2>&1)
vh_eq "a profile naming /etc/shadow: refused (77)" 77 "$?"
vh_contains "... named" "/etc/shadow (mode 0640) is a host secret" "$out"
printf 'description bad\nprogram /bin/busybox\ndir /srv/../etc 0755 root root\n' >"$F/profiles/dots.profile"
out=$(vh_ctl provision "$J" --profile dots "${PD[@]}" 2>&1)
vh_eq "a profile with a '..' directory: refused (65)" 65 "$?"
vh_contains "... with its line" "profile dots line 3: expected dir PATH MODE OWNER GROUP" "$out"
printf 'description bad\nprogram /bin/busybox\ndir /srv 4755 root root\n' >"$F/profiles/suid.profile"
out=$(vh_ctl provision "$J" --profile suid "${PD[@]}" 2>&1)
vh_contains "a profile with a set-uid directory: refused" "at most 1777 (no set-uid or set-gid)" "$out"
printf 'description bad\nprogram /bin/busybox\nskel /etc/passwd 0644\n| evil::0:0::/:/bin/sh\n' >"$F/profiles/pw.profile"
out=$(vh_ctl provision "$J" --profile pw "${PD[@]}" 2>&1)
vh_eq "a profile writing /etc/passwd as a skeleton: usage error" 64 "$?"
vh_contains "... named, with the remedy" "provision merges the jail's accounts itself" "$out"
chmod g+w "$F/profiles/steal.profile"
out=$(vh_ctl provision "$J" --profile steal "${PD[@]}" 2>&1)
vh_contains "a group-writable profile: not trusted" "profile $F/profiles/steal.profile is not trusted" "$out"
out=$(vh_ctl provision "$J" --profile rsync --profile-dir profiles 2>&1)
vh_eq "a relative --profile-dir: usage error" 64 "$?"
vh_check "no bad profile made the jail" test ! -e "$J"

# --- a shared library as --program; --file of a library -----------------
PAMUNIX=$(ls /lib/*/security/pam_unix.so | head -n 1)
out=$(vh_ctl provision "$J" --program "$PAMUNIX" 2>&1)
vh_eq "--program pam_unix.so: usage error" 64 "$?"
vh_contains "... named as a shared library, with the remedy" "is a shared library (an ELF object without an interpreter), not a program: give it with --file $PAMUNIX" "$out"
vh_not_contains "... not the misleading 'install it on the host'" "install it on the host first" "$out"
out=$(vh_ctl provision "$J" --program /bin/busybox --file "$PAMUNIX" 2>&1)
vh_eq "--file pam_unix.so: provisioned" 0 "$?"
vh_check "... pam_unix.so is in the jail" test -f "$J$PAMUNIX"
vh_check "... with libpam, which it needs" test -f "$J$(dirname "$(dirname "$PAMUNIX")")/libpam.so.0"

# --- symlinks a hostile root service plants where provision writes ------
out=$(vh_ctl provision "$J" --profile rsync "${PD[@]}" --user gitu 2>&1)
vh_eq "provision rsync" 0 "$?"
rm "$J/etc/rsyncd.conf"
ln -s "$F/hostfile" "$J/etc/rsyncd.conf"
rm "$J/usr/bin/rsync"
ln -s "$F/hostfile" "$J/usr/bin/rsync"
out=$(vh_ctl provision "$J" --profile rsync "${PD[@]}" --user gitu 2>&1)
vh_eq "provision again over planted symlinks: exit 0" 0 "$?"
vh_contains "a symlink at a config file is kept, not followed" "kept $J/etc/rsyncd.conf" "$out"
vh_check "... it is still the tenant's symlink" test -L "$J/etc/rsyncd.conf"
vh_check "a symlink at a program is replaced by the program" test ! -L "$J/usr/bin/rsync" -a -f "$J/usr/bin/rsync"
out=$(vh_ctl provision "$J" --package git --user gitu 2>&1)
vh_eq "provision the git package" 0 "$?"
rm "$J/usr/lib/git-core/git-add"
ln -s "$F/hostfile" "$J/usr/lib/git-core/git-add"
out=$(vh_ctl provision "$J" --package git --user gitu 2>&1)
vh_eq "provision git over a planted symlink" 0 "$?"
vh_eq "a package's symlink is made again, to its plain name" "git" "$(readlink "$J/usr/lib/git-core/git-add")"
mkdir -m 0755 "$J/srv" 2>/dev/null
rm -rf "$J/srv"
ln -s "$F/hostdir" "$J/srv"
out=$(vh_ctl provision "$J" --profile git-daemon "${PD[@]}" --user gitu 2>&1)
vh_eq "a symlink where a profile makes a directory: refused" 72 "$?"
vh_contains "... named, with the remedy" "$J/srv is a symbolic link: provision follows no link inside a jail" "$out"
rm "$J/srv"
out=$(vh_ctl provision "$J" --profile git-daemon "${PD[@]}" --user gitu 2>&1)
vh_eq "the symlink removed: provision git-daemon" 0 "$?"
vh_eq "/srv/git is the --user's" "gitu" "$(stat -c %U "$J/srv/git")"
# a directory the tenant owns: provision writes nothing into it
ln -s "$F/hostfile" "$J/srv/git/planted"
out=$(vh_ctl provision "$J" --profile git-daemon "${PD[@]}" --user gitu 2>&1)
vh_eq "provision again with the tenant's /srv/git: exit 0" 0 "$?"
vh_eq "nothing on the host changed" "$before" "$(snap)"
vh_done
