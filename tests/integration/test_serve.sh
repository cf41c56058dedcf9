# test_serve.sh - `verdict serve` against a real target (faultd): the
# /metrics values of passing, failing and hanging checks, and of a tls
# check on nginx with an expired certificate (its expiry reported although
# verification failed); promtool check
# metrics on the real page (quotes and backslashes in a check name);
# schedules (interval kept without drift, no overlapping runs, first runs
# spread); 404/405 with Allow, 413; the connection limit (the oldest idle
# connection makes room); basic auth;
# reload (a broken config
# is refused and the old one keeps serving; a good one is taken, counters
# carried over); SIGTERM with a /probe in flight exits 0 promptly; bad
# configs and a busy port at start.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

start_faultd
# nginx with an expired certificate, for the tls check
sh "$here/certs.sh" "$T/certs"
EP=$(free_port)
nginx_conf "$T/nginx" "server { listen 127.0.0.1:$EP ssl; ssl_certificate $T/certs/expired.pem;
	ssl_certificate_key $T/certs/expired.key; location / { return 200 ok; } }"
start_nginx "$T/nginx" "$EP"

# metric 'NAME{LABELS}': the value of one sample of the current page.
metric() {
	{ curl -sf "$V/metrics" || true; } |
		K=$1 awk '!done && index($0, ENVIRON["K"] " ") == 1 { print $NF; done = 1 }'
}

# wait_metric 'NAME{LABELS}' AWK-CONDITION SECONDS: until the sample's
# value v meets the condition (e.g. 'v >= 3'); prints the last value.
wait_metric() {
	local n=$(( $3 * 10 )) v
	while :; do
		v=$(metric "$1")
		if [ -n "$v" ] && awk -v v="$v" "BEGIN { exit !($2) }"; then break; fi
		n=$((n - 1))
		[ $n -le 0 ] && break
		sleep 0.1
	done
	echo "$v"
}

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

L() { echo "check=\"$1\",type=\"http\",stage=\"${2:-main}\""; }
FAILNAME='fail \"quoted\" \\back'   # as it appears in a label value

spread=""
for i in $(seq 1 20); do
	spread="$spread, { \"name\": \"spread-$i\", \"type\": \"http\", \"url\": \"$F/ok\", \"every\": \"2s\" }"
done
cat > "$T/serve.json" <<EOF
{ "name": "it",
  "serve": { "every": "200ms", "enable_lifecycle": true },
  "modules": {
    "hang": { "check": { "type": "http", "timeout": "10s" }, "allow": ["127.0.0.1"] }
  },
  "checks": [
    { "name": "ok", "type": "http", "url": "$F/ok" },
    { "name": "fail \"quoted\" \\\\back", "type": "http", "url": "$F/status?code=503", "stage": "smoke" },
    { "name": "hang", "type": "http", "url": "$F/hang", "timeout": "1s" },
    { "name": "warn", "type": "http", "url": "$F/status?code=500", "critical": false },
    { "name": "tls-expired", "type": "tls", "host": "127.0.0.1", "port": $EP, "every": "1s",
      "tls": { "ca_file": "$T/certs/ca.pem" } }
    $spread
  ] }
EOF

serve_start "$T/serve.json"
T_START=$(date +%s.%N)

# --- values after the first runs -----------------------------------------
wait_metric "verdict_check_runs_total{$(L ok),result=\"pass\"}" 'v >= 2' 5 > /dev/null
wait_metric "verdict_check_runs_total{$(L hang),result=\"error\"}" 'v >= 1' 5 > /dev/null
curl -sf "$V/metrics" > "$T/page1.txt"
assert_eq "ok: success" "$(metric "verdict_check_success{$(L ok)}")" 1
assert_eq "ok: status code" "$(metric "verdict_http_status_code{$(L ok)}")" 200
assert_eq "ok: reason" "$(metric "verdict_check_failure_reason{$(L ok),reason=\"none\"}")" 0
assert_eq "fail: success" "$(metric "verdict_check_success{$(L "$FAILNAME" smoke)}")" 0
assert_eq "fail: status code" "$(metric "verdict_http_status_code{$(L "$FAILNAME" smoke)}")" 503
assert_eq "fail: reason" "$(metric "verdict_check_failure_reason{$(L "$FAILNAME" smoke),reason=\"status\"}")" 1
assert_eq "hang: reason" "$(metric "verdict_check_failure_reason{$(L hang),reason=\"timeout\"}")" 1
TL='check="tls-expired",type="tls",stage="main"'
wait_metric "verdict_check_runs_total{$TL,result=\"fail\"}" 'v >= 1' 5 > /dev/null
assert_eq "tls expired: fails" "$(metric "verdict_check_success{$TL}")" 0
assert_eq "tls expired: reason" "$(metric "verdict_check_failure_reason{$TL,reason=\"tls\"}")" 1
assert_eq "tls expired: expiry reported although verification failed" \
	"$(metric "verdict_tls_cert_not_after_timestamp_seconds{$TL}")" 1580515200
assert_match "ok: phases" "$(cat "$T/page1.txt")" "verdict_check_phase_duration_seconds\{$(L ok),phase=\"connect\"\} [0-9.e-]+"
assert_match "ok: last run" "$(metric "verdict_check_last_run_timestamp_seconds{$(L ok)}")" '^1[0-9]{9}(\.[0-9]+)?$'
assert_eq "suite: a critical check fails" "$(metric 'verdict_suite_success{suite="it"}')" 0
assert_eq "config loaded" "$(metric verdict_config_last_reload_successful)" 1
assert_match "process metrics" "$(metric process_resident_memory_bytes)" '^[0-9]+$'
assert_match "build info" "$(cat "$T/page1.txt")" '^verdict_build_info\{version="[0-9.]+"\} 1$'

# promtool on the real page (escaped quotes and backslashes included)
if promtool check metrics < "$T/page1.txt" > "$T/promtool.out" 2>&1; then
	echo "ok: promtool check metrics"
else
	cat "$T/promtool.out" >&2
	fail "promtool check metrics"
fi

# --- the schedule ------------------------------------------------------------
# 200ms interval: 15 runs in 3 s, give or take (no drift, no burst)
a=$(metric "verdict_check_runs_total{$(L ok),result=\"pass\"}")
t0=$(date +%s.%N)
sleep 3
b=$(metric "verdict_check_runs_total{$(L ok),result=\"pass\"}")
t1=$(date +%s.%N)
want=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) / 0.2 }')
runs=$((b - a))
assert_le "interval: runs in the window ($runs, want ~$want) not fewer" "$((want - 3))" "$runs"
assert_le "interval: runs in the window ($runs, want ~$want) not more" "$runs" "$((want + 3))"
# a 1s timeout at a 200ms interval: never two at once, so at most one run
# per second, and the skipped due times are counted
h=$(metric "verdict_check_runs_total{$(L hang),result=\"error\"}")
# each run lasts its 1s timeout: never more runs than seconds since start
# (+1); overlapping runs would make five a second
up=$(awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", b - a + 1 }')
assert_le "hang: no overlapping runs ($h runs in ${up}s, one per second at most)" "$h" "$up"
assert_le "hang: skipped due times counted" 3 "$(metric verdict_scheduler_missed_runs_total)"
# first runs spread over the interval, not all at once
curl -sf "$V/metrics" | awk '/^verdict_check_last_run_timestamp_seconds\{check="spread-/ { print $2 }' > "$T/spread.txt"
assert_eq "spread: every check ran" "$(wc -l < "$T/spread.txt")" 20
assert_le "spread: first runs spread over the 2s interval" 0.5 "$(sort -n "$T/spread.txt" | awk 'NR == 1 { a = $1 } END { printf "%.3f", $1 - a }')"
# the lag itself is measured by make bench (serve_bench.sh), not asserted
assert_le "scheduler lag: p99 exported, not negative" 0 "$(metric 'verdict_scheduler_lag_seconds{quantile="0.99"}')"
assert_le "scheduler lag: runs observed" 1 "$(metric verdict_scheduler_lag_seconds_count)"

# --- HTTP behaviour ------------------------------------------------------------
assert_eq "healthz" "$(curl -s "$V/healthz")" ok
assert_eq "POST /metrics: 405" "$(code -X POST "$V/metrics")" 405
assert_match "POST /metrics: Allow" "$(curl -s -D - -o /dev/null -X POST "$V/metrics" | tr -d '\r')" '^Allow: GET, HEAD$'
assert_match "GET /-/reload: Allow" "$(curl -s -D - -o /dev/null "$V/-/reload" | tr -d '\r')" '^Allow: POST, PUT$'
assert_eq "unknown path: 404" "$(code "$V/nope")" 404
assert_eq "HEAD /metrics" "$(code -I "$V/metrics")" 200
assert_match "content type" "$(curl -s -D - -o /dev/null "$V/metrics" | tr -d '\r')" '^Content-Type: text/plain; version=0.0.4; charset=utf-8$'
head -c 100000 /dev/zero | tr '\0' x > "$T/big.txt"
assert_eq "request body over the limit: 413" "$(code -X POST --data-binary @"$T/big.txt" "$V/-/reload")" 413

# --- reload --------------------------------------------------------------------
cp "$T/serve.json" "$T/good.json"
before=$(metric "verdict_check_runs_total{$(L ok),result=\"pass\"}")
echo '{ "checks": [ { "name": "x", "type": "http", "url": "not a url" } ] }' > "$T/serve.json"
kill -HUP "$VPID"
v=$(wait_metric verdict_config_last_reload_successful 'v == 0' 5)
assert_eq "SIGHUP, broken config: reload_successful" "$v" 0
assert_match "SIGHUP, broken config: logged" "$(cat "$T/serve.err")" 'reload refused.*serve\.json: checks\[0\]\.url'
assert_eq "broken config: old checks still served" "$(metric "verdict_check_success{$(L ok)}")" 1
assert_eq "POST /-/reload, broken config: 500" "$(code -X POST "$V/-/reload")" 500
jq --arg u "$F/ok" '.checks += [{ "name": "new", "type": "http", "url": $u }]' "$T/good.json" > "$T/serve.json"
assert_eq "POST /-/reload, good config: 200" "$(code -X POST "$V/-/reload")" 200
assert_eq "good config: reload_successful" "$(metric verdict_config_last_reload_successful)" 1
v=$(wait_metric "verdict_check_success{$(L new)}" 'v == 1' 5)
assert_eq "good config: the new check runs" "$v" 1
assert_le "reload: counters carried over" "$before" "$(metric "verdict_check_runs_total{$(L ok),result=\"pass\"}")"

# --- SIGTERM with a /probe in flight (its check hangs for 10s) -----------------
curl -s -o "$T/probe.out" -w '%{http_code}' "$V/probe?module=hang&target=$F/hang" > "$T/probe.code" &
CPID=$!
sleep 0.5
serve_stop
wait "$CPID" || true
assert_eq "/probe in flight at SIGTERM: answered 503" "$(cat "$T/probe.code")" 503

# --- basic auth ----------------------------------------------------------------
HASH=$(openssl passwd -6 's3cret-Pass')
cat > "$T/auth.json" <<EOF
{ "serve": { "basic_auth": { "users": { "prom": "${HASH//\$/\$\$}" } } },
  "checks": [ { "name": "ok", "type": "http", "url": "$F/ok", "every": "1s" } ] }
EOF
serve_start "$T/auth.json"
assert_eq "auth: none: 401" "$(code "$V/metrics")" 401
assert_match "auth: challenge" "$(curl -s -D - -o /dev/null "$V/metrics" | tr -d '\r')" '^WWW-Authenticate: Basic realm="verdict"'
assert_eq "auth: wrong password: 401" "$(code -u prom:wrong "$V/metrics")" 401
assert_eq "auth: unknown user: 401" "$(code -u nobody:s3cret-Pass "$V/metrics")" 401
assert_eq "auth: right password: 200" "$(code -u prom:s3cret-Pass "$V/metrics")" 200
assert_eq "auth: right password again: 200" "$(code -u prom:s3cret-Pass "$V/metrics")" 200
assert_eq "auth: /healthz is open" "$(code "$V/healthz")" 200
assert_eq "auth: /-/reload needs it" "$(code -X POST "$V/-/reload")" 401
serve_stop
assert_no_match "auth: the hash is never logged" "$(cat "$T/serve.err")" '\$6\$'

# --- the connection limit: the oldest idle connection makes room -------------
cat > "$T/limit.json" <<EOF
{ "serve": { "max_connections": 2 },
  "checks": [ { "name": "ok", "type": "http", "url": "$F/ok", "every": "1s" } ] }
EOF
serve_start "$T/limit.json"
exec 7<>"/dev/tcp/127.0.0.1/$VP"
sleep 0.1
exec 8<>"/dev/tcp/127.0.0.1/$VP"
sleep 0.1
assert_eq "limit: a third connection is served at once" \
	"$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$V/healthz" 7>&- 8>&-)" 200
rc=0
read -r -t 5 -u 7 line || rc=$?
assert_eq "limit: the oldest idle connection was closed for it (EOF, not a timeout)" "$rc" 1
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&8
assert_match "limit: the younger one still answers" "$(timeout 5 cat <&8 | tr -d '\r')" '^ok$'
exec 7>&- 8>&-
assert_match "limit: evictions counted" "$(curl -s "$V/metrics" | grep '^verdict_serve_connections_evicted_total ')" ' [1-9][0-9]*$'
serve_stop

# --- start-up failures -----------------------------------------------------------
echo '{ "serve": { "listen": 5 }, "checks": [] }' > "$T/bad.json"
run_verdict serve "$T/bad.json"
assert_eq "bad config: exit 2" "$RC" 2
assert_match "bad config: names the place" "$(cat "$T/err")" 'bad\.json: serve\.listen'
run_verdict serve --check-config "$T/good.json"
assert_eq "--check-config on a good file: exit 0" "$RC" 0
run_verdict serve --listen "127.0.0.1:$FP" "$T/good.json"
assert_eq "port in use: exit 1" "$RC" 1
assert_match "port in use: says so" "$(cat "$T/err")" 'cannot listen on 127\.0\.0\.1:[0-9]+: Address already in use'
run_verdict serve
assert_eq "no config: exit 2" "$RC" 2

finish
