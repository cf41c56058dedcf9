# match_bench.sh - the matcher's cost on a 1 MiB body, next to glibc's
# regexec (see match_bench.c, built by `make bench`). Figures go to the
# notes under the table.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_lib.sh"
bin=${MATCH_BENCH:-$TOOLS/../match_bench}
[ -x "$bin" ] || { echo "match_bench: $bin not built" >&2; exit 1; }
"$bin" > "$T/match.tsv" || exit 1
column -t -s "$(printf '\t')" < "$T/match.tsv"
tail -n +2 "$T/match.tsv" | while IFS="$(printf '\t')" read -r name subj pc res gl; do
	bench_note "matcher, $name on $subj: PCRE2 $pc ms ($res), glibc regexec $gl ms" > /dev/null
done
