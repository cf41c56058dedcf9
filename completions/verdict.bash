# verdict.bash - bash completion for verdict: commands, options, report
# formats, files, and after --only the check names and tags of the suite
# on the command line (read from the file as it is: no ${VAR} expansion,
# no validation). Needs nothing but bash and awk (bash-completion is not
# required). Installed as /usr/share/bash-completion/completions/verdict.

# _verdict_suite_names FILE: the check names and tags of a suite, one a
# line: every "name" at or after the "checks" key, and every tag.
_verdict_suite_names() {
	awk '
	{ # comments: /* ... */ (across lines too), then // after a blank
	  l = $0; o = ""
	  while (l != "") {
	    if (inc) { e = index(l, "*/"); if (!e) { l = ""; break }; l = substr(l, e + 2); inc = 0 }
	    b = index(l, "/*"); if (!b) break
	    o = o substr(l, 1, b - 1); l = substr(l, b + 2); inc = 1
	  }
	  $0 = o l; sub(/(^|[ \t])\/\/.*$/, "") }
	/"checks"[ \t]*:/ { c = 1 }
	!c { next }
	{
		s = $0
		while (match(s, /"name"[ \t]*:[ \t]*"[^"]*"/)) {
			v = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
			sub(/^"name"[ \t]*:[ \t]*"/, "", v); sub(/"$/, "", v); print v
		}
		s = $0
		while (match(s, /"tags"[ \t]*:[ \t]*\[[^]]*\]/)) {
			v = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
			sub(/^[^[]*\[/, "", v); sub(/\]$/, "", v)
			n = split(v, t, /"[ \t]*,[ \t]*"/)
			for (i = 1; i <= n; i++) { gsub(/^[ \t]*"|"[ \t]*$/, "", t[i]); if (t[i] != "") print t[i] }
		}
	}' "$1" 2>/dev/null | sort -u
}

_verdict() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local cmd=${COMP_WORDS[1]} opts= i suite=
	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "run validate serve types init deploy rollback history status --help --version" -- "$cur"))
		return
	fi
	case $prev in
	-f | --format)
		case $cmd in
		run) COMPREPLY=($(compgen -W "text json junit tap markdown" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "text json" -- "$cur")) ;;
		esac
		return ;;
	--progress)
		COMPREPLY=($(compgen -W "auto tty plain none" -- "$cur"))
		return ;;
	--only)
		for ((i = 2; i < ${#COMP_WORDS[@]}; i++)); do
			[ "$i" -eq "$COMP_CWORD" ] && continue
			case ${COMP_WORDS[i-1]} in
			-f | --format | -o | --output | --only | -c | --concurrency | --progress) continue ;;
			esac
			case ${COMP_WORDS[i]} in
			-*) ;;
			*) [ -f "${COMP_WORDS[i]}" ] && suite=${COMP_WORDS[i]} ;;
			esac
		done
		[ -n "$suite" ] && COMPREPLY=($(compgen -W "$(_verdict_suite_names "$suite")" -- "$cur"))
		return ;;
	--report)
		if [ "$cmd" = run ]; then
			case $cur in
			*=*) COMPREPLY=($(compgen -f -- "${cur#*=}")) ;;
			*) COMPREPLY=($(compgen -W "text= json= junit= tap= markdown=" -- "$cur")) ;;
			esac
			return
		fi
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-o | --output | -c | --config | --ca-file)
		if [ "$cmd" = run ] && [ "$prev" = -c ]; then return; fi
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--concurrency | -l | --listen | -V | --version | --to | -n | --limit | --name | --timeout)
		return ;;
	esac
	case $cmd in
	run) opts="-f --format -o --output --report --only -c --concurrency -q --quiet -v --verbose --progress -h --help" ;;
	validate) opts="-h --help" ;;
	serve) opts="-l --listen --check-config -h --help" ;;
	init) opts="--ca-file --name --timeout -h --help" ;;
	deploy) opts="-c --config -V --version -f --format -o --report -q --quiet --progress --check -h --help" ;;
	rollback) opts="-c --config --to -f --format -o --report -q --quiet --progress -h --help" ;;
	history) opts="-c --config -f --format -n --limit -h --help" ;;
	status) opts="-c --config -f --format -h --help" ;;
	*) return ;;
	esac
	case $cur in
	-*) COMPREPLY=($(compgen -W "$opts" -- "$cur")) ;;
	*)
		case $cmd in
		run | validate | serve) COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur")) ;;
		esac ;;
	esac
}
complete -o filenames -F _verdict verdict
