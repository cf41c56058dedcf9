# test_flow.sh - the flow check against a small real web app
# (tests/tools/flowapp.py, Python's standard library) on loopback:
#  - a JSON login whose token, captured, opens the profile and a list
#    (any/all/length); a form login with a CSRF token captured from a
#    header, a cookie and the body (regex), then a session cookie set on
#    a redirect; the steps in every report;
#  - failures name the step: wrong password (and its status), a capture
#    that finds nothing, an expired token, a step's own timeout;
#  - a retry starts from step one with an empty cookie jar;
#  - {{name}} that no earlier step captures is refused at load, naming
#    the place;
#  - the tokens the app issued (canaries) appear in no output: text,
#    json, junit, tap, markdown, GitHub annotations and step summary,
#    /metrics of serve, deploy records; raw, base64 and URL-encoded.
# (A Secure cookie and a non-loopback origin: test_flow_netns.sh.)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

AP=$(free_port)
python3 "$here/../tools/flowapp.py" 127.0.0.1 "$AP" "$T/tokens" > "$T/app.out" 2>&1 &
PIDS="$PIDS $!"
wait_port "$AP"
A=http://127.0.0.1:$AP
export SMOKE_USER=smoke SMOKE_PASSWORD=smoke-pass

cat > "$T/flow.json" <<EOF
{ "name": "flows", "checks": [
  { "name": "auth-flow", "type": "flow", "timeout": "10s",
    "steps": [
      { "name": "login", "method": "POST", "url": "$A/api/auth/login/",
        "headers": { "Content-Type": "application/json" },
        "body": { "username": "\${SMOKE_USER}", "password": "\${SMOKE_PASSWORD}" },
        "expect": { "status": 200, "json": { "token": { "exists": true } } },
        "capture": { "token": { "json": "token" } } },
      { "name": "profile", "url": "$A/api/auth/profile/",
        "headers": { "Authorization": "Bearer {{token}}" },
        "expect": { "status": 200,
                    "json": { "username": "\${SMOKE_USER}",
                              "roles": { "contains": "tester" } } } },
      { "name": "items", "url": "$A/api/items/",
        "headers": { "Authorization": "Bearer {{token}}" },
        "expect": { "json": { "items": { "length": 3, "any": { "type": "object" } },
                              "items.*.price": { "ge": 0 },
                              "count": { "equals": 3 } } } } ] },
  { "name": "session-flow", "type": "flow",
    "steps": [
      { "name": "form", "url": "$A/session/login/",
        "capture": { "csrf": { "header": "X-CSRF-Token" },
                     "csrf_cookie": { "cookie": "csrftoken" },
                     "csrf_body": { "regex": "name=\"csrfmiddlewaretoken\" value=\"([0-9a-f]+)\"" } } },
      { "name": "post", "method": "POST", "url": "$A/session/login/",
        "headers": { "X-CSRFToken": "{{csrf_body}}",
                     "Content-Type": "application/x-www-form-urlencoded" },
        "body": "username=smoke&password=smoke-pass",
        "expect": { "status": 200, "json": { "user": "smoke" } } },
      { "name": "same-csrf", "url": "$A/cookies",
        "headers": { "X-Seen": "{{csrf}}={{csrf_cookie}}" },
        "expect": { "json": { "names": { "contains": "csrftoken" } } } } ] },
  { "name": "list-fails", "type": "flow", "critical": false,
    "steps": [
      { "name": "login", "method": "POST", "url": "$A/api/auth/login/",
        "body": { "username": "smoke", "password": "smoke-pass" },
        "capture": { "token": { "json": "token" } } },
      { "name": "items", "url": "$A/api/items/",
        "headers": { "Authorization": "Bearer {{token}}" },
        "expect": { "json": { "items": { "all": { "type": "object" } },
                              "items.*.price": { "gt": 0 } } } } ] },
  { "name": "wrong-password", "type": "flow", "critical": false,
    "steps": [
      { "name": "login", "method": "POST", "url": "$A/api/auth/login/",
        "body": { "username": "smoke", "password": "nope" },
        "expect": { "status": 200 }, "capture": { "token": { "json": "token" } } },
      { "name": "profile", "url": "$A/api/auth/profile/",
        "headers": { "Authorization": "Bearer {{token}}" } } ] },
  { "name": "missing-capture", "type": "flow", "critical": false,
    "steps": [
      { "name": "login", "method": "POST", "url": "$A/api/auth/login/",
        "body": { "username": "smoke", "password": "smoke-pass" },
        "capture": { "token": { "json": "token" }, "refresh": { "json": "refresh_token" } } },
      { "name": "profile", "url": "$A/api/auth/profile/",
        "headers": { "Authorization": "Bearer {{refresh}}" } } ] },
  { "name": "expired", "type": "flow", "critical": false,
    "steps": [
      { "name": "login", "method": "POST", "url": "$A/api/auth/login/",
        "body": { "username": "smoke", "password": "smoke-pass", "ttl": 0 },
        "capture": { "token": { "json": "token" } } },
      { "name": "profile", "url": "$A/api/auth/profile/",
        "headers": { "Authorization": "Bearer {{token}}" },
        "expect": { "status": 200 } } ] },
  { "name": "echo-token", "type": "flow", "critical": false,
    "steps": [
      { "name": "login", "method": "POST", "url": "$A/api/auth/login/",
        "body": { "username": "smoke", "password": "smoke-pass" },
        "capture": { "t": { "json": "token", "secret": true } },
        "expect": { "json": { "token": "not-this-one" } } } ] },
  { "name": "fresh-jar", "type": "flow", "critical": false,
    "retries": 1, "interval": "10ms", "retry_on": "any",
    "steps": [
      { "name": "empty", "url": "$A/cookies",
        "expect": { "json": { "names": { "length": 0 } } } },
      { "name": "get-cookie", "url": "$A/session/login/" },
      { "name": "sent", "url": "$A/cookies",
        "expect": { "json": { "names": ["csrftoken"] } } },
      { "name": "always-fails", "url": "$A/health", "expect": { "status": 201 } } ] },
  { "name": "hdr-ops", "type": "http", "url": "$A/health",
    "expect": { "headers": { "Content-Type": { "one_of": ["text/html", "application/json"] },
                             "Content-Length": { "lt": "1KiB" }, "X-Nope": { "exists": false } } } },
  { "name": "hdr-ops-fail", "type": "http", "url": "$A/health", "critical": false,
    "expect": { "headers": { "Content-Type": { "not": "application/json" } } } },
  { "name": "manifest-ops", "type": "json_file", "path": "$T/manifest.json", "critical": false,
    "equals": { "images": { "a": 1 }, "replicas": { "ge": 3 }, "env": { "one_of": ["staging"] } } },
  { "name": "step-timeout", "type": "flow", "critical": false, "timeout": "10s",
    "steps": [
      { "name": "quick", "url": "$A/health" },
      { "name": "hangs", "url": "http://127.0.0.1:$(free_port)/", "timeout": "300ms" } ] }
] }
EOF

printf '{"env": "staging", "replicas": 2, "images": {"a": 1}}\n' > "$T/manifest.json"
run_suite "$T/flow.json" 20
assert_eq "exit code: only non-critical flows failed" "$RC" 0
expect auth-flow pass none '^3 steps passed, last status 200$'
assert_eq "auth-flow: steps" "$(check_field auth-flow '[.steps[] | "\(.name)=\(.status)/\(.http_status)"] | join(" ")')" \
	"login=pass/200 profile=pass/200 items=pass/200"
assert_eq "auth-flow: step timings" "$(check_field auth-flow '[.steps[] | (.timings.total > 0)] | all')" true
expect session-flow pass none '^3 steps passed'
assert_eq "session-flow: the session cookie came on a redirect" "$(check_field session-flow '.facts.http_redirects')" 1
expect list-fails fail body '^step items: json items\.2\.price: 0 is not > 0$'
expect wrong-password fail status '^step login: status 401, expected 200$'
assert_eq "wrong-password: the steps that ran" "$(check_field wrong-password '[.steps[] | "\(.name)=\(.status)"] | join(" ")')" "login=fail"
expect missing-capture fail value '^step login: capture refresh: json path refresh_token found nothing$'
expect expired fail status '^step profile: status 401, expected 200$'
expect echo-token fail body '^step login: json token: got "\*\*\*", expected "not-this-one"$'
expect fresh-jar fail status '^step always-fails: status 201|^step always-fails: status 200, expected 201$'
assert_eq "fresh-jar: two attempts, each from step one" "$(check_field fresh-jar '.attempts')" 2
expect step-timeout error '^step hangs: '
expect hdr-ops pass '^status 200$'
expect hdr-ops-fail fail header '^header Content-Type: '
# operators in json_file equals; an object of other keys is still a value
expect manifest-ops fail policy '^replicas: 2 is not >= 3$'
assert_eq "step-timeout: the failing step is a fact" "$(check_field step-timeout '.facts.flow_step')" hangs

# --- text, -v: the steps under the check ------------------------------------
run_verdict run -v "$T/flow.json"
assert_match "text -v: steps listed" "$(cat "$T/out")" 'step login: pass, status 200, [0-9.]+m?s'
assert_match "text -v: failing step listed" "$(cat "$T/out")" 'step login: fail, status 401, [0-9.]+m?s: status 401, expected 200'

# --- {{name}} is checked at load -----------------------------------------------
bad_conf "unknown {{name}}" "{ \"name\": \"f\", \"type\": \"flow\", \"steps\": [
	{ \"name\": \"a\", \"url\": \"$A/\", \"capture\": { \"token\": { \"json\": \"token\" } } },
	{ \"name\": \"b\", \"url\": \"$A/\", \"headers\": { \"Authorization\": \"Bearer {{tokn}}\" } } ] }" \
	'checks\[0\]\.steps\[1\]\.headers\.Authorization: \{\{tokn\}\}: no earlier step captures "tokn"'
bad_conf "{{name}} of the same step" "{ \"name\": \"f\", \"type\": \"flow\", \"steps\": [
	{ \"name\": \"a\", \"url\": \"$A/{{id}}\", \"capture\": { \"id\": { \"json\": \"id\" } } } ] }" \
	'checks\[0\]\.steps\[0\]\.url: \{\{id\}\}: no earlier step captures "id"'
bad_conf "{{name}} in a JSON body" "{ \"name\": \"f\", \"type\": \"flow\", \"steps\": [
	{ \"name\": \"a\", \"url\": \"$A/\", \"body\": { \"user\": { \"id\": \"{{uid}}\" } } } ] }" \
	'checks\[0\]\.steps\[0\]\.body\.user\.id: \{\{uid\}\}: no earlier step captures'
bad_conf "capture of two kinds" "{ \"name\": \"f\", \"type\": \"flow\", \"steps\": [
	{ \"url\": \"$A/\", \"capture\": { \"x\": { \"json\": \"a\", \"header\": \"B\" } } } ] }" \
	'checks\[0\]\.steps\[0\]\.capture\.x\.header: one of json, header, regex or cookie, not two'
bad_conf "duplicate step names" "{ \"name\": \"f\", \"type\": \"flow\", \"steps\": [
	{ \"name\": \"a\", \"url\": \"$A/\" }, { \"name\": \"a\", \"url\": \"$A/\" } ] }" \
	'checks\[0\]\.steps\[1\]\.name: "a" names steps\[0\] already'
bad_conf "unknown step key" "{ \"name\": \"f\", \"type\": \"flow\", \"steps\": [
	{ \"name\": \"a\", \"url\": \"$A/\", \"expct\": {} } ] }" \
	'checks\[0\]\.steps\[0\]\.expct: unknown key'

# --- canaries: the tokens the app issued appear in no output -----------------------
export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$T/summary.md"
for f in text json junit tap markdown; do
	"$VERDICT" run -v --format "$f" "$T/flow.json" > "$T/out.$f" 2> "$T/err.$f" || true
done
unset GITHUB_ACTIONS GITHUB_STEP_SUMMARY

# serve: /metrics, with the per-step series
cat > "$T/serve.json" <<EOF
{ "name": "flows", "serve": { "every": "200ms" },
  "checks": $(jq -c '[.checks[] | select(.name != "step-timeout" and .name != "fresh-jar")]' "$T/flow.json") }
EOF
serve_start "$T/serve.json"
n=50
until curl -sf "$V/metrics" | grep -q 'verdict_flow_step_success{check="expired"'; do
	n=$((n - 1)); [ $n -gt 0 ] || break; sleep 0.1
done
sleep 0.5
curl -sf "$V/metrics" > "$T/metrics.txt"
serve_stop
assert_match "metrics: a passing step" "$(cat "$T/metrics.txt")" \
	'^verdict_flow_step_success\{check="auth-flow",type="flow",stage="main",step="profile"\} 1$'
assert_match "metrics: the failing step" "$(cat "$T/metrics.txt")" \
	'verdict_flow_step_success\{check="expired",type="flow",stage="main",step="profile"\} 0'
assert_match "metrics: step durations" "$(cat "$T/metrics.txt")" \
	'verdict_flow_step_duration_seconds\{check="auth-flow",type="flow",stage="main",step="items"\} [0-9.e-]+'
assert_eq "metrics: steps after the failing one are absent" \
	"$(grep -c 'check="wrong-password".*step="profile"' "$T/metrics.txt")" 0
if command -v promtool > /dev/null; then
	if promtool check metrics < "$T/metrics.txt" > "$T/promtool.out" 2>&1; then
		echo "ok: promtool check metrics"
	else
		cat "$T/promtool.out" >&2
		fail "promtool check metrics"
	fi
fi

# deploy: the gate runs flows; its records must not hold a token either
mkdir -p "$T/dep"
cat > "$T/dep/deploy.json" <<EOF
{ "environment": "staging",
  "hooks": { "deploy": { "argv": ["true"] } },
  "health": { "checks": $(jq -c '[.checks[] | select(.name == "auth-flow")]' "$T/flow.json") },
  "smoke": { "checks": $(jq -c '[.checks[] | select(.name == "echo-token") | .critical = true]' "$T/flow.json") } }
EOF
run_verdict deploy --config "$T/dep/deploy.json" --version v1
cp "$T/out" "$T/deploy.out"
cp "$T/err" "$T/deploy.err"
assert_match "deploy: the smoke flow failed the gate (exit $RC)" "$RC" '^[1-9]'
assert_match "deploy: the reason names the step" "$(cat "$T/deploy.out" "$T/deploy.err" "$T"/dep/.verdict/* 2>/dev/null)" 'step login: json token'

# every token issued, raw, base64 and URL-encoded
assert_le "the app issued tokens" 10 "$(wc -l < "$T/tokens")"
python3 - "$T/tokens" > "$T/pats" <<'PY'
import base64, sys, urllib.parse
for tok in open(sys.argv[1]).read().split():
    print(tok)
    print(base64.b64encode(tok.encode()).decode())
    print(urllib.parse.quote(tok, safe=""))
PY
sort -u -o "$T/pats" "$T/pats"
files=$(ls "$T"/out.* "$T"/err.* "$T/summary.md" "$T/metrics.txt" "$T/deploy.out" "$T/deploy.err" "$T/serve.out" "$T/serve.err" "$T"/dep/.verdict/* 2>/dev/null)
if grep -qF -f "$T/pats" $files; then
	grep -F -o -f "$T/pats" $files | head -5 >&2
	fail "a token appears in an output"
else
	echo "ok: no token in $(echo $files | wc -w) outputs ($(wc -l < "$T/pats") patterns)"
fi
assert_match "the canaries were there to be masked" "$(cat "$T/out.json")" '"reason":.*"step login: json token: got \\"\*\*\*\\"'
assert_match "junit: steps in the output" "$(cat "$T/out.junit")" '<system-out>step login: pass'
assert_match "markdown: steps listed" "$(cat "$T/out.markdown")" 'Steps of auth-flow'

finish
