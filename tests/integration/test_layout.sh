#!/bin/bash
# The tree shows the trust boundary (issue 12): src/ is exactly what
# virtuald links, admin/ what only vhostctl needs.
#  1. virtuald's built binary holds no symbol that libvhadmin.a defines,
#     and no NSS or resolver lookup (getpwnam, getgrnam, getpwuid,
#     getaddrinfo); vhostctl, the positive control, holds both kinds.
#  2. A core source cannot include an admin header: with vhcore's own
#     include flags it does not compile (and a core header does).
#  3. No include cycle in src/lib and admin/lib: the graph of the
#     #include "..." lines between modules sorts topologically.
. "$(dirname "$0")/lib.sh"

ADMINLIB=$VH_BUILD/libvhadmin.a
# the user, group and host lookups that go through NSS, each with its
# reentrant twin (vhostctl uses getpwnam_r)
NSS="getpwnam getgrnam getpwuid getgrgid getgrouplist initgroups getaddrinfo gethostbyname"

# the global symbols a file defines, or every symbol it names (one a line)
defined() { nm --defined-only -g "$1" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u; }
named() { nm "$1" 2>/dev/null | awk '{ print $NF }' | sed 's/@.*//' | sort -u; }

# --- 1. the binaries
defined "$ADMINLIB" >"$F/admin.syms"
vh_check "libvhadmin.a defines symbols ($(wc -l <"$F/admin.syms"))" test "$(wc -l <"$F/admin.syms")" -gt 50
vh_check "libvhadmin.a defines the index writer" grep -qx vh_ixwrite_finish "$F/admin.syms"

# prog DESCRIPTION BINARY: what of the admin library and of NSS it holds
layout_of() {
	named "$1" >"$F/prog.syms"
	# not stripped: a binary without symbols would pass every check below
	if [ "$(wc -l <"$F/prog.syms")" -lt 100 ]; then
		echo "NOSYMBOLS"
		return
	fi
	comm -12 "$F/admin.syms" "$F/prog.syms" | head -5 | tr '\n' ' '
	for s in $NSS; do
		grep -qxE "${s}(_r)?" "$F/prog.syms" && printf 'NSS:%s ' "$s"
	done
}

for prog in "$VIRTUALD" "${VH_VIRTUALD_DYNAMIC:-}"; do
	[ -n "$prog" ] && [ -x "$prog" ] || continue
	got=$(layout_of "$prog")
	vh_eq "$(basename "$prog"): no admin symbol, no NSS or resolver lookup" "" "$got"
done

got=$(layout_of "$VHOSTCTL")
vh_not_contains "vhostctl keeps its symbols (the check can see them)" "NOSYMBOLS" "$got"
vh_contains "positive control: the check finds admin symbols in vhostctl" "vh_" "$got"
vh_contains "positive control: the check finds getpwnam in vhostctl" "NSS:getpwnam" "$got"

# --- 2. the include path
CC=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$VH_BUILD/CMakeCache.txt")
INC=$(sed -n 's/^C_INCLUDES = //p' "$VH_BUILD/CMakeFiles/vhcore.dir/flags.make" 2>/dev/null)
[ -n "$INC" ] || INC="-I$VH_SRC/src/lib"
vh_not_contains "vhcore's include path has no admin directory" "admin" "$INC"
try_core() {
	printf '#include "%s"\nint vh_layout_probe;\n' "$1" >"$F/probe.c"
	# shellcheck disable=SC2086
	"${CC:-cc}" -std=c11 -D_GNU_SOURCE $INC -fsyntax-only "$F/probe.c" 2>/dev/null
}
vh_check "a core source includes a core header (row.h)" try_core row.h
for h in store.h ixwrite.h ident.h dbadmin.h migrate.h; do
	# row.h above is the control: the compiler and the flags work
	if try_core "$h"; then vh_notok "a core source includes admin/lib/$h"; else vh_ok "a core source cannot include admin/lib/$h"; fi
done
# no relative path out of src/lib either
vh_eq "no core #include reaches outside src/lib" "" \
	"$(grep -Hn '^#include "[^"]*/' "$VH_SRC"/src/lib/*.[ch] "$VH_SRC"/src/*.c 2>/dev/null)"

# --- 3. no include cycle: tsort fails on a loop
edges() {
	for f in "$VH_SRC"/src/lib/*.[ch] "$VH_SRC"/admin/lib/*.[ch]; do
		m=$(basename "$f")
		m=${m%.*}
		sed -n 's/^#include "\([a-z0-9_]*\)\.h".*/\1/p' "$f" | while read -r to; do
			[ "$to" = "$m" ] || echo "$m $to"
		done
	done
}
edges >"$F/edges"
vh_check "the include graph has edges ($(wc -l <"$F/edges"))" test "$(wc -l <"$F/edges")" -gt 50
out=$(tsort "$F/edges" 2>&1 >/dev/null)
vh_eq "no include cycle in src/lib and admin/lib" "" "$out"
# positive control: tsort does see a cycle
printf 'a b\nb c\nc a\n' >"$F/cycle"
vh_check "positive control: a cycle is found" sh -c "! tsort '$F/cycle' >/dev/null 2>&1"

vh_done
