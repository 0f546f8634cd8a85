# bash completion for p2pctl(8), the control client of p2pd.
#
# Completes the options, the commands, and the UIDs of the workers that the
# running p2pd reports in "p2pctl status --json" (asked through the same -s
# or -c as the command line being completed). Installed by make install as
# $(datadir)/bash-completion/completions/p2pctl; to try it by hand:
#     . completions/p2pctl.bash

# _p2pctl_uids PROGRAM [-s SOCKET | -c FILE]...: the UIDs p2pd knows, one a line.
_p2pctl_uids()
{
	local json re='"uid":"([0-9A-Fa-f:]+)"' rc=0
	json=$("$@" status --json 2>/dev/null </dev/null) || rc=$?
	# exit 3: some wanted worker is not up; the list is still complete
	[[ $rc == 0 || $rc == 3 ]] || return 0
	while [[ $json =~ $re ]]; do
		printf '%s\n' "${BASH_REMATCH[1]}"
		json=${json#*"${BASH_REMATCH[0]}"}
	done
}

_p2pctl()
{
	local line=${COMP_LINE:0:COMP_POINT} cur="" prev cmd="" haveuid=0 json="--json" i n
	local -a words conn cands
	COMPREPLY=()

	# Split the line ourselves: bash splits a UID at every ':' of
	# COMP_WORDBREAKS, so COMP_WORDS would not hold it as one word.
	read -r -a words <<<"$line"
	if [[ -n $line && ${line: -1} != [[:space:]] && ${#words[@]} -gt 0 ]]; then
		cur=${words[${#words[@]} - 1]}
		unset 'words[${#words[@]}-1]'
	fi
	n=${#words[@]}
	((n > 0)) || return 0
	prev=${words[n - 1]}
	conn=("${words[0]}")
	# shellcheck disable=SC2088 # a literal "~/" that bash did not expand
	if [[ ${conn[0]} == "~/"* ]]; then
		conn[0]=$HOME/${conn[0]#"~/"}
	fi
	for ((i = 1; i < n; i++)); do
		case ${words[i]} in
		-s | -c)
			if ((i + 1 < n)) && [[ -z $cmd ]]; then
				conn+=("${words[i]}" "${words[i + 1]}")
				i=$((i + 1))
			fi
			;;
		--json) json="" ;;
		-*) ;;
		*)
			if [[ -z $cmd ]]; then
				cmd=${words[i]}
			else
				haveuid=1
			fi
			;;
		esac
	done

	if [[ -z $cmd && ($prev == -s || $prev == -c) ]]; then
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
	fi
	case $cmd in
	"")
		if [[ $cur == -* ]]; then
			mapfile -t cands < <(compgen -W "-s -c -h" -- "$cur")
		else
			mapfile -t cands < <(compgen -W "status kill start restart reload" -- "$cur")
		fi
		;;
	status)
		((haveuid)) && return 0
		mapfile -t cands < <(compgen -W "$json $(_p2pctl_uids "${conn[@]}")" -- "$cur")
		;;
	kill | start | restart)
		((haveuid)) && return 0
		mapfile -t cands < <(compgen -W "$(_p2pctl_uids "${conn[@]}")" -- "$cur")
		;;
	*)
		return 0
		;;
	esac

	# bash replaces only the part of the word after its last ':' (when ':'
	# breaks words): hand it the candidates without what comes before.
	local pre=""
	if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
		pre=${cur%"${cur##*:}"}
	fi
	for i in "${!cands[@]}"; do
		COMPREPLY+=("${cands[i]#"$pre"}")
	done
	return 0
}

complete -F _p2pctl p2pctl
