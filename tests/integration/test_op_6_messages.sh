#!/bin/bash
# Issue 13 point 6: messages an operator met on a fresh host. Each part
# failed before its fix:
# - `add git /srv/jail 127.0.0.2` (swapped) said "is a prefix";
# - vhostctl as non-root said "cannot stat database" (66) or "refused";
# - a jail below /tmp got the fix "chmod g-w /tmp";
# - the database path was called a "jail directory";
# - completion offered options a command does not take (lookup --program);
# - check --program NAME sent a NAME found in /usr/sbin to provision,
#   where virtuald's PATH never finds it;
# - lookup counted the primary group as a supplementary one.
. "$(dirname "$0")/lib.sh"
vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/a" "a"

# --- swapped arguments ------------------------------------------------------
out=$(vh_ctl add git "$J/a" 127.0.0.2 2>&1)
rc=$?
vh_eq "swapped: usage error" 64 "$rc"
vh_contains "swapped: the order is named" "the order is SERVICE ADDRESS ROOT" "$out"
vh_contains "swapped: the corrected command is given" "vhostctl add git 127.0.0.2 $J/a" "$out"
vh_not_contains "swapped: not 'is a prefix'" "is a prefix" "$out"
out=$(vh_ctl add git 127.0.0.2 default 2>&1)
vh_contains "an address where ROOT goes is named" "ROOT 'default' is an address" "$out"
out=$(vh_ctl add git "$J/a" "$J/a" 2>&1)
vh_contains "a path where ADDRESS goes is named" "ADDRESS '$J/a' is a path" "$out"
vh_eq "nothing was added" "" "$(vh_ctl list 2>/dev/null | grep -F "$J/a")"

# --- not root ----------------------------------------------------------------
# a copy of vhostctl nobody can run (the build tree may be out of reach)
B=/run/vhtest/op6bin.$$
trap 'rm -rf "$B"; vh_cleanup' EXIT
mkdir -m 0755 "$B" && cp "$VHOSTCTL" "$B/vhostctl" && chmod 0755 "$B/vhostctl"
asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$B/vhostctl" --db "$DB" "$@"; }
out=$(asnobody list 2>&1)
rc=$?
vh_eq "non-root list: exit 77 (NOPERM)" 77 "$rc"
vh_contains "non-root list: says run as root" "run as root" "$out"
vh_not_contains "non-root list: not 'cannot stat database'" "cannot stat database" "$out"
out=$(asnobody lookup git 127.0.0.2 2>&1)
rc=$?
vh_eq "non-root lookup: exit 77" 77 "$rc"
vh_contains "non-root lookup: says run as root" "run as root" "$out"
vh_not_contains "non-root lookup: not 'refused'" "refused" "$out"
out=$(asnobody add --help 2>&1)
rc=$?
vh_eq "non-root: --help still works" 0 "$rc"

# --- /tmp-like directories ------------------------------------------------------
mkdir -m 1777 "$J/scratch"
vh_mkjail "$J/scratch/j" "j"
vh_ctl add web 127.0.0.3 "$J/scratch/j" --user nobody --force >/dev/null 2>&1
out=$(vh_ctl check web 2>&1)
vh_contains "sticky scratch ancestor: an error on it" "[other-writable] $J/scratch:" "$out"
vh_contains "sticky scratch ancestor: the fix is to move the jail" "move the jail out of $J/scratch" "$out"
vh_not_contains "no fix chmods the scratch directory (g-w)" "chmod g-w $J/scratch" "$out"
vh_not_contains "no fix chmods the scratch directory (o-w)" "chmod o-w $J/scratch" "$out"
out=$(vh_ctl lookup web 127.0.0.3 2>&1)
vh_contains "lookup: the refusal says move" "shared scratch directory" "$out"
vh_not_contains "lookup: no chmod of the scratch directory" "chmod" "$out"

# --- the database is not a jail directory ------------------------------------
out=$(cd "$F/db" && "$VHOSTCTL" --db vhosts.db check 2>&1)
vh_not_contains "check, relative database path: not called a jail directory" "jail directory" "$out"
vh_contains "check, relative database path: called a path" "path 'vhosts.db' is relative" "$out"
out=$(cd "$F/db" && "$VHOSTCTL" --db vhosts.db lookup web 127.0.0.3 2>&1)
vh_not_contains "lookup, relative database path: not called a jail directory" "jail directory" "$out"

# --- completion: only options the command takes -----------------------------
comp=$(
	_init_completion() {
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	}
	_filedir() { :; }
	. "$VH_SRC/completion/vhostctl.bash"
	for c in $("$VHOSTCTL" --help | sed -n 's/^  vhostctl \[--db FILE\] \([a-z][a-z-]*\).*/\1/p'); do
		COMP_WORDS=("$VHOSTCTL" "$c" --)
		COMP_CWORD=2
		COMPREPLY=()
		_vhostctl
		help=$("$VHOSTCTL" "$c" --help)
		for o in "${COMPREPLY[@]}"; do
			grep -qE -- "^  (-[A-Za-z], )?$o([= ]|\$)" <<<"$help" || echo "$c offers $o, which $c --help does not list"
		done
		[ "${#COMPREPLY[@]}" -gt 0 ] || echo "$c: no option offered"
	done
)
vh_eq "completion offers only options each command's --help lists" "" "$comp"

# --- check --program looks up as virtuald's PATH does --------------------------
sb=
for f in /usr/sbin/*; do
	n=${f##*/}
	[ -f "$f" ] && [ -x "$f" ] || continue
	[ -e "/usr/local/bin/$n" ] || [ -e "/usr/bin/$n" ] || [ -e "/bin/$n" ] || { sb=$n; break; }
done
if [ -n "$sb" ]; then
	vh_ctl add prog 127.0.0.4 "$J/a" --user nobody >/dev/null 2>&1
	out=$(vh_ctl check prog 127.0.0.4 --program "$sb" 2>&1)
	vh_contains "check --program $sb: missing from the service's PATH" "[missing-program]" "$out"
	vh_contains "check --program $sb: the fix says it is outside the service's PATH" \
		"$sb is /usr/sbin/$sb on the host, outside the service's PATH" "$out"
	vh_contains "check --program $sb: the fix names the absolute program" "start the service as /usr/sbin/$sb" "$out"
else
	vh_ok "# skip: no program only in /usr/sbin on this host"
fi

# --- lookup counts supplementary groups ------------------------------------------
vh_test_user op6user 64134
echo "op6extra:x:64135:op6user" >>"$F/group"
vh_ctl add grp 127.0.0.5 "$J/a" --user nobody >/dev/null 2>&1
vh_ctl add grp 127.0.0.6 "$J/a" --user op6user >/dev/null 2>&1
out=$(vh_ctl lookup grp 127.0.0.5 2>&1)
vh_contains "lookup: nobody has no supplementary group" "gid 65534, 0 supplementary groups)" "$out"
out=$(vh_ctl lookup grp 127.0.0.6 2>&1)
vh_contains "lookup: a user in one more group has 1" "gid 64134, 1 supplementary group)" "$out"
vh_done
