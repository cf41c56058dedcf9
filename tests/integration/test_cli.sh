# test_cli.sh - `verdict run` and `verdict validate` as a CI job sees them:
# exit codes 0/1/2, every report format, --output, $GITHUB_STEP_SUMMARY,
# --only NAME|TAG, -q/-v, colour only on a TTY and never with NO_COLOR,
# validation messages that name the file and the place, help and version,
# and secrets (URL passwords, tokens from the environment) absent from
# every output. Targets are served by faultd.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

start_faultd
DEAD=$(free_port)
ESC=$(printf '\033')

# vrun ARGS...: run_verdict, then no sanitizer report on stderr (every run)
vrun() {
	run_verdict "$@"
	assert_clean_stderr "verdict $*"
}

cat > "$T/pass.json" <<EOF
// comments are allowed
{ "name": "pass-suite", "checks": [
  { "name": "home", "type": "http", "url": "$F/ok", "tags": ["web"] },
  { "name": "api", "type": "http", "url": "$F/json", "tags": ["api"],
    "expect": { "json": { "status": "ok" } } }
] }
EOF
cat > "$T/fail.json" <<EOF
{ "name": "fail-suite", "checks": [
  { "name": "home", "type": "http", "url": "$F/ok", "tags": ["web"] },
  { "name": "broken", "type": "http", "url": "$F/status?code=503", "tags": ["api"] },
  { "name": "warn-only", "type": "http", "url": "$F/status?code=500", "critical": false },
  { "name": "down", "type": "http", "url": "http://127.0.0.1:$DEAD/", "tags": ["api"] }
] }
EOF
cat > "$T/warn.json" <<EOF
{ "name": "warn-suite", "checks": [
  { "name": "home", "type": "http", "url": "$F/ok" },
  { "name": "warn-only", "type": "http", "url": "$F/status?code=500", "critical": false }
] }
EOF

# --- exit codes
vrun run "$T/pass.json"
assert_eq "pass: exit 0" "$RC" 0
assert_match "pass: summary line" "$(tail -1 "$T/out")" '^PASS: 2 passed, 0 failed, 0 errors, 0 warnings, 0 skipped in '
vrun run "$T/fail.json"
assert_eq "fail: exit 1" "$RC" 1
assert_match "fail: reason shown" "$(cat "$T/out")" 'FAIL +broken .*status 503, expected 2xx'
assert_match "fail: error shown" "$(cat "$T/out")" 'ERROR +down .*connection refused'
assert_match "fail: warning shown" "$(cat "$T/out")" 'WARN +warn-only .*status 500, expected 2xx'
assert_match "fail: summary line" "$(tail -1 "$T/out")" '^FAIL: 1 passed, 1 failed, 1 errors, 1 warnings, 0 skipped in '
vrun run "$T/warn.json"
assert_eq "warn: a non-critical failure exits 0" "$RC" 0
assert_match "warn: shown as WARN" "$(cat "$T/out")" 'WARN +warn-only'
assert_match "warn: counted as a warning" "$(tail -1 "$T/out")" '^PASS: 1 passed, 0 failed, 0 errors, 1 warnings, 0 skipped in '

# --- formats, --output, GITHUB_STEP_SUMMARY
vrun run --format json --output "$T/report.json" "$T/fail.json"
assert_eq "json: exit 1" "$RC" 1
assert_eq "json: verdict" "$(jq_out .verdict)" fail
assert_eq "json: suite" "$(jq_out .suite)" fail-suite
assert_eq "json: checks" "$(jq_out '.checks | length')" 4
assert_eq "json: broken" "$(check_field broken '.status + " " + .reason')" "fail status 503, expected 2xx"
assert_eq "json: down" "$(check_field down .reason_kind)" refused
assert_eq "json: warn-only not critical" "$(check_field warn-only .critical)" false
assert_eq "json: core fields" \
	"$(jq_out '.checks[0] | [has("name","type","status","critical","reason","attempts","duration_seconds","timings")] | all')" true
assert_eq "json: --output has the same report" "$(jq -c 'del(.checks[].duration_seconds)' "$T/report.json" | wc -c)" \
	"$(jq -c 'del(.checks[].duration_seconds)' "$T/out" | wc -c)"
assert_eq "json: --output is the report" "$(jq -r .verdict "$T/report.json")" fail

vrun run -f junit -o "$T/report.xml" "$T/fail.json"
assert_eq "junit: exit 1" "$RC" 1
if xmllint --noout "$T/out" 2>"$T/xmlerr"; then echo "ok: junit: well-formed"; else fail "junit: not well-formed: $(cat "$T/xmlerr")"; fi
assert_match "junit: counts" "$(cat "$T/out")" '<testsuites name="fail-suite" tests="4" failures="[12]" errors="1"'
assert_match "junit: failure" "$(cat "$T/out")" '<failure message="status 503, expected 2xx"'
assert_match "junit: error" "$(cat "$T/out")" '<error message="connection refused"'
assert_eq "junit: --output written" "$(cmp -s "$T/out" "$T/report.xml" && echo same)" same

vrun run --format tap "$T/fail.json"
assert_eq "tap: exit 1" "$RC" 1
assert_eq "tap: version line" "$(head -1 "$T/out")" "TAP version 13"
assert_eq "tap: plan" "$(sed -n 2p "$T/out")" "1..4"
assert_match "tap: pass" "$(cat "$T/out")" '^ok 1 - home'
assert_match "tap: fail" "$(cat "$T/out")" 'not ok 2 - broken'

vrun run --format markdown "$T/fail.json"
assert_eq "markdown: exit 1" "$RC" 1
assert_match "markdown: heading" "$(head -1 "$T/out")" '^### verdict: fail-suite'
assert_match "markdown: table row" "$(cat "$T/out")" '\| broken \| main \| \*\*FAIL\*\* \| [0-9.]+m?s \| status 503, expected 2xx \|'

vrun run --format text "$T/pass.json"
assert_eq "text: explicit" "$RC" 0
vrun run --format xml "$T/pass.json"
assert_eq "unknown format: exit 2" "$RC" 2
assert_match "unknown format: message" "$(cat "$T/err")" 'unknown format "xml"'

export GITHUB_STEP_SUMMARY=$T/summary.md
echo "# earlier step" > "$GITHUB_STEP_SUMMARY"
vrun run --format json "$T/pass.json"
vrun run "$T/fail.json"
unset GITHUB_STEP_SUMMARY
assert_eq "summary: earlier content kept" "$(head -1 "$T/summary.md")" "# earlier step"
assert_eq "summary: appended twice" "$(grep -c '^### verdict: ' "$T/summary.md")" 2
assert_match "summary: pass then fail" "$(grep '^### verdict' "$T/summary.md" | tr '\n' ' ')" 'pass-suite — PASS .*fail-suite — FAIL'

# --- --only NAME and TAG
vrun run --format json --only broken "$T/fail.json"
assert_eq "only name: one check" "$(jq_out '[.checks[].name] | join(",")')" broken
assert_eq "only name: exit 1" "$RC" 1
vrun run --format json --only web "$T/fail.json"
assert_eq "only tag: one check" "$(jq_out '[.checks[].name] | join(",")')" home
assert_eq "only tag: exit 0" "$RC" 0
vrun run --format json --only web --only down "$T/fail.json"
assert_eq "only twice" "$(jq_out '[.checks[].name] | join(",")')" home,down
vrun run --only nothing-matches "$T/fail.json"
assert_eq "only nothing: exit 2" "$RC" 2
assert_match "only nothing: message" "$(cat "$T/err")" 'no check matches --only'

# --- -q / -v
vrun run -q "$T/fail.json"
assert_no_match "quiet: passing checks hidden" "$(cat "$T/out")" 'PASS +home'
assert_match "quiet: failures shown" "$(cat "$T/out")" 'FAIL +broken'
vrun run -v "$T/pass.json"
assert_match "verbose: reason of a pass" "$(cat "$T/out")" 'PASS +home .*status 200'
assert_match "verbose: target" "$(cat "$T/out")" "$F/ok"

# --- colour: never in a pipe, never with NO_COLOR, on a TTY otherwise
vrun run "$T/fail.json"
assert_no_match "pipe: no escape codes" "$(cat "$T/out")" "$ESC"
script -qec "NO_COLOR=1 '$VERDICT' run '$T/fail.json'" /dev/null > "$T/tty-nocolor" 2>&1 || true
assert_match "tty+NO_COLOR: report printed" "$(cat "$T/tty-nocolor")" 'FAIL +broken'
assert_no_match "tty+NO_COLOR: no escape codes" "$(cat "$T/tty-nocolor")" "$ESC"
script -qec "unset NO_COLOR; '$VERDICT' run '$T/fail.json'" /dev/null > "$T/tty-color" 2>&1 || true
assert_match "tty: colour" "$(cat "$T/tty-color")" "$ESC\\[31m"
assert_no_match "tty: no sanitizer report" "$(cat "$T/tty-nocolor" "$T/tty-color")" 'Sanitizer|runtime error:'
vrun run --format json --output "$T/o.json" "$T/pass.json"
assert_no_match "output file: no escape codes" "$(cat "$T/o.json")" "$ESC"

# --- validate
vrun validate "$T/pass.json" "$T/fail.json"
assert_eq "validate good: exit 0" "$RC" 0
assert_match "validate good: says ok" "$(cat "$T/out")" 'pass\.json: ok \(2 checks, 1 stages\)'
# bad suites: file name, place and problem in the message, exit 2
bad() { # NAME JSON MESSAGE_REGEX
	printf '%s\n' "$2" > "$T/$1.json"
	vrun validate "$T/$1.json"
	assert_eq "validate $1: exit 2" "$RC" 2
	assert_match "validate $1: message" "$(cat "$T/err")" "$3"
	vrun run "$T/$1.json"
	assert_eq "run $1: exit 2" "$RC" 2
}
bad unknown-key '{ "checks": [ { "name": "a", "type": "http", "url": "http://127.0.0.1/", "bogus": 1 } ] }' \
	'unknown-key\.json: checks\[0\]\.bogus: unknown key'
bad status '{ "checks": [ { "name": "a", "type": "http", "url": "http://127.0.0.1/", "expect": { "status": "abc" } } ] }' \
	'status\.json: checks\[0\]\.expect\.status: expected an integer'
bad syntax '{ "checks": [
  { "name": "a" "type": "http" } ] }' \
	'syntax\.json: line 2, column [0-9]+: invalid JSON'
bad regex '{ "checks": [ { "name": "a", "type": "http", "url": "http://127.0.0.1/", "expect": { "body_regex": "((" } } ] }' \
	'regex\.json: checks\[0\]\.expect\.body_regex: invalid regular expression'
bad dup '{ "checks": [ { "name": "a", "type": "http", "url": "http://127.0.0.1/" },
  { "name": "a", "type": "http", "url": "http://127.0.0.1/" } ] }' \
	'dup\.json: checks\[1\]\.name: duplicate check name "a"'
bad url '{ "checks": [ { "name": "a", "type": "http", "url": "ftp://127.0.0.1/" } ] }' \
	'url\.json: checks\[0\]\.url: expected an http:// or https:// URL'
bad unset-var '{ "checks": [ { "name": "a", "type": "http", "url": "${VERDICT_TEST_UNSET}/x" } ] }' \
	'unset-var\.json: checks\[0\]\.url: environment variable VERDICT_TEST_UNSET is not set'
bad duration '{ "checks": [ { "name": "a", "type": "http", "url": "http://127.0.0.1/", "timeout": "5 parsecs" } ] }' \
	'duration\.json: checks\[0\]\.timeout: invalid duration'
bad type '{ "checks": [ { "name": "a", "type": "htp", "url": "http://127.0.0.1/" } ] }' \
	'type\.json: checks\[0\]\.type: unknown check type "htp"'
bad empty '' 'empty\.json: .*invalid JSON'
vrun validate "$T/nonexistent.json"
assert_eq "validate missing file: exit 2" "$RC" 2
assert_match "validate missing file: message" "$(cat "$T/err")" 'nonexistent\.json: No such file or directory'
# a default variable value
printf '%s\n' '{ "checks": [ { "name": "a", "type": "http", "url": "${VERDICT_TEST_UNSET:-http://127.0.0.1:'"$FP"'}/ok" } ] }' > "$T/default.json"
vrun run "$T/default.json"
assert_eq "\${VAR:-default}: used" "$RC" 0

# --- help, version, usage errors
vrun --help
assert_eq "--help: exit 0" "$RC" 0
assert_match "--help: commands" "$(cat "$T/out")" 'run SUITE\.json'
vrun run --help
assert_eq "run --help: exit 0" "$RC" 0
assert_match "run --help: options" "$(cat "$T/out")" '--format FMT'
vrun validate --help
assert_eq "validate --help: exit 0" "$RC" 0
vrun --version
assert_eq "--version: exit 0" "$RC" 0
assert_match "--version: number" "$(cat "$T/out")" '^verdict [0-9]+\.[0-9]+\.[0-9]+'
vrun
assert_eq "no command: exit 2" "$RC" 2
vrun frobnicate
assert_eq "unknown command: exit 2" "$RC" 2
assert_match "unknown command: message" "$(cat "$T/err")" 'unknown command "frobnicate"'
vrun run --bogus "$T/pass.json"
assert_eq "unknown option: exit 2" "$RC" 2
assert_match "unknown option: message" "$(cat "$T/err")" "unrecognized option '--bogus'"
vrun run
assert_eq "run without suite: exit 2" "$RC" 2
vrun run "$T/pass.json" "$T/fail.json"
assert_eq "run with two suites: exit 2" "$RC" 2
vrun run --concurrency 0 "$T/pass.json"
assert_eq "bad --concurrency: exit 2" "$RC" 2

# --- secrets: a password in a URL and tokens from the environment never
# appear in any report, file or log line
PASSWORD='hunter2-Secret-PW'
export API_TOKEN='tok-5ecret-abcdef'
export SERVICE_KEY='k3y-5ecret-zyx'
cat > "$T/secrets.json" <<EOF
{ "name": "secrets", "checks": [
  { "name": "url-password", "type": "http", "url": "http://deploy:$PASSWORD@127.0.0.1:$FP/status?code=500" },
  { "name": "url-password-loop", "type": "http", "url": "http://deploy:$PASSWORD@127.0.0.1:$FP/redirect-loop" },
  { "name": "url-password-refused", "type": "http", "url": "http://deploy:$PASSWORD@127.0.0.1:$DEAD/" },
  { "name": "auth-header", "type": "http", "url": "$F/echo",
    "headers": { "Authorization": "Bearer \${API_TOKEN}", "X-Service-Key": "\${SERVICE_KEY}" },
    "expect": { "body_contains": "this is not there", "headers": { "X-Method": "POST" } } },
  { "name": "token-in-query", "type": "http", "url": "http://127.0.0.1:$DEAD/?token=\${API_TOKEN}" },
  { "name": "echoed-token", "type": "http", "url": "$F/echo",
    "headers": { "Authorization": "Bearer \${API_TOKEN}" },
    "expect": { "body_regex": "^nothing" } }
] }
EOF
export GITHUB_STEP_SUMMARY=$T/secret-summary.md
: > "$GITHUB_STEP_SUMMARY"
: > "$T/all-output"
for fmt in text json junit tap markdown; do
	for v in "" -v; do
		vrun run --format "$fmt" $v --output "$T/secret-report" "$T/secrets.json"
		assert_eq "secrets $fmt $v: exit 1" "$RC" 1
		cat "$T/out" "$T/err" "$T/secret-report" >> "$T/all-output"
	done
done
unset GITHUB_STEP_SUMMARY
vrun validate "$T/secrets.json"
cat "$T/out" "$T/err" "$T/secret-summary.md" >> "$T/all-output"
for s in "$PASSWORD" "$API_TOKEN" "$SERVICE_KEY"; do
	assert_eq "secret never printed: ${s:0:4}..." "$(grep -c -F -- "$s" "$T/all-output")" 0
done
# the reports still say what happened, with the secret masked
vrun run --format json "$T/secrets.json"
assert_eq "secrets: target masked" "$(check_field url-password .target)" "http://deploy:***@127.0.0.1:$FP/status?code=500"
assert_eq "secrets: reason kept" "$(check_field url-password .reason)" "status 500, expected 2xx"
assert_match "secrets: loop reason masked" "$(check_field url-password-loop .reason)" '^redirect loop: '
assert_eq "secrets: token in query masked" "$(check_field token-in-query .target)" "http://127.0.0.1:$DEAD/?token=***"
assert_match "secrets: header reason" "$(check_field auth-header .reason)" '^header X-Method: got "GET", expected "POST"'
assert_match "secrets: the token reached the server" "$(check_field echoed-token .status)" fail

finish
