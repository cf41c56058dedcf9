# test_prometheus.sh - a real Prometheus, started from examples/prometheus.yml
# (addresses and intervals adjusted), scrapes `verdict serve` (every check
# seen, the values of a passing and a failing check) and probes targets
# through verdict's /probe with the blackbox relabelling; the example
# alerting rules load and go pending on the failing check; every query of
# the example Grafana dashboard is valid PromQL on the real data. Also:
# promtool check config / check rules on the examples as shipped.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
EX=$(cd "$here/../../examples" && pwd)

# --- the examples as shipped ---------------------------------------------------
mkdir -p "$T/ex"
cp "$EX/prometheus.yml" "$EX/alerts.yml" "$T/ex/"
if promtool check config "$T/ex/prometheus.yml" > "$T/ex/out" 2>&1; then
	echo "ok: promtool check config examples/prometheus.yml"
else
	cat "$T/ex/out" >&2
	fail "promtool check config examples/prometheus.yml"
fi
if promtool check rules "$EX/alerts.yml" > "$T/ex/out" 2>&1; then
	echo "ok: promtool check rules examples/alerts.yml"
else
	cat "$T/ex/out" >&2
	fail "promtool check rules examples/alerts.yml"
fi
assert_eq "grafana dashboard is JSON with panels" "$(jq '[.panels[] | select(.type != "row")] | length > 5' "$EX/grafana-dashboard.json")" true

# --- targets and verdict -------------------------------------------------------
start_faultd

cat > "$T/serve.json" <<EOF
{ "name": "staging",
  "serve": { "every": "500ms" },
  "modules": { "http_2xx": { "check": { "type": "http" }, "allow": ["127.0.0.1"] } },
  "checks": [
    { "name": "ok", "type": "http", "url": "$F/ok" },
    { "name": "fail", "type": "http", "url": "$F/status?code=503" },
    { "name": "tls", "type": "http", "url": "$F/ok", "stage": "smoke" }
  ] }
EOF
serve_start "$T/serve.json"

# --- Prometheus from the example config -------------------------------------------
PP=$(free_port)
mkdir -p "$T/prom"
cp "$EX/alerts.yml" "$T/prom/"
sed -e 's/scrape_interval: 15s/scrape_interval: 1s/' \
    -e 's/scrape_timeout: 10s/scrape_timeout: 1s/' \
    -e 's/evaluation_interval: 15s/evaluation_interval: 1s/' \
    -e "s#127.0.0.1:9799#127.0.0.1:$VP#" \
    -e "s#https://staging.example.com/api/system/health/#$F/ok#" \
    -e "s#https://staging.example.com/#$F/status?code=503#" \
    "$EX/prometheus.yml" > "$T/prom/prometheus.yml"
assert_match "test config points at verdict" "$(cat "$T/prom/prometheus.yml")" "127.0.0.1:$VP"
prometheus --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/prom/data" \
	--web.listen-address="127.0.0.1:$PP" --log.level=warn > "$T/prom/log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$PP" 30
P=http://127.0.0.1:$PP
n=100
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$P/-/ready")" = 200 ] || [ $n -le 0 ]; do
	sleep 0.2
	n=$((n - 1))
done

# q PROMQL: the first value of an instant query, polled until there is one
# (at most 20 s).
q() {
	local n=100 v
	while :; do
		v=$(curl -s --data-urlencode "query=$1" "$P/api/v1/query" |
			jq -r '.data.result[0].value[1] // empty' 2> /dev/null || true)
		if [ -n "$v" ] || [ $n -le 0 ]; then break; fi
		sleep 0.2
		n=$((n - 1))
	done
	echo "$v"
}

# q_until WANT PROMQL: like q, but polls until the value is WANT (at most
# 20 s): for counts that grow as targets are scraped one by one.
q_until() {
	local n=100 v
	while :; do
		v=$(curl -s --data-urlencode "query=$2" "$P/api/v1/query" |
			jq -r '.data.result[0].value[1] // empty' 2> /dev/null || true)
		if [ "$v" = "$1" ] || [ $n -le 0 ]; then break; fi
		sleep 0.2
		n=$((n - 1))
	done
	echo "$v"
}

assert_eq "prometheus: verdict is up" "$(q 'up{job="verdict"}')" 1
assert_eq "prometheus: every check seen" "$(q_until 3 'count(verdict_check_success{job="verdict"})')" 3
assert_eq "prometheus: passing check" "$(q 'verdict_check_success{job="verdict",check="ok"}')" 1
assert_eq "prometheus: failing check" "$(q 'verdict_check_success{job="verdict",check="fail"}')" 0
assert_eq "prometheus: failing check's status" "$(q 'verdict_http_status_code{check="fail"}')" 503
assert_eq "prometheus: failing check's reason" "$(q 'verdict_check_failure_reason{check="fail",reason="status"}')" 1
assert_eq "prometheus: stage label" "$(q 'verdict_check_success{check="tls",stage="smoke",type="http"}')" 1
assert_eq "prometheus: suite" "$(q 'verdict_suite_success{suite="staging"}')" 0
assert_eq "prometheus: runs counted" "$(q 'verdict_check_runs_total{check="fail",result="fail"} > bool 0')" 1
assert_eq "prometheus: build info" "$(q 'count(verdict_build_info)')" 1

# the blackbox-style job through /probe
assert_eq "prometheus: probe up" "$(q_until 2 'count(up{job="verdict-probe"} == 1)')" 2
assert_eq "prometheus: probe ok" "$(q "probe_success{instance=\"$F/ok\"}")" 1
assert_eq "prometheus: probe ok status" "$(q "probe_http_status_code{instance=\"$F/ok\"}")" 200
assert_eq "prometheus: probe 503" "$(q "probe_success{instance=\"$F/status?code=503\"}")" 0
assert_eq "prometheus: probe 503 status" "$(q "probe_http_status_code{instance=\"$F/status?code=503\"}")" 503
assert_eq "prometheus: probe phases" "$(q_until 5 "count(probe_http_duration_seconds{instance=\"$F/ok\"})")" 5

# the example rules: loaded, and pending on what fails
n=100
until curl -s "$P/api/v1/alerts" |
	jq -e '[.data.alerts[].labels.alertname] | index("VerdictCheckFailing") and index("ProbeFailing")' > /dev/null 2>&1 ||
	[ $n -le 0 ]; do
	sleep 0.2
	n=$((n - 1))
done
curl -s "$P/api/v1/alerts" > "$T/alerts.json"
assert_eq "rules: three groups loaded" "$(curl -s "$P/api/v1/rules" | jq '.data.groups | length')" 3
assert_eq "rules: VerdictCheckFailing pending for the failing check only" \
	"$(jq -r '[.data.alerts[] | select(.labels.alertname == "VerdictCheckFailing") | .labels.check + ":" + .state] | sort | join(",")' "$T/alerts.json")" "fail:pending"
assert_eq "rules: ProbeFailing pending for the 503 target" \
	"$(jq -r '[.data.alerts[] | select(.labels.alertname == "ProbeFailing") | .labels.instance] | join(",")' "$T/alerts.json")" "$F/status?code=503"

# every query of the dashboard parses and runs on the real data
jq -r '.panels[].targets[]?.expr' "$EX/grafana-dashboard.json" |
	sed -e 's/\$probe_job/.*/g' -e 's/\$job/.*/g' -e 's/\$check/.*/g' > "$T/dash.txt"
bad=0
while IFS= read -r e; do
	st=$(curl -s --data-urlencode "query=$e" "$P/api/v1/query" | jq -r .status)
	if [ "$st" != success ]; then
		echo "dashboard query failed: $e" >&2
		bad=$((bad + 1))
	fi
done < "$T/dash.txt"
assert_eq "dashboard: every query runs ($(wc -l < "$T/dash.txt") queries)" "$bad" 0
assert_eq "dashboard: failing checks panel" "$(q 'count(verdict_check_success{job=~".*",check=~".*"} == 0) or vector(0)')" 1

# --- stop -------------------------------------------------------------------------
serve_stop

finish
