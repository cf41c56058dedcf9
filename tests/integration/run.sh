#!/bin/sh
# Runs the integration tests: every tests/integration/test_*.sh, or the
# ones named on the command line. Each test starts the real servers it
# needs (lib.sh) on random loopback ports in its own temp directory and
# stops them on exit, even on failure.
#   VERDICT=/path/to/verdict TOOLS=/path/to/tools sh tests/integration/run.sh [test_x.sh ...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${VERDICT:?set VERDICT to the verdict binary}"
: "${TOOLS:?set TOOLS to the directory of test tools}"
export VERDICT TOOLS
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

if [ $# -gt 0 ]; then
	tests="$*"
else
	tests=$(cd "$here" && ls test_*.sh)
fi
logs=$(mktemp -d /tmp/verdict-it-logs.XXXXXX)
pass=0
fail=0
failed=""
for t in $tests; do
	t=$(basename "$t")
	start=$(date +%s)
	if bash "$here/$t" > "$logs/$t.log" 2>&1; then
		pass=$((pass + 1))
		echo "PASS $t ($(( $(date +%s) - start ))s)"
	else
		fail=$((fail + 1))
		failed="$failed $t"
		echo "FAIL $t ($(( $(date +%s) - start ))s)"
		sed 's/^/    | /' "$logs/$t.log" | tail -60
	fi
done
echo "integration: $pass passed, $fail failed${failed:+ ($failed )}; logs in $logs"
[ "$fail" -eq 0 ]
