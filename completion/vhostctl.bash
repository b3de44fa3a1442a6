# bash completion for vhostctl
#
# The commands and each command's options are read from vhostctl's own
# --help at completion time (which needs no root), so that completion
# offers only what the command takes (issue 13 point 6).

# _vhostctl_commands PROG: the command names of `PROG --help`.
_vhostctl_commands() {
	"$1" --help 2>/dev/null | sed -n 's/^  vhostctl \[--db FILE\] \([a-z][a-z-]*\).*/\1/p'
}

# _vhostctl_options PROG CMD: the long options of `PROG CMD --help` (its
# glossary lines: "  -u, --user=U  ..." or "  --json  ...").
_vhostctl_options() {
	"$1" "$2" --help 2>/dev/null | sed -n 's/^  \(-[A-Za-z], \)\{0,1\}\(--[a-z][a-z0-9-]*\).*/\2/p'
}

_vhostctl() {
	local cur prev words cword
	_init_completion || return
	local i cmd=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--db) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done
	case $prev in
	--db | --comment | --reason) [ "$prev" = --db ] && _filedir; return ;;
	--jail | --root) _filedir -d; return ;;
	--base)
		[ "$cmd" = set ] && COMPREPLY=($(compgen -W "none" -- "$cur"))
		_filedir -d
		return
		;;
	--path) _filedir; return ;;
	--limit | --max) return ;;
	--user | -u) COMPREPLY=($(compgen -u -- "$cur")); return ;;
	--group | -g) COMPREPLY=($(compgen -g -- "$cur")); return ;;
	--program) _filedir; return ;;
	--max-procs) return ;;
	--net-bind-service) [ "$cmd" = set ] && { COMPREPLY=($(compgen -W "on off" -- "$cur")); return; } ;;
	--unjailed) [ "$cmd" = set ] && { COMPREPLY=($(compgen -W "on off" -- "$cur")); return; } ;;
	--virtuald) _filedir; return ;;
	esac
	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "$(_vhostctl_commands "${words[0]}") --db --help --version" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -W "$(_vhostctl_options "${words[0]}" "$cmd")" -- "$cur"))
	[[ $cur == -* ]] && return
	case $cmd in
	add | provision) _filedir -d ;;
	import | migrate-inetd) _filedir ;;
	esac
}
complete -F _vhostctl vhostctl
