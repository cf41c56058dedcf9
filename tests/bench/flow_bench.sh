#!/bin/bash
# flow_bench.sh - what a flow costs (issue 12; run by tests/bench/run.sh):
# N flows of 3 steps (a JSON capture and a {{name}} in the next URL, the
# cookie jar on) next to 3N http checks of the same URLs, against a local
# nginx, a new connection each. Prints the CPU per flow and per 3 http
# checks; asserts nothing about speed.
# Environment: VERDICT, TOOLS (required); BENCH_FLOWS (300),
# BENCH_REPEAT (3: runs per figure, taken in turn, median CPU kept).
. "$(dirname "$0")/bench_lib.sh"

: "${VERDICT:?set VERDICT to the verdict binary}"
N=${BENCH_FLOWS:-300}
REPEAT=${BENCH_REPEAT:-3}

mkdir -p "$T/www/api" "$T/nginx"
printf '{"status":"ok","token":"bench-token-1234"}\n' > "$T/www/api/login.json"
printf '{"user":"smoke","roles":["tester"]}\n' > "$T/www/api/profile.json"
printf '{"items":[{"id":1},{"id":2}]}\n' > "$T/www/api/items.json"
port=$(free_port)
nginx_conf "$T/nginx" "server { listen 127.0.0.1:$port; keepalive_timeout 0; root $T/www; }"
start_nginx "$T/nginx" "$port"
B=http://127.0.0.1:$port/api

{
	printf '{ "name": "flows", "defaults": { "timeout": "60s" }, "checks": [\n'
	sep=""
	for ((i = 1; i <= N; i++)); do
		printf '%s{ "name": "f%d", "type": "flow", "steps": [
  { "name": "login", "url": "%s/login.json", "capture": { "token": { "json": "token" } } },
  { "name": "profile", "url": "%s/profile.json?t={{token}}",
    "expect": { "json": { "roles": { "contains": "tester" } } } },
  { "name": "items", "url": "%s/items.json", "expect": { "json": { "items": { "length": 2 } } } } ] }\n' \
			"$sep" "$i" "$B" "$B" "$B"
		sep=","
	done
	printf '] }\n'
} > "$T/flows.json"
{
	printf '{ "name": "http", "defaults": { "timeout": "60s" }, "checks": [\n'
	sep=""
	for ((i = 1; i <= N; i++)); do
		printf '%s{ "name": "l%d", "type": "http", "url": "%s/login.json", "expect": { "json": { "token": { "exists": true } } } },
{ "name": "p%d", "type": "http", "url": "%s/profile.json?t=bench-token-1234", "expect": { "json": { "roles": { "contains": "tester" } } } },
{ "name": "i%d", "type": "http", "url": "%s/items.json", "expect": { "json": { "items": { "length": 2 } } } }\n' \
			"$sep" "$i" "$B" "$i" "$B" "$i" "$B"
		sep=","
	done
	printf '] }\n'
} > "$T/http.json"

echo "== $N flows of 3 steps vs $((3 * N)) http checks, nginx on loopback"
measure_alt "$REPEAT" "$VERDICT" run -c 300 --format json "$T/flows.json" -- \
	"$VERDICT" run -c 300 --format json "$T/http.json"
[ "$A_RC" = 0 ] || echo "flow_bench: the flows exited $A_RC" >&2
[ "$B_RC" = 0 ] || echo "flow_bench: the http checks exited $B_RC" >&2
bench_row "3-step flow" "verdict: $N flows of 3 steps" "$N" "$A_WALL" "$A_CPU" "$A_RSS" \
	"CPU per flow; $(calc "$A_CPU / $B_CPU" 2)x 3 http checks"
bench_row "3-step flow" "verdict: $((3 * N)) http checks, per 3" "$N" "$B_WALL" "$B_CPU" "$B_RSS" \
	"CPU per 3 http checks"
