#!/bin/bash
# The man pages render without warnings and agree with --help: every
# option and command that --help names is documented, and the other way.
. "$(dirname "$0")/lib.sh"

for m in virtuald vhostctl; do
	warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$VH_SRC/man/$m.8" 2>&1 >/dev/null)
	vh_eq "man $m: renders without warnings" "" "$warn"
done
MV=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$VH_SRC/man/virtuald.8" 2>/dev/null)
MC=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$VH_SRC/man/vhostctl.8" 2>/dev/null)

help=$("$VIRTUALD" --help)
for opt in $(printf '%s\n' "$help" | grep -o -- '--[a-z-]*' | sort -u); do
	vh_contains "virtuald $opt in virtuald(8)" "$opt" "$MV"
done
for opt in $(printf '%s\n' "$MV" | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | grep -o -- '--[a-z-]*' | sort -u); do
	vh_contains "virtuald(8) synopsis $opt in --help" "$opt" "$help"
done
# The exit statuses: --help prints them from the one table in
# src/lib/exitcodes.h; each man page's EXIT STATUS section lists exactly
# those (a .TP term renders at seven spaces, before its meaning).
# help_codes TEXT: the codes of the "Exit status:" paragraph
help_codes() { printf '%s\n' "$1" | sed -n '/^Exit status:/,/\.$/p' | grep -oE '(^|[:,] ?)[0-9]+ ' | grep -oE '[0-9]+' | sort -n | tr '\n' ' '; }
# man_codes TEXT: the codes listed in the EXIT STATUS section
man_codes() { printf '%s\n' "$1" | sed -n '/^EXIT STATUS/,/^[A-Z]/p' | grep -oE '^       [0-9]+( |$)' | grep -oE '[0-9]+' | sort -n | tr '\n' ' '; }
hc=$(help_codes "$help")
vh_check "virtuald --help lists exit statuses" test -n "$hc"
vh_eq "virtuald(8) EXIT STATUS lists exactly the codes of --help (the table)" "$hc" "$(man_codes "$MV")"

chelp=$("$VHOSTCTL" --help)
cmds=$(printf '%s\n' "$chelp" | sed -n 's/^  vhostctl \[--db FILE\] \([a-z-]*\).*/\1/p')
vh_check "vhostctl --help lists commands" test -n "$cmds"
hc=$(help_codes "$chelp")
vh_check "vhostctl --help lists exit statuses" test -n "$hc"
vh_eq "vhostctl(8) EXIT STATUS lists exactly the codes of --help (the table)" "$hc" "$(man_codes "$MC")"
# ...and each code's meaning names the same causes: a cause the man page
# gives (one of the words below) is in --help's meaning of that code too.
# help_meaning TEXT CODE, man_meaning TEXT CODE: one code's text, on one line
help_meaning() { printf '%s\n' "$1" | sed -n '/^Exit status:/,/\.$/p' | tr '\n' ' ' | sed -E 's/, ([0-9]+) /\n\1 /g; s/^Exit status: //' | sed -n "s/^$2 //p"; }
man_meaning() {
	printf '%s\n' "$1" | sed -n '/^EXIT STATUS/,/^[A-Z]/p' | awk -v c="$2" '
		/^       [0-9]+( |$)/ { on = ($1 == c); sub(/^ +[0-9]+/, "") }
		on { printf "%s ", $0 }' | tr -s ' '
}
for p in virtuald vhostctl; do
	if [ "$p" = virtuald ]; then ht=$help mt=$MV; else ht=$chelp mt=$MC; fi
	for c in $(help_codes "$ht"); do
		hm=$(help_meaning "$ht" "$c")
		mm=$(man_meaning "$mt" "$c")
		[ -n "$mm" ] || continue
		for k in locked "pids cgroup" PROXY limit schema; do
			case $mm in *"$k"*) vh_contains "$p exit $c: --help names '$k' as $p(8) does" "$k" "$hm" ;; esac
		done
	done
done
for c in $cmds; do
	section=$(printf '%s\n' "$MC" | sed -n '/^COMMANDS/,/^SELECTION/p')
	vh_contains "vhostctl $c documented in vhostctl(8)" "       $c" "$section"
	for opt in $("$VHOSTCTL" "$c" --help | grep -o -- '--[a-z-]*' | sort -u); do
		vh_contains "vhostctl $c $opt in vhostctl(8)" "$opt" "$MC"
	done
done
for c in $(printf '%s\n' "$MC" | sed -n '/^COMMANDS/,/^SELECTION/p' | sed -n 's/^       \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p' | sort -u); do
	vh_contains "vhostctl(8) command $c is in --help" "] $c" "$chelp"
done

# Threat IDs. Every ID that src/, admin/ and tests/ cite has a row in
# doc/threats.md, and every row there says what it means, so an ID named
# in the code is explained inside the repository. Citations are found by
# threat_ids.sh in the contexts the code uses ("THREATS E1", "(K7)",
# "/* G1 */", "# K10: ...", test names "J1 ...", names test_k2_... and
# race_a9): never a bare "A4" or "F1" (paper sizes, keys, hex, $N7); its
# header lists them. First the matcher itself, on a fixture.
IDS="$VH_SRC/tests/integration/threat_ids.sh"
mkdir -p "$F/ids"
cat >"$F/ids/sample.c" <<'SAMPLE'
/* THREATS A8, E1-E5 */
x = f(y);   /* G2 */
/* K7: a label */
 * K5). the end of a parenthesis opened on the line before
vh_eq "J1 all refused" 0 "$x"
echo "ok - K10 skipped"
(A3, D1)
run race_h9 first
char *paper = "A4 paper";
/* press F1 for help */
const char *key = "9fK1a0e3";
N7=${X:-3}; echo "$N7"
grep -B1 -E x
	A4) echo paper ;;
printf("size A4: 210 mm\n");
addr = "2001:DB8::A1:1";
SAMPLE
: >"$F/ids/test_c3_sample.sh"
vh_eq "threat_ids.sh: cited IDs found, bare ones ignored (fixture)" \
	"A3 A8 C3 D1 E1 E5 G2 H9 J1 K10 K5 K7 " \
	"$(bash "$IDS" "$F/ids" | cut -f1 | LC_ALL=C sort -u | tr '\n' ' ')"

# The IDs with a row: the first cell, "E1-E3" and "H7, H8" spelled out,
# "K2 (check)" counting for K2.
TM=$VH_SRC/doc/threats.md
rowids=$(LC_ALL=C awk -F'|' '/^\| / && $2 != " ID " {
	c = $2; sub(/^ +/, "", c); sub(/ +$/, "", c); sub(/ \(.*\)$/, "", c)
	n = split(c, part, /, /)
	for (i = 1; i <= n; i++) {
		if (part[i] ~ /^[A-N][0-9]+-[A-N][0-9]+$/) {
			split(part[i], r, /-/)
			for (k = substr(r[1], 2) + 0; k <= substr(r[2], 2) + 0; k++)
				print substr(r[1], 1, 1) k
		} else if (part[i] ~ /^[A-N][0-9]+$/)
			print part[i]
	}
}' "$TM" | LC_ALL=C sort -u)
cited=$(cd "$VH_SRC" && bash "$IDS" src admin tests | LC_ALL=C sort -t "$(printf '\t')" -k1,1 -u)
vh_check "threat IDs cited in src/, admin/, tests/: many found ($(printf '%s\n' "$cited" | grep -c .))" \
	test "$(printf '%s\n' "$cited" | grep -c .)" -ge 50
while IFS=$'\t' read -r id where; do
	if printf '%s\n' "$rowids" | grep -qxF "$id"; then
		vh_ok "threat ID $id ($where) has a row in doc/threats.md"
	else
		vh_notok "threat ID $id ($where) has no row in doc/threats.md: add one with its meaning"
	fi
done <<<"$cited"
# Every row (under | ID | meaning | covered by |) has a meaning.
nomeaning=$(LC_ALL=C awk -F'|' '/^\| / && $2 != " ID " && $3 !~ /[A-Za-z]/ { print $2 }' "$TM")
vh_eq "every row of doc/threats.md has a meaning" "" "$nomeaning"
vh_eq "every table of doc/threats.md has the meaning column" "" \
	"$(grep -n '^| ID |' "$TM" | grep -v '^[0-9]*:| ID | meaning | covered by |$')"
# The tests the docs cite exist: every `test_X.c: test_y` names a cmocka
# case of tests/unit/test_X.c, every test_X.sh a script of
# tests/integration, every test_X.c a unit test file (doc/*.md, README).
docs=("$VH_SRC"/doc/*.md "$VH_SRC"/README.md)
missing=$(grep -ohE '`?test_[a-z0-9_]+\.c: test_[a-z0-9_]+' "${docs[@]}" | tr -d '`' | sort -u | while read -r f c; do
	f=${f%:}
	grep -qE "^static void ${c}\(" "$VH_SRC/tests/unit/$f" 2>/dev/null || echo "$f: $c"
done)
vh_eq "every cmocka case the docs cite exists" "" "$missing"
missing=$(grep -ohE '\btest_[a-z0-9_]+\.(sh|c)\b' "${docs[@]}" | sort -u | while read -r f; do
	case $f in
	*.sh) [ -e "$VH_SRC/tests/integration/$f" ] || echo "$f" ;;
	*.c) [ -e "$VH_SRC/tests/unit/$f" ] || echo "$f" ;;
	esac
done)
vh_eq "every test file the docs cite exists" "" "$missing"
vh_done
