#!/bin/bash
# soak_bench.sh - the mixed soak of issue 9, run by tests/bench/run.sh,
# never by `make check`: one `verdict serve` with SOAK_CHECKS (10,000)
# checks of every type in turn (http, https, tls with a ca_file, tls on
# the system store, tcp, security_headers, cors, postgres, redis, exec,
# env_file, json_file) every SOAK_EVERY (30s) against nginx (plain and
# TLS), PostgreSQL 15 and Redis 7 started here, and one /probe of each
# module kind (http, https, tls with a ca_file and on the system store,
# tcp, security_headers, cors) every second, for SOAK_SECONDS (600) after
# every check has run once. Prints RSS at the start, every SOAK_SAMPLE
# (60) seconds and at the end, descriptors at the start and the end, runs
# and their results, the scheduler's lag (start minus due, p50/p99 of the
# latest runs, from verdict_scheduler_lag_seconds) and missed due times,
# and the /metrics scrape time, plain and with gzip asked for
# (Accept-Encoding: gzip). Asserts nothing about speed; says when checks
# failed (the figures are then suspect).
. "$(dirname "$0")/bench_lib.sh"

: "${VERDICT:?set VERDICT to the verdict binary}"
N=${SOAK_CHECKS:-10000}
EVERY=${SOAK_EVERY:-30s}
SECONDS_=${SOAK_SECONDS:-600}
SAMPLE=${SOAK_SAMPLE:-60}
ulimit -n 65536 2> /dev/null || true
KINDS="http https tls-ca tls-system tcp headers cors postgres redis exec env_file json_file"
NK=12

# --- servers -----------------------------------------------------------------------
C=$T/certs
sh "$(dirname "$0")/../integration/certs.sh" "$C"
HP=$(free_port)
SP=$(free_port)
while [ "$SP" = "$HP" ]; do SP=$(free_port); done
LOC="
	location /ok/ { return 200 \"ok\n\"; }
	location /headers/ {
		add_header Strict-Transport-Security \"max-age=31536000\" always;
		add_header X-Content-Type-Options nosniff always;
		add_header X-Frame-Options DENY always;
		add_header Content-Security-Policy \"default-src 'self'\" always;
		add_header Referrer-Policy no-referrer always;
		return 200 ok; }
	location /api/ {
		if (\$request_method = OPTIONS) {
			add_header Access-Control-Allow-Origin https://app.example.com always;
			add_header Access-Control-Allow-Methods \"GET, PUT\" always;
			return 204;
		}
		return 200 ok; }"
nginx_conf "$T/nginx" "
	server_tokens off;
	server { listen 127.0.0.1:$HP backlog=4096; $LOC }
	server { listen 127.0.0.1:$SP ssl backlog=4096; ssl_certificate $C/good.pem;
		ssl_certificate_key $C/good.key; $LOC }"
start_nginx "$T/nginx" "$HP" "$SP"
start_postgres soak -c max_connections=300
start_redis soak
export DATABASE_URL="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
export REDIS_PASSWORD
mkdir -p "$T/files"
printf 'SECRET_KEY=k\nDATABASE_URL=postgres://db/app\n' > "$T/files/app.env"
printf '{ "environment": "staging", "images": { "api": "api:1" } }\n' > "$T/files/manifest.json"

# --- the config: N checks, kinds in turn ---------------------------------------------
H=http://127.0.0.1:$HP
S=https://127.0.0.1:$SP
CA="\"tls\": { \"ca_file\": \"$C/ca.pem\" }"
CORS='"origin": "https://app.example.com", "method": "PUT"'
# check KIND I: one check of KIND named KIND-I
check() {
	local n="\"name\": \"$1-$2\""
	case $1 in
	http) printf '{ %s, "type": "http", "url": "%s/ok/%d" }' "$n" "$H" "$2" ;;
	https) printf '{ %s, "type": "http", "url": "%s/ok/%d", %s }' "$n" "$S" "$2" "$CA" ;;
	tls-ca) printf '{ %s, "type": "tls", "host": "127.0.0.1", "port": %d, %s }' "$n" "$SP" "$CA" ;;
	tls-system) printf '{ %s, "type": "tls", "host": "127.0.0.1", "port": %d, "tls": { "verify": false } }' "$n" "$SP" ;;
	tcp) printf '{ %s, "type": "tcp", "host": "127.0.0.1", "port": %d }' "$n" "$HP" ;;
	headers) printf '{ %s, "type": "security_headers", "url": "%s/headers/%d" }' "$n" "$H" "$2" ;;
	cors) printf '{ %s, "type": "cors", "url": "%s/api/%d", %s }' "$n" "$H" "$2" "$CORS" ;;
	postgres) printf '{ %s, "type": "postgres", "dsn": "${DATABASE_URL}" }' "$n" ;;
	redis) printf '{ %s, "type": "redis", "host": "127.0.0.1", "port": %d, "password_env": "REDIS_PASSWORD" }' "$n" "$REDIS_PORT" ;;
	exec) printf '{ %s, "type": "exec", "argv": ["true"] }' "$n" ;;
	env_file) printf '{ %s, "type": "env_file", "path": "%s/files/app.env", "require": ["SECRET_KEY"] }' "$n" "$T" ;;
	json_file) printf '{ %s, "type": "json_file", "path": "%s/files/manifest.json", "require": ["images.api"] }' "$n" "$T" ;;
	esac
}
ALLOW='"allow": ["127.0.0.1"]'
{
	printf '{ "name": "soak",\n'
	printf '  "serve": { "every": "%s", "max_connections": 2048 },\n' "$EVERY"
	printf '  "defaults": { "timeout": "10s" },\n'
	printf '  "modules": {\n'
	printf '    "http": { "check": { "type": "http" }, %s },\n' "$ALLOW"
	printf '    "https": { "check": { "type": "http", %s }, %s },\n' "$CA" "$ALLOW"
	printf '    "tls-ca": { "check": { "type": "tls", %s }, %s },\n' "$CA" "$ALLOW"
	printf '    "tls-system": { "check": { "type": "tls", "tls": { "verify": false } }, %s },\n' "$ALLOW"
	printf '    "tcp": { "check": { "type": "tcp" }, %s },\n' "$ALLOW"
	printf '    "headers": { "check": { "type": "security_headers" }, %s },\n' "$ALLOW"
	printf '    "cors": { "check": { "type": "cors", %s }, %s } },\n' "$CORS" "$ALLOW"
	printf '  "checks": [\n'
	set -- $KINDS
	kinds=("$@")
	sep=""
	for ((i = 0; i < N; i++)); do
		printf '%s' "$sep"
		check "${kinds[i % NK]}" "$i"
		printf '\n'
		sep=,
	done
	printf '] }\n'
} > "$T/serve.json"
PROBES="http $H/ok/p
https $S/ok/p
tls-ca 127.0.0.1:$SP
tls-system 127.0.0.1:$SP
tcp 127.0.0.1:$HP
headers $H/headers/p
cors $H/api/p"
VP=$(free_port)
V=http://127.0.0.1:$VP
probe_args=()
while read -r m t; do
	probe_args+=(-s -G --data-urlencode "module=$m" --data-urlencode "target=$t" -o /dev/null
		-w '%{http_code}\n' "$V/probe" --next)
done <<< "$PROBES"
unset 'probe_args[${#probe_args[@]}-1]'

"$VERDICT" serve --listen "127.0.0.1:$VP" "$T/serve.json" > "$T/serve.out" 2> "$T/serve.err" &
VPID=$!
PIDS="$PIDS $VPID"
wait_port "$VP" 60

page() { curl -s "$V/metrics" > "$T/page.txt" || true; }
val() { K=$1 awk '!d && index($0, ENVIRON["K"] " ") == 1 { print $NF; d = 1 }' "$T/page.txt"; }
# runs_by RESULT: runs of every check with that result on the current page
runs_by() { awk -v r="result=\"$1\"" '/^verdict_check_runs_total\{/ && index($0, r) { s += $NF } END { printf "%d\n", s }' "$T/page.txt"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$VPID/status"; }
nfds() { find "/proc/$VPID/fd" -mindepth 1 2> /dev/null | wc -l; }
mb() { calc "$1 / 1024" 1; }

echo "== $N checks ($(echo $KINDS | wc -w) kinds in turn) every $EVERY: waiting for every check's first run"
t_start=$EPOCHREALTIME
while :; do
	page
	c=$(val verdict_scheduler_lag_seconds_count)
	[ -n "$c" ] && [ "$c" -ge "$N" ] && break
	if ! kill -0 "$VPID" 2> /dev/null; then
		bench_note "soak_bench: verdict serve exited: $(tail -n 3 "$T/serve.err" | tr '\n' ' ')"
		exit 1
	fi
	sleep 1
done
echo "   all ran once after $(calc "$EPOCHREALTIME - $t_start" 1) s"

# --- the soak ------------------------------------------------------------------------------
rss0=$(rss_kb)
fd0=$(nfds)
c0=$(proc_cpu_ticks "$VPID")
n0=$(val verdict_scheduler_lag_seconds_count)
m0=$(val verdict_scheduler_missed_runs_total)
p0=$(runs_by pass)
f0=$(($(runs_by fail) + $(runs_by error)))
t0=$EPOCHREALTIME
samples="$(mb "$rss0")"
lagmax=0
probes=0
probe_bad=0
next=$SAMPLE
echo "== soak for ${SECONDS_}s: RSS every ${SAMPLE}s, one /probe of each module every second"
while :; do
	el=$(calc "$EPOCHREALTIME - $t0" 0)
	[ "$el" -ge "$SECONDS_" ] && break
	codes=$(curl "${probe_args[@]}" 2> /dev/null || true)
	probes=$((probes + 7))
	probe_bad=$((probe_bad + $(printf '%s\n' "$codes" | grep -vc '^200$' || true)))
	if [ "$el" -ge "$next" ]; then
		page
		l=$(val 'verdict_scheduler_lag_seconds{quantile="0.99"}')
		lagmax=$(awk -v a="$lagmax" -v b="${l:-0}" 'BEGIN { print (b > a ? b : a) }')
		samples="$samples $(mb "$(rss_kb)")"
		echo "   ${el}s: RSS $(mb "$(rss_kb)") MB, $(nfds) descriptors, lag p99 $(calc "${l:-0} * 1000" 1) ms"
		next=$((next + SAMPLE))
	fi
	sleep 1
done
wall=$(calc "$EPOCHREALTIME - $t0" 1)
page
rss1=$(rss_kb)
fd1=$(nfds)
c1=$(proc_cpu_ticks "$VPID")
n1=$(val verdict_scheduler_lag_seconds_count)
m1=$(val verdict_scheduler_missed_runs_total)
p1=$(runs_by pass)
f1=$(($(runs_by fail) + $(runs_by error)))
lag50=$(val 'verdict_scheduler_lag_seconds{quantile="0.5"}')
lag99=$(val 'verdict_scheduler_lag_seconds{quantile="0.99"}')
lagmax=$(awk -v a="$lagmax" -v b="${lag99:-0}" 'BEGIN { print (b > a ? b : a) }')
samples="$samples $(mb "$rss1")"
runs=$((n1 - n0))
cpu=$(calc "($c1 - $c0) / $CLK_TCK" 2)
bench_row "soak: $N mixed checks @$EVERY" "serve, ${SECONDS_}s after the first runs" "$runs" "$wall" "$cpu" "$rss1" \
	"RSS $(mb "$rss0") -> $(mb "$rss1") MB; descriptors $fd0 -> $fd1"
bench_note "soak: RSS (MB) at the start, every ${SAMPLE}s and at the end: $samples"
bench_note "soak: $runs runs ($((p1 - p0)) passed, $((f1 - f0)) failed or errors), $probes probes ($probe_bad not 200); CPU $(calc "$cpu * 100 / $wall" 1)% of a core; RSS per run $(calc "($rss1 - $rss0) / ($runs > 0 ? $runs : 1)" 3) KiB"
bench_note "soak: schedule lag p50 $(calc "${lag50:-0} * 1000" 1) ms, p99 $(calc "${lag99:-0} * 1000" 1) ms (of the latest runs; the largest p99 sampled $(calc "$lagmax * 1000" 1) ms); missed due times $((m1 - m0))"
[ $((f1 - f0)) -eq 0 ] && [ "$probe_bad" -eq 0 ] ||
	bench_note "soak_bench: some checks or probes failed: $(grep -o 'verdict_check_failure_reason{[^}]*reason="[a-z_]*"} 1' "$T/page.txt" | sed 's/.*reason="\([a-z_]*\)".*/\1/' | sort | uniq -c | tr -s ' \n' ' ')"

# --- /metrics of N checks: plain and gzip ----------------------------------------------
: > "$T/plain.txt"
: > "$T/gzip.txt"
for ((i = 0; i < 10; i++)); do
	curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$V/metrics" >> "$T/plain.txt"
	curl -s -o /dev/null -H 'Accept-Encoding: gzip' -w '%{time_total} %{size_download}\n' "$V/metrics" >> "$T/gzip.txt"
done
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print 0 }'; }
enc=$(curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip' "$V/metrics" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-encoding" { print $2 }')
bench_note "soak: /metrics of $N checks, median of 10 scrapes: plain $(calc "$(awk '{ print $1 }' "$T/plain.txt" | median) * 1000" 1) ms, $(calc "$(awk '{ s = $2 } END { print s }' "$T/plain.txt") / 1048576" 2) MiB; gzip asked: $(calc "$(awk '{ print $1 }' "$T/gzip.txt" | median) * 1000" 1) ms, $(calc "$(awk '{ s = $2 } END { print s }' "$T/gzip.txt") / 1048576" 2) MiB (Content-Encoding: ${enc:-none})"

t0=$EPOCHREALTIME
kill -TERM "$VPID"
rc=0
wait "$VPID" || rc=$?
bench_note "soak: SIGTERM with $N checks scheduled: exit $rc after $(calc "($EPOCHREALTIME - $t0) * 1000" 0) ms"
exit 0
