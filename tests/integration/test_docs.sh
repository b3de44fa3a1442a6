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
vh_done
