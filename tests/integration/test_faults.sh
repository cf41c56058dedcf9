# test_faults.sh - the http check and the engine against a hostile server
# (faultd): never answering, answering slowly, trickling, resetting
# mid-body, an endless body, a malformed status line, a redirect loop,
# failing N times then succeeding, a refused port, a close without an
# answer; and stages (a failed critical 'health' check skips 'smoke').
# Each case asserts the status, the reason and that the deadline held.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

start_faultd
# a port nobody listens on
DEAD=$(free_port)
KEY=$$-$RANDOM  # flaky counters live in faultd: keys unique per run

# --- a server that never answers: a 1s timeout ends the run in under 3s
cat > "$T/hang.json" <<EOF
{ "name": "hang", "checks": [ { "name": "hang", "type": "http", "url": "$F/hang", "timeout": "1s" } ] }
EOF
run_suite "$T/hang.json" 3
assert_eq "hang alone: exit code" "$RC" 1
expect hang error '^timeout after 1s \(waiting for the response\)$'

# --- one run with every fault; all run concurrently, so the slowest (the
# retried timeouts, about 1.7s) bounds the whole run.
cat > "$T/faults.json" <<EOF
{ "name": "faults", "checks": [
  { "name": "hang", "type": "http", "url": "$F/hang", "timeout": "1s" },
  { "name": "slow", "type": "http", "url": "$F/delay?ms=5000", "timeout": "1s" },
  { "name": "slow-ok", "type": "http", "url": "$F/delay?ms=300", "timeout": "2s" },
  { "name": "slow-headers", "type": "http", "url": "$F/slow-headers?ms=5000", "timeout": "1s" },
  { "name": "trickle", "type": "http", "url": "$F/trickle?bytes=100&ms=50", "timeout": "1s" },
  { "name": "trickle-ok", "type": "http", "url": "$F/trickle?bytes=5&ms=20", "timeout": "2s",
    "expect": { "body_contains": "xxxxx" } },
  { "name": "reset", "type": "http", "url": "$F/reset" },
  { "name": "endless", "type": "http", "url": "$F/endless", "max_body": "64KiB", "timeout": "3s" },
  { "name": "endless-default", "type": "http", "url": "$F/endless", "timeout": "3s" },
  { "name": "endless-search", "type": "http", "url": "$F/endless", "max_body": "64KiB", "timeout": "3s",
    "expect": { "body_contains": "needle" } },
  { "name": "malformed", "type": "http", "url": "$F/malformed" },
  { "name": "redirect-loop", "type": "http", "url": "$F/redirect-loop" },
  { "name": "redirect", "type": "http", "url": "$F/redirect?to=/ok", "expect": { "body_contains": "ok" } },
  { "name": "flaky", "type": "http", "url": "$F/flaky?key=a$KEY&fail=2", "retries": 3, "interval": "100ms" },
  { "name": "flaky-gives-up", "type": "http", "url": "$F/flaky?key=b$KEY&fail=5", "retries": 2, "interval": "100ms" },
  { "name": "hang-retried", "type": "http", "url": "$F/hang", "timeout": "500ms", "retries": 2, "interval": "100ms" },
  { "name": "refused", "type": "http", "url": "http://127.0.0.1:$DEAD/" },
  { "name": "closed", "type": "http", "url": "$F/close" },
  { "name": "status-503", "type": "http", "url": "$F/status?code=503" },
  { "name": "json", "type": "http", "url": "$F/json", "expect": { "json": { "checks.db": true, "items.1.name": "b" } } }
] }
EOF
run_suite "$T/faults.json" 5
assert_eq "faults: exit code" "$RC" 1

expect hang error '^timeout after 1s \(waiting for the response\)$'
assert_eq "hang: reason_kind" "$(check_field hang .reason_kind)" timeout
expect slow error '^timeout after 1s \(waiting for the response\)$'
expect slow-headers error '^timeout after 1s \(reading the response headers\)$'
expect trickle error '^timeout after 1s \(reading the body, [0-9]+ bytes received\)$'
for n in hang slow slow-headers trickle; do
	assert_le "$n: deadline held" "$(check_field "$n" .duration_seconds)" 1.5
done
expect slow-ok pass '^status 200$'
assert_le "slow-ok: answered after the delay" 0.3 "$(check_field slow-ok .duration_seconds)"
expect trickle-ok pass '^status 200$'
expect reset error '^connection broken after status 200 and [0-9]+ body bytes'
assert_eq "reset: reason_kind" "$(check_field reset .reason_kind)" protocol
expect endless pass '^status 200, body truncated at max_body$'
assert_eq "endless: body_truncated" "$(check_field endless .facts.body_truncated)" true
expect endless-default pass '^status 200, body truncated at max_body$'
expect endless-search fail '^body does not contain "needle" \(read stopped at max_body\)$'
for n in endless endless-default endless-search; do
	assert_le "$n: stopped at once" "$(check_field "$n" .duration_seconds)" 2
done
expect malformed error '^malformed response'
assert_eq "malformed: reason_kind" "$(check_field malformed .reason_kind)" protocol
expect redirect-loop fail '^redirect loop: http://127\.0\.0\.1:[0-9]+/redirect-loop redirects to itself$'
expect redirect pass '^status 200$'
expect flaky pass '^status 200$'
assert_eq "flaky: attempts" "$(check_field flaky .attempts)" 3
assert_le "flaky: waited the intervals" 0.2 "$(check_field flaky .duration_seconds)"
expect flaky-gives-up fail '^status 503, expected 2xx$'
assert_eq "flaky-gives-up: attempts" "$(check_field flaky-gives-up .attempts)" 3
expect hang-retried error '^timeout after 500ms \(waiting for the response\)$'
assert_eq "hang-retried: attempts" "$(check_field hang-retried .attempts)" 3
assert_le "hang-retried: deadlines held" "$(check_field hang-retried .duration_seconds)" 2.5
expect refused error '^connection refused$'
assert_eq "refused: reason_kind" "$(check_field refused .reason_kind)" refused
expect closed error '^server closed the connection without answering$'
expect status-503 fail '^status 503, expected 2xx$'
expect json pass '^status 200$'
assert_eq "faults: counts" "$(jq -c .counts < "$T/out")" '{"pass":7,"fail":4,"error":9,"skipped":0}'

# --- stages: a critical failure in 'health' skips 'smoke'
cat > "$T/stages.json" <<EOF
{ "name": "stages", "checks": [
  { "name": "backend-health", "type": "http", "stage": "health", "url": "$F/status?code=503" },
  { "name": "cache-health", "type": "http", "stage": "health", "url": "$F/ok" },
  { "name": "optional-health", "type": "http", "stage": "health", "critical": false, "url": "$F/status?code=500" },
  { "name": "login", "type": "http", "stage": "smoke", "url": "$F/ok" },
  { "name": "search", "type": "http", "stage": "smoke", "url": "$F/ok" }
] }
EOF
run_suite "$T/stages.json" 3
assert_eq "stages: exit code" "$RC" 1
expect backend-health fail '^status 503, expected 2xx$'
expect cache-health pass '^status 200$'
expect login skipped "^skipped: stage 'health' failed \(backend-health\)$"
expect search skipped "^skipped: stage 'health' failed \(backend-health\)$"
assert_eq "login: attempts" "$(check_field login .attempts)" 0
assert_eq "login: reason_kind" "$(check_field login .reason_kind)" skipped

# a failing non-critical check does not skip later stages, nor fail the run
cat > "$T/stages-warn.json" <<EOF
{ "name": "stages-warn", "checks": [
  { "name": "optional-health", "type": "http", "stage": "health", "critical": false, "url": "$F/status?code=500" },
  { "name": "backend-health", "type": "http", "stage": "health", "url": "$F/ok" },
  { "name": "login", "type": "http", "stage": "smoke", "url": "$F/delay?ms=50" }
] }
EOF
run_suite "$T/stages-warn.json" 3
assert_eq "stages-warn: exit code" "$RC" 0
expect optional-health fail '^status 500, expected 2xx$'
expect login pass '^status 200$'
# smoke starts only once health is done (10ms for clock rounding)
assert_le "stages-warn: smoke after health" \
	"$(jq '([.checks[] | select(.stage == "health") | .started + .duration_seconds] | max)
		- (.checks[] | select(.name == "login") | .started)' < "$T/out")" 0.01

# the text report says why smoke was skipped
run_verdict run "$T/stages.json"
assert_clean_stderr "stages text"
assert_match "stages text: skip reason" "$(cat "$T/out")" "SKIP +login .*skipped: stage 'health' failed \(backend-health\)"

# --- bounded concurrency: 6 answers of 200ms, 2 at a time, take 3 rounds
cat > "$T/bounded.json" <<EOF
{ "name": "bounded", "checks": [
$(for i in 1 2 3 4 5 6; do
	[ "$i" -gt 1 ] && echo ','
	echo "{ \"name\": \"b$i\", \"type\": \"http\", \"url\": \"$F/delay?ms=200\" }"
done)
] }
EOF
run_suite "$T/bounded.json" 4 --concurrency 2
assert_eq "bounded: exit code" "$RC" 0
assert_le "bounded: 2 at a time (3 rounds of 200ms)" 0.6 "$(jq_out .duration_seconds)"

# --- many slow checks run concurrently: 200 answers of 300ms each take
# about 300ms together, not 60s (a generous bound, not a benchmark)
{
	echo '{ "name": "many", "checks": ['
	for i in $(seq 1 200); do
		[ "$i" -gt 1 ] && echo ','
		echo "{ \"name\": \"c$i\", \"type\": \"http\", \"url\": \"$F/delay?ms=300\" }"
	done
	echo '] }'
} > "$T/many.json"
run_suite "$T/many.json" 5
assert_eq "many: exit code" "$RC" 0
assert_eq "many: all passed" "$(jq .counts.pass < "$T/out")" 200

finish
