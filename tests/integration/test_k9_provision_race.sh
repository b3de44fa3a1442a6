#!/bin/bash
# test_k9_provision_race.sh - THREATS K9: a hostile root service races
# `vhostctl provision` in its own jail.
#
# - the race: a racer chrooted into the jail (race_k9.c) exchanges the
#   temporary names provision creates in /dev and /etc with symlinks to
#   host files and directories (a decoy "shadow", a decoy directory, the
#   lookup index) and with hard links to host files, replaces /dev and
#   /etc and their entries by such links, renames the directories away
#   and back, while provision runs again and again (VH_K9_RUNS runs, at
#   most VH_K9_SECONDS seconds). Afterwards no host file has changed
#   (mode, owner, content) and the index is still 0600. Control: the old
#   install (mknodat, then fchmodat by the temporary name) under the same
#   racer chmods a host file within the same budget.
# - mounts: with a tmpfs, or a bind mount of a host directory on the
#   jail's own file system, mounted on the jail's /etc, provision refuses
#   naming the mount and writes nothing through it. Control: a write by
#   path through the jail lands in the host directory.
. "$(dirname "$0")/lib.sh"

RACE=${VH_RACE_K9:-$VH_BUILD/tests/integration/vh_race_k9}
# A fifth of the runs under ASan+UBSan, as for A9.
s=1
[ -n "${VH_SANITIZE:-}" ] && s=5
RUNS=${VH_K9_RUNS:-$((2000 / s))}
SECS=${VH_K9_SECONDS:-20}
MIN_RUNS=${VH_K9_MIN_RUNS:-$((500 / s))}

vh_init_db
IX=$DB-index
H=$F/host
mkdir -m 0755 "$F/jails" "$H" "$H/dir"
printf 'root:$6$decoy-hash:19000:0:99999:7:::\n' >"$H/decoy"
chmod 0600 "$H/decoy" "$IX"
echo keep >"$H/dir/f"

# Mode, owner and content of every host file the racer aims at.
snapshot() {
	stat -c '%n %a %u %g %F' "$H/decoy" "$H/dir" "$H"/dir/* "$IX"
	sha256sum "$H/decoy" "$H"/dir/* "$IX"
	ls -A "$H" "$H/dir"
}

J=$F/jails/a
vh_ctl provision "$J" --program /bin/busybox >/dev/null 2>&1
vh_check "provision builds the jail the racer will live in" test -c "$J/dev/null"
vh_check "the lookup index exists beside the database (a target)" test -f "$IX"

# --- the race, against provision ---------------------------------------
before=$(snapshot)
ixmode=$(stat -c %a "$IX")
out=$("$RACE" provision "$J" "$H" "$RUNS" "$SECS" "$IX")
echo "# $out"
runs=$(sed -n 's/.* runs=\([0-9]*\) .*/\1/p' <<<"$out")
refused=$(sed -n 's/.* refused=\([0-9]*\) .*/\1/p' <<<"$out")
ok=$(sed -n 's/.* ok=\([0-9]*\) .*/\1/p' <<<"$out")
escaped=$(sed -n 's/.* escaped=\([0-9]*\).*/\1/p' <<<"$out")
vh_check "K9 provision ran at least $MIN_RUNS times under the racer (ran ${runs:-?})" test "${runs:-0}" -ge "$MIN_RUNS"
vh_check "K9 the race was live: runs refused (a link or a swapped node seen: ${refused:-?}) and runs completed (${ok:-?})" \
	test "${refused:-0}" -gt 0 -a "${ok:-0}" -gt 0
vh_eq "K9 provision under the racer: 0 host files changed in mode or owner" 0 "${escaped:-x}"
vh_eq "K9 provision under the racer: host decoys unchanged (mode, owner, content, directory listing)" "$before" "$(snapshot)"
vh_eq "K9 the lookup index is still mode $ixmode" "$ixmode" "$(stat -c %a "$IX")"

# Racer gone (killed maybe while /dev or /etc was its symlink: the
# remedy provision names is to remove the link). What it left inside the
# jail is replaced, not followed.
# Its links at provision's temporary names (.vh-provision.PID.N) too: a
# hard link there to a host decoy is what the check after provisioning
# rightly reports as an error, which would fail the repair run below.
find "$J" -depth \( -name '*k9*' -o -name '.vh-provision.*' \) -exec rm -rf {} +
for d in dev etc; do
	if [ -L "$J/$d" ]; then rm "$J/$d"; fi
done
# provision reads the jail's /etc/passwd and /etc/group (it merges them,
# issue 14): a link the racer left there, symbolic or hard (to a host
# decoy), is refused rather than read; the remedy it names is rm.
for f in passwd group; do
	if [ -L "$J/etc/$f" ] || { [ -e "$J/etc/$f" ] && [ "$(stat -c %h "$J/etc/$f")" != 1 ]; }; then
		out=$(vh_ctl provision "$J" --program /bin/busybox 2>&1)
		vh_check "K9 a link left at /etc/$f is refused, not read" \
			grep -qE "$J/etc/$f (is a symbolic link|has [0-9]+ hard links)" <<<"$out"
		rm "$J/etc/$f"
	fi
done
out=$(vh_ctl provision "$J" --program /bin/busybox 2>&1)
rc=$?
if [ "$rc" = 0 ]; then
	vh_ok "K9 after the race provision repairs the jail"
else
	vh_notok "K9 after the race provision repairs the jail: exit $rc: $out"
fi
vh_eq "K9 /dev/null is the real node again" "character special file 1:3 666 0 0" \
	"$(stat -c '%F %t:%T %a %u %g' "$J/dev/null")"
vh_contains "K9 /etc/passwd is a regular file again" "regular file" "$(stat -c %F "$J/etc/passwd")"
# The repair is vhostctl provision, which records the jail's manifest in
# the database (issue 14 point 4): the lookup index then learns the
# database's new state, so its content changes by right; its mode and
# owner, and every decoy, must not.
vh_eq "K9 host decoys still unchanged after the repair" "$(grep -v "  $IX\$" <<<"$before")" \
	"$(snapshot | grep -v "  $IX\$")"

# --- control: the old chmod-by-name install under the same racer -------
# (from the decoys' first state, whatever happened above)
chmod 0600 "$H/decoy" "$IX"
chmod 0755 "$H/dir"
out=$("$RACE" naive "$J" "$H" 100000 "$SECS" "$IX")
echo "# control: $out"
vh_eq "K9 control: the old install (fchmodat by the temporary name) changes a host file under the racer" \
	1 "$(sed -n 's/.* escaped=\([0-9]*\).*/\1/p' <<<"$out")"
after=$(snapshot)
vh_check "K9 control: the change shows in the host decoys" test "$before" != "$after"
chmod 0600 "$H/decoy" "$IX"
chmod 0755 "$H/dir"

# --- mounts inside the jail ---------------------------------------------
M=$F/jails/m
vh_ctl provision "$M" --program /bin/busybox >/dev/null 2>&1
rm -f "$M/etc/passwd" "$M/etc/group"

mount -t tmpfs -o mode=0755,size=1m k9tmp "$M/etc"
out=$(vh_ctl provision "$M" --program /bin/busybox 2>&1)
rc=$?
vh_check "K9 tmpfs on the jail's /etc: provision refuses (exit $rc)" test "$rc" != 0
vh_contains "K9 tmpfs: the error names the mount and the remedy" \
	"$M/etc is a mount point inside the jail: provision never writes through a mount" "$out"
vh_eq "K9 tmpfs: nothing written into the mounted file system" "" "$(ls -A "$M/etc")"
umount "$M/etc"

hostdir_before=$(ls -A "$H/dir"; sha256sum "$H"/dir/*)
mount --bind "$H/dir" "$M/etc"
vh_eq "K9 a bind mount of a host directory on the jail's own file system (same device)" \
	"$(stat -c %d "$M")" "$(stat -c %d "$M/etc/.")"
out=$(vh_ctl provision "$M" --program /bin/busybox 2>&1)
rc=$?
vh_check "K9 bind mount on the jail's /etc: provision refuses (exit $rc)" test "$rc" != 0
vh_contains "K9 bind mount: the error names the mount" "$M/etc is a mount point inside the jail" "$out"
vh_eq "K9 bind mount: the host directory is unchanged" "$hostdir_before" "$(ls -A "$H/dir"; sha256sum "$H"/dir/*)"
# Control: what a writer by path does through that mount.
echo control >"$M/etc/passwd"
vh_eq "K9 control: a write by path through the jail's /etc lands in the host directory" control \
	"$(cat "$H/dir/passwd" 2>/dev/null)"
rm -f "$H/dir/passwd"
umount "$M/etc"

# A file bind-mounted over a target: never read, never written (since
# provision merges /etc/passwd, issue 14, the mount is refused when the
# file is read, before anything is written).
vh_ctl provision "$M" --program /bin/busybox >/dev/null 2>&1
echo "changed" >>"$M/etc/passwd"
decoy_before=$(sha256sum <"$H/decoy")
mount --bind "$H/decoy" "$M/etc/passwd"
out=$(vh_ctl provision "$M" --program /bin/busybox 2>&1)
rc=$?
vh_check "K9 a host file bind-mounted on the jail's /etc/passwd: provision refuses (exit $rc)" test "$rc" != 0
vh_contains "K9 file mount: the error names it" "$M/etc/passwd is a mount point inside the jail" "$out"
vh_eq "K9 file mount: the host file is unchanged" "$decoy_before" "$(sha256sum <"$H/decoy")"
umount "$M/etc/passwd"

# --- a symlink where a jail directory should be ------------------------
S=$F/jails/s
vh_ctl provision "$S" --program /bin/busybox >/dev/null 2>&1
rm -rf "$S/etc"
ln -s "$H/dir" "$S/etc"
out=$(vh_ctl provision "$S" --program /bin/busybox 2>&1)
rc=$?
vh_check "K9 /etc a symlink to a host directory: provision refuses (exit $rc)" test "$rc" != 0
vh_contains "K9 symlink: the error names it and the remedy" \
	"$S/etc is a symbolic link: provision follows no link inside a jail" "$out"
vh_eq "K9 symlink: the host directory is unchanged" "$hostdir_before" "$(ls -A "$H/dir"; sha256sum "$H"/dir/*)"

vh_done
