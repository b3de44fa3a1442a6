#!/bin/bash
# threat_ids.sh PATH... - the THREATS IDs (A1 .. N99) that files cite.
# Prints "ID<TAB>WHERE" per citation (WHERE is file:line, or the file
# name), unsorted. Used by test_docs.sh; PATHs are files or directories.
#
# An ID is one capital A-N and one or two digits. A bare "A4" or "F1"
# anywhere is not a citation (paper sizes, function keys, hex digits,
# shell variables such as N7): only these contexts count, which are the
# ways the code cites IDs. LIST below is one or more IDs (or bare
# letters, "(I, J, A9)") joined by ", ", " and ", " ", "/" or " / ", an
# ID may be a range "E1-E5" (both ends count, the IDs between do not).
#   1. after the word THREATS:        THREATS A8, A11, E1-E5
#   2. opening a parenthesis, then ")", ":" or "'s":
#                                      (K7)  (A3, D1)  (K7: ...)  (K3's ...)
#   3. closing a parenthesis opened before, after ", ", ": " or a
#      comment line's "*" or "#":     (TIOCSTI, K3)  (... AF_UNIX: G4-G8)
#                                       * K5). Needs ...
#   4. a comment opening with a label: "/*", "#" or a comment line's
#      "*" (and a "- " bullet), then LIST and ": " (or ":" at the end of
#      the line), "*/" or "'s":       /* K7: ...   # C3: ...   * - H2: ...
#      or LIST ending a C comment:    canon_ok(...);  /* G2 */  (..., for B1 */)
#   5. a comment's section header:     # --- K1 kill(0) ...  /* ---- K7: ...
#   6. a test name: the first argument of vh_eq, vh_contains, vh_check,
#      vh_ok, ... (any vh_*), expect_refused or refused, and TAP lines
#      ("ok - ", "not ok - ", "# "), starting with LIST then a blank, ":"
#      or the closing quote:           vh_eq "K9 provision ..."
#                                      echo "ok - K10 skipped ..."
#   7. names of tests and helpers, file names included: test_ or race_
#      then words, a word being one lower-case letter a-n and one or two
#      digits:                         test_k1_k3_session.sh  race_a9.c
# Not counted: IDs in running prose ("as for A9"), "-B1" (an option),
# "$N7" or "N7=" (a variable), "A4 paper", "size A4: 210 mm" (not at a
# comment's start), "F1 key", hex strings, a shell case label "A4)".
set -u
export LC_ALL=C # [A-N] is those 14 letters, byte by byte

id='[A-N]([0-9][0-9]?((-|–)[A-N][0-9][0-9]?)?)?'
list="$id((, | and | | / |/)$id)*"

patterns=(
	-e "THREATS $list"
	-e "\\((THREATS )?$list(\\)|:|'s)"
	-e "(, |: |^[[:space:]]*[*#][[:space:]]*)$list\\)"
	-e "(/\\*|#|^[[:space:]]*\\*)[[:space:]]*(- )?$list(: |:\$|[[:space:]]*\\*/|'s)"
	-e "[[:space:]]$list[[:space:]]*\\*/"
	-e "(/\\*|#)[[:space:]]*-+[[:space:]]+$list[[:space:]:]"
	-e "(^|[[:space:];&|({])(vh_[a-z_]+|expect_refused|refused) \"$list([[:space:]:\"])"
	-e "\"((not )?ok - |# )$list([[:space:]:\"])"
)

# Contexts 1-6: grep prints file:line:matched-text; awk takes the IDs
# out of the matched text (the context words around them hold none).
grep -HrnoE "${patterns[@]}" -- "$@" 2>/dev/null |
	awk '{
		i = index($0, ":"); j = index(substr($0, i + 1), ":")
		where = substr($0, 1, i + j - 1); s = substr($0, i + j + 1)
		while (match(s, /[A-N][0-9][0-9]?/)) {
			before = RSTART > 1 ? substr(s, RSTART - 1, 1) : ""
			after = substr(s, RSTART + RLENGTH, 1)
			if (before !~ /[A-Za-z0-9_]/ && after !~ /[A-Za-z0-9_]/)
				print substr(s, RSTART, RLENGTH) "\t" where
			s = substr(s, RSTART + RLENGTH)
		}
	}'

# Context 7: in file names and in the text.
{
	find "$@" -type f -print | awk -F/ '{ print $NF "\t" $0 }'
	grep -HrnoE '\b(test|race)_[a-z0-9_]+' -- "$@" 2>/dev/null |
		awk '{ i = index($0, ":"); j = index(substr($0, i + 1), ":")
			print substr($0, i + j + 1) "\t" substr($0, 1, i + j - 1) }'
} | awk -F'\t' '$1 ~ /^(test|race)_/ {
	n = split($1, w, /[_.]/)
	for (k = 2; k <= n; k++)
		if (w[k] ~ /^[a-n][0-9][0-9]?$/)
			print toupper(w[k]) "\t" $2
}'
