# test_completion.sh - the bash, zsh and fish completions of completions/:
# commands; every long option each command's --help lists is offered;
# report formats after --format; and after --only, the check names and
# tags of the suite on the command line (comments, several checks on a
# line, tags lists, ${VAR} left as written), never the suite's own name.
# zsh is driven through a pseudo-terminal (zcomp.zsh), fish with
# `complete -C`, bash by calling the function as bash would.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
comp_dir=$(cd "$here/../../completions" && pwd)

cat > "$T/s.json" <<'EOF2'
// the suite's own name must not be offered
{ "name": "my-suite",
  "defaults": { "timeout": "5s" },
  "checks": [
    { "name": "api-health", "type": "http", "url": "${URL}/h", "tags": ["api", "health"] },
    { "name": "db", "type": "tcp", "host": "127.0.0.1", "port": 1 }, { "name": "cache", "type": "tcp", "host": "127.0.0.1", "port": 2 },
    /* { "name": "commented-out" },
       { "name": "also-out" } */
    {
      "name": "frontend",
      "type": "http", "url": "${URL}/",
      "tags": [ "web" ]  // a trailing comment
    }
  ] }
EOF2
cd "$T"

bash_comp() { # words...: what bash offers for the last word
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _verdict
		printf "%s\n" "${COMPREPLY[@]}"' _ "$comp_dir/verdict.bash" "$@" | grep -v '^$' | sort -u | tr '\n' ' '
}
# zsh: every line the test asks about, in one zsh session, asked first
ZLINES=("verdict run s.json --only " "verdict run s.json --only a" "verdict run --format "
	"verdict deploy -f " "verdict ")
for c in run serve init deploy rollback history status; do ZLINES+=("verdict $c --"); done
zsh "$here/zcomp.zsh" "$comp_dir" "${ZLINES[@]}" > "$T/zsh.out"
zsh_comp() {
	awk -v l="== $1" '$0 == l { on = 1; next } /^== / { on = 0 } on' "$T/zsh.out" |
		sort -u | tr '\n' ' '
}
fish_comp() { fish -c "source '$comp_dir/verdict.fish'; complete -C '$1'" | cut -f1 | sort -u | tr '\n' ' '; }

NAMES="api api-health cache db frontend health web "
for sh in bash zsh fish; do
	if [ $sh = bash ]; then
		only=$(bash_comp verdict run s.json --only "")
		only_prefix=$(bash_comp verdict run s.json --only a)
		fmts=$(bash_comp verdict run --format "")
		dfmts=$(bash_comp verdict deploy -f "")
		cmds=$(bash_comp verdict "")
	else
		only=$(${sh}_comp 'verdict run s.json --only ')
		only_prefix=$(${sh}_comp 'verdict run s.json --only a')
		fmts=$(${sh}_comp 'verdict run --format ')
		dfmts=$(${sh}_comp 'verdict deploy -f ')
		cmds=$(${sh}_comp 'verdict ')
	fi
	assert_eq "$sh: --only offers the suite's check names and tags" "$only" "$NAMES"
	assert_eq "$sh: --only by prefix" "$only_prefix" "api api-health "
	assert_eq "$sh: formats of run" "$fmts" "json junit markdown tap text "
	assert_eq "$sh: formats of deploy" "$dfmts" "json text "
	for c in run validate serve types init deploy rollback history status; do
		assert_match "$sh: command $c offered" "$cmds" "(^| )$c( |$)"
	done
	for c in run serve init deploy rollback history status; do
		case $sh in
		bash) offered=$(bash_comp verdict $c --) ;;
		*) offered=$(${sh}_comp "verdict $c --") ;;
		esac
		for o in $("$VERDICT" $c --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
			assert_match "$sh: verdict $c: $o (from --help) offered" "$offered" "(^| )$o( |$)"
		done
	done
done

# the suite after --only (bash sees the whole line too)
assert_eq "bash: suite after --only" "$(bash -c '. "$1"; COMP_WORDS=(verdict run --only "" s.json); COMP_CWORD=3; _verdict
	printf "%s\n" "${COMPREPLY[@]}"' _ "$comp_dir/verdict.bash" | sort -u | tr '\n' ' ')" "$NAMES"
# a suite that does not exist: nothing, and no error on the terminal
assert_eq "bash: --only without a suite" "$(bash_comp verdict run nosuch.json --only "" 2>&1)" ""
assert_eq "fish: --only without a suite" "$(fish_comp 'verdict run nosuch.json --only ' 2>&1)" ""
finish
