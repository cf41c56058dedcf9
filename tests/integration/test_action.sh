# test_action.sh - the GitHub Action (action.yml, packaging/action/) as a
# runner would drive it: action.yml and examples/github-workflow.yml parse
# as YAML (python3-yaml) with the inputs, outputs and steps the docs name;
# run.sh against faultd with GITHUB_ACTIONS=true writes one ::error per
# critical failed check and one ::warning per non-critical one, escaped
# by GitHub's rules (% CR LF, and : , in the title), sets the outputs
# (JSON and JUnit reports that parse, verdict, exit-code), appends the
# step summary, and exits 1; fail-on-error=false exits 0; without
# GITHUB_ACTIONS verdict annotates nothing.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
top=$(cd "$here/../.." && pwd)

# --- the YAML
if /usr/bin/python3 - "$top/action.yml" "$top/examples/github-workflow.yml" > "$T/yaml.out" 2>&1 <<'PY'
import os, sys, yaml
act = yaml.safe_load(open(sys.argv[1]))
assert act["runs"]["using"] == "composite", act["runs"]
assert act["inputs"]["suite"]["required"] is True
for i in ("only", "install", "version", "fail-on-error", "report-dir"):
    assert i in act["inputs"], i
for o in ("json-report", "junit-report", "verdict", "exit-code"):
    assert "steps.run.outputs." + o in act["outputs"][o]["value"], o
top = os.path.dirname(sys.argv[1])
for st in act["runs"]["steps"]:
    assert st["shell"] == "bash", st
    script = st["run"].split("$GITHUB_ACTION_PATH/")[1].split('"')[0]
    assert os.access(os.path.join(top, script), os.X_OK), script
assert any(s.get("id") == "run" for s in act["runs"]["steps"])
wf = yaml.safe_load(open(sys.argv[2]))
uses = [s for j in wf["jobs"].values() for s in j["steps"] if "verdict" in s.get("uses", "")]
assert uses, "the example workflow does not use the action"
for s in uses:
    assert "suite" in s["with"], s
print("yaml ok")
PY
then echo "ok: action.yml and the example workflow parse and agree"; else fail "yaml: $(cat "$T/yaml.out")"; fi

# --- run.sh with verdict on PATH, as after the install step
mkdir -p "$T/bin"
ln -s "$VERDICT" "$T/bin/verdict"
start_faultd
cat > "$T/suite.json" <<EOF2
{ "name": "ci, staging: 100%", "checks": [
  { "name": "home", "type": "http", "url": "$F/ok" },
  { "name": "api: v1, 100%", "type": "http", "url": "$F/status?code=503" },
  { "name": "reports", "type": "http", "url": "$F/status?code=500", "critical": false },
  { "name": "after", "type": "http", "url": "$F/ok", "stage": "later" } ] }
EOF2
action_run() { # ENV=... assignments for run.sh
	set +e
	env PATH="$T/bin:$PATH" SUITE="$T/suite.json" RUNNER_TEMP="$T/rt" \
		GITHUB_OUTPUT="$T/gh_output" GITHUB_STEP_SUMMARY="$T/summary.md" "$@" \
		bash "$top/packaging/action/run.sh" > "$T/out" 2> "$T/err"
	RC=$?
	set -e
}
rm -f "$T/gh_output" "$T/summary.md"
action_run GITHUB_ACTIONS=true
assert_eq "run.sh exits 1 when a critical check fails" "$RC" 1
assert_clean_stderr "run.sh"
assert_eq "one ::error for the critical failure, escaped" \
	"$(grep '^::error' "$T/err")" \
	"::error title=verdict ci%2C staging%3A 100%25%3A api%3A v1%2C 100%25 fail::api: v1, 100%25: status 503, expected 2xx (stage main, 1 attempt)"
assert_eq "one ::warning for the non-critical failure" \
	"$(grep '^::warning' "$T/err")" \
	"::warning title=verdict ci%2C staging%3A 100%25%3A reports fail::reports: status 500, expected 2xx (stage main, 1 attempt)"
assert_eq "no annotation for passed or skipped checks" "$(grep -c '^::' "$T/err")" 2
assert_match "the text report goes to the log" "$(cat "$T/out")" "api: v1, 100%"
assert_eq "output json-report" "$(sed -n 's/^json-report=//p' "$T/gh_output")" "$T/rt/verdict/report.json"
assert_eq "output junit-report" "$(sed -n 's/^junit-report=//p' "$T/gh_output")" "$T/rt/verdict/report.junit.xml"
assert_eq "output verdict" "$(sed -n 's/^verdict=//p' "$T/gh_output")" fail
assert_eq "output exit-code" "$(sed -n 's/^exit-code=//p' "$T/gh_output")" 1
assert_eq "the JSON report: statuses" \
	"$(jq -r '[.checks[] | .status] | join(" ")' "$T/rt/verdict/report.json")" "pass fail fail skipped"
if xmllint --noout "$T/rt/verdict/report.junit.xml" 2> "$T/xml.err"; then
	echo "ok: the JUnit report parses"
else fail "JUnit report: $(cat "$T/xml.err")"; fi
assert_eq "JUnit: one failure" "$(xmllint --xpath 'count(//testcase/failure)' "$T/rt/verdict/report.junit.xml")" 1
assert_match "the step summary" "$(cat "$T/summary.md")" "### verdict: .* FAIL"

# fail-on-error=false: the step passes, the outputs still say fail
rm -f "$T/gh_output"
action_run GITHUB_ACTIONS=true FAIL_ON_ERROR=false REPORT_DIR="$T/rd"
assert_eq "fail-on-error=false: exit 0" "$RC" 0
assert_eq "fail-on-error=false: verdict output" "$(sed -n 's/^verdict=//p' "$T/gh_output")" fail
assert_eq "report-dir is used" "$(sed -n 's/^json-report=//p' "$T/gh_output")" "$T/rd/report.json"

# a bad suite is never let through
echo '{ "name": "x", "checks": [ { "name": "a", "type": "nope" } ] }' > "$T/bad.json"
action_run GITHUB_ACTIONS=true FAIL_ON_ERROR=false SUITE="$T/bad.json"
assert_eq "a bad suite fails the step even with fail-on-error=false" "$RC" 2

# --only, names or tags separated by spaces
rm -f "$T/gh_output"
action_run GITHUB_ACTIONS=true ONLY="home after"
assert_eq "only: the passing checks" "$RC" 0
assert_eq "only: no annotation" "$(grep -c '^::' "$T/err" || true)" 0

# verdict itself: annotations only when GITHUB_ACTIONS=true
run_verdict run "$T/suite.json"
assert_eq "without GITHUB_ACTIONS: no annotation" "$(grep -c '^::' "$T/err" || true)" 0
GITHUB_ACTIONS=false run_verdict run "$T/suite.json"
assert_eq "GITHUB_ACTIONS=false: no annotation" "$(grep -c '^::' "$T/err" || true)" 0
GITHUB_ACTIONS=true run_verdict run -f json "$T/suite.json"
assert_eq "annotations stay out of --format json on stdout" "$(jq -r .verdict < "$T/out")" fail

# --report FORMAT=FILE refuses what it does not know
run_verdict run --report xml=x "$T/suite.json"
assert_eq "--report with an unknown format: exit 2" "$RC" 2
assert_match "--report: the message" "$(cat "$T/err")" "--report: expected FORMAT=FILE"
run_verdict run --report json= "$T/suite.json"
assert_eq "--report without a file: exit 2" "$RC" 2
finish
