#!/bin/sh
# run.sh - `make bench`: runs every tests/bench/*.sh bench script (all but
# this one and the *_lib.sh helpers; add yours, e.g. serve_bench.sh), each
# with bash, then prints one table of every figure they recorded with
# bench_row (bench_lib.sh). Figures are for people; nothing is asserted.
#   VERDICT=/path/to/verdict TOOLS=/path/to/tools sh tests/bench/run.sh [x_bench.sh ...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${VERDICT:?set VERDICT to the verdict binary}"
: "${TOOLS:?set TOOLS to the directory of test tools}"
BENCH_RESULTS=$(mktemp /tmp/verdict-bench.XXXXXX)
export VERDICT TOOLS BENCH_RESULTS
trap 'rm -f "$BENCH_RESULTS"' EXIT

if [ $# -gt 0 ]; then
	scripts="$*"
else
	scripts=$(cd "$here" && ls ./*.sh | sed 's|^\./||')
fi
failed=""
for s in $scripts; do
	s=$(basename "$s")
	case $s in
	run.sh | *_lib.sh) continue ;;
	esac
	echo "--- $s"
	start=$(date +%s)
	if ! bash "$here/$s"; then
		failed="$failed $s"
		printf 'note\t%s failed (exit status non-zero); its figures may be missing\n' \
			"$s" >> "$BENCH_RESULTS"
	fi
	echo "--- $s: $(( $(date +%s) - start ))s"
done

echo
echo "verdict benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
awk -F '\t' '
BEGIN {
	n = 0
	h[1] = "benchmark"; h[2] = "subject"; h[3] = "checks"; h[4] = "wall s"
	h[5] = "checks/s"; h[6] = "CPU us/check"; h[7] = "peak RSS MB"; h[8] = "note"
	for (i = 1; i <= 8; i++) w[i] = length(h[i])
}
$1 == "note" { notes[++nn] = $2; next }
NF >= 7 {
	n++
	for (i = 1; i <= 8; i++) {
		c[n, i] = $i
		if (length($i) > w[i]) w[i] = length($i)
	}
}
function line(get,   i, s, v) {
	s = ""
	for (i = 1; i <= 8; i++) {
		v = get == 0 ? h[i] : c[get, i]
		# names left, numbers right
		if (i <= 2 || i == 8)
			s = s sprintf("%-*s", w[i], v)
		else
			s = s sprintf("%*s", w[i], v)
		if (i < 8) s = s "  "
	}
	sub(/ +$/, "", s)
	print s
}
END {
	line(0)
	rule = ""
	for (i = 1; i <= 8; i++) rule = rule sprintf("%s", substr("------------------------------------------------------------------------------------------------", 1, w[i])) (i < 8 ? "  " : "")
	print rule
	prev = ""
	for (r = 1; r <= n; r++) {
		if (prev != "" && c[r, 1] != prev) print ""
		prev = c[r, 1]
		line(r)
	}
	for (k = 1; k <= nn; k++) print "note: " notes[k]
}' "$BENCH_RESULTS"

[ -z "$failed" ] || { echo "bench: failed:$failed" >&2; exit 1; }
