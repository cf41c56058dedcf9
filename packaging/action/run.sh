#!/bin/bash
# run.sh - the action's second step (action.yml): runs the suite once,
# writing the text report to the log, JSON and JUnit reports to files,
# the Markdown summary to $GITHUB_STEP_SUMMARY and annotations for failed
# checks (verdict writes the last two itself under GitHub Actions). Sets
# the outputs json-report, junit-report, verdict and exit-code.
#   SUITE, ONLY (names or tags, spaces between), FAIL_ON_ERROR, REPORT_DIR
set -uo pipefail
dir=${REPORT_DIR:-${RUNNER_TEMP:-/tmp}/verdict}
mkdir -p "$dir"
json=$dir/report.json
junit=$dir/report.junit.xml
args=(run --report "json=$json" --report "junit=$junit")
for o in ${ONLY:-}; do
	args+=(--only "$o")
done
verdict "${args[@]}" -- "$SUITE"
rc=$?
case $rc in
0) v=pass ;;
1) v=fail ;;
*) v=error ;;
esac
{
	echo "json-report=$json"
	echo "junit-report=$junit"
	echo "verdict=$v"
	echo "exit-code=$rc"
} >> "${GITHUB_OUTPUT:-/dev/null}"
# a failed check (1) may be let through; a bad suite or usage (2) never
if [ $rc -eq 1 ] && [ "${FAIL_ON_ERROR:-true}" = false ]; then
	echo "::warning title=verdict::the suite failed (fail-on-error is false)"
	exit 0
fi
exit $rc
