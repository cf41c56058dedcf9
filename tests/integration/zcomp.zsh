# zcomp.zsh - the completions zsh offers for command lines: starts one
# interactive zsh in a pseudo-terminal (zsh/zpty) with FPATHDIR first in
# fpath, types each line and a TAB, and prints "== LINE" then what the
# completion system passed to compadd, one a line. Used by
# test_completion.sh.
#   zsh zcomp.zsh FPATHDIR 'verdict run --format ' 'verdict ' ...
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT=; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'zstyle ":completion:*" list-grouped false; zstyle ":completion:*" insert-tab false; zstyle ":completion:*" format ""'
zpty -w z 'compadd () { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi; typeset -a __h; builtin compadd -A __h "$@"; (( $#__h )) || return 1; print -l -- "<m>"${^__h}; }'
zpty -w z 'zle -C __capture complete-word _main_complete; bindkey "^I" __capture; print "<re""ady>"'
zpty -r z line '*<ready>*'
zpty -w z "print '<be''gin>'"
zpty -r z line '*<begin>*'
for l in "${@[2,-1]}"; do
	zpty -n -w z "$l"$'\t'
	# then clear the line and print a mark: what completion printed comes
	# before it (the quotes keep the echoed command from matching the mark)
	zpty -n -w z $'\C-u'"print '<e''nd>'"$'\n'
	zpty -r z out '*<end>*'
	[[ -n $ZCOMP_DEBUG ]] && print -r -- "$out" | cat -v >&2
	print -r -- "== $l"
	print -r -- "$out" | tr -d '\r' | grep -ao '<m>[^<]*' | sed 's/^<m>//' | sort -u
done
zpty -d z
