# bash completion for vhostctl
_vhostctl() {
	local cur prev words cword
	_init_completion || return
	local cmds="init add remove enable disable set list lookup check provision import export migrate-inetd"
	local i cmd=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--db) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done
	case $prev in
	--db | --comment) [ "$prev" = --db ] && _filedir; return ;;
	--user | -u) COMPREPLY=($(compgen -u -- "$cur")); return ;;
	--group | -g) COMPREPLY=($(compgen -g -- "$cur")); return ;;
	--program) _filedir; return ;;
	--max-procs) return ;;
	--net-bind-service) [ "$cmd" = set ] && { COMPREPLY=($(compgen -W "on off" -- "$cur")); return; } ;;
	esac
	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "$cmds --db --help --version" -- "$cur"))
		return
	fi
	case $cmd in
	add) COMPREPLY=($(compgen -W "--user --group --comment --disabled --net-bind-service --max-procs --force --help" -- "$cur")); [[ $cur != -* ]] && _filedir -d ;;
	remove | disable) COMPREPLY=($(compgen -W "--kill --help" -- "$cur")) ;;
	set) COMPREPLY=($(compgen -W "--net-bind-service --max-procs --help" -- "$cur")) ;;
	list) COMPREPLY=($(compgen -W "--service --json --help" -- "$cur")) ;;
	lookup | check) COMPREPLY=($(compgen -W "--json --program --help" -- "$cur")) ;;
	import) COMPREPLY=($(compgen -W "--service --dry-run --replace --user --group --help" -- "$cur")); [[ $cur != -* ]] && _filedir ;;
	export) COMPREPLY=($(compgen -W "--service --help" -- "$cur")) ;;
	migrate-inetd) COMPREPLY=($(compgen -W "--write --dry-run --help" -- "$cur")); [[ $cur != -* ]] && _filedir ;;
	provision) COMPREPLY=($(compgen -W "--program --user --group --help" -- "$cur")); [[ $cur != -* ]] && _filedir -d ;;
	*) COMPREPLY=($(compgen -W "--help" -- "$cur")) ;;
	esac
}
complete -F _vhostctl vhostctl
