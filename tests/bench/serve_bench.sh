#!/bin/bash
# serve_bench.sh - the figures of issue 4 (`verdict serve`), run by
# tests/bench/run.sh, never by `make check`:
#  1. 10,000 http checks at a 15 s interval against a local nginx: steady
#     CPU and RSS, schedule lag (start minus due: p50/p99 from
#     verdict_scheduler_lag_seconds), missed runs.
#  2. /metrics of those 10,000 checks: render time (verdict's own
#     verdict_metrics_render_seconds), page size, scrape time with curl
#     (plain and gzip),
#     next to nginx serving the same bytes as a static file.
#  3. 200 concurrent scrapers for 10 s (wrk): scrapes/s, p50/p99 latency,
#     errors, and the schedule lag while it lasts.
#  4. /probe under load (wrk, 50 connections, 10 s) on verdict and on
#     prometheus-blackbox-exporter, the same nginx target.
# Environment: VERDICT, TOOLS (required); SERVE_CHECKS (10000),
# SERVE_EVERY (15s), SERVE_WINDOW (30: seconds of steady state measured),
# SERVE_SCRAPERS (200), SERVE_SCRAPE_SECONDS (10). Prints figures; asserts
# nothing about speed.
. "$(dirname "$0")/bench_lib.sh"

: "${VERDICT:?set VERDICT to the verdict binary}"
N=${SERVE_CHECKS:-10000}
EVERY=${SERVE_EVERY:-15s}
WINDOW=${SERVE_WINDOW:-30}
SCRAPERS=${SERVE_SCRAPERS:-200}
SCRAPE_SECONDS=${SERVE_SCRAPE_SECONDS:-10}
ulimit -n 65536 2>/dev/null || true

# --- targets ---------------------------------------------------------------------
NP=$(free_port)
mkdir -p "$T/www"
nginx_conf "$T/nginx" "
server { listen 127.0.0.1:$NP backlog=4096; keepalive_requests 100000;
	location /c/ { return 200 \"ok\n\"; }
	location /www/ { alias $T/www/; } }
"
start_nginx "$T/nginx" "$NP"

# --- verdict with N checks ---------------------------------------------------------
{
	printf '{ "name": "bench",\n'
	printf '  "serve": { "every": "%s", "max_connections": 2048 },\n' "$EVERY"
	printf '  "defaults": { "timeout": "5s" },\n'
	printf '  "modules": { "http_2xx": { "check": { "type": "http" }, "allow": ["127.0.0.1"] } },\n'
	printf '  "checks": [\n'
	for ((i = 1; i <= N; i++)); do
		printf '%s{ "name": "check-%05d", "type": "http", "url": "http://127.0.0.1:%d/c/%d" }\n' \
			"$([ $i -gt 1 ] && echo ,)" "$i" "$NP" "$i"
	done
	printf '] }\n'
} > "$T/serve.json"
VP=$(free_port)
V=http://127.0.0.1:$VP
"$VERDICT" serve --listen "127.0.0.1:$VP" "$T/serve.json" > "$T/serve.out" 2> "$T/serve.err" &
VPID=$!
PIDS="$PIDS $VPID"
wait_port "$VP" 30

# sample NAME{...}: a value from the current page
sample() {
	{ curl -s "$V/metrics" || true; } |
		K=$1 awk '!d && index($0, ENVIRON["K"] " ") == 1 { print $NF; d = 1 }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "-" }'; }
p99() { sort -n | awk '{ a[NR] = $1 } END { i = int(NR * 0.99 + 0.5); if (i < 1) i = 1; if (NR) print a[i]; else print "-" }'; }

echo "== $N checks every $EVERY: waiting for every check's first run"
t_start=$EPOCHREALTIME
while :; do
	c=$(sample verdict_scheduler_lag_seconds_count)
	[ -n "$c" ] && [ "$c" -ge "$N" ] && break
	sleep 0.5
done
echo "   all ran once after $(calc "$EPOCHREALTIME - $t_start" 1) s"

# --- 1. steady state -----------------------------------------------------------------
c0=$(proc_cpu_ticks "$VPID")
n0=$(sample verdict_scheduler_lag_seconds_count)
s0=$(sample verdict_scheduler_lag_seconds_sum)
m0=$(sample verdict_scheduler_missed_runs_total)
sleep "$WINDOW"
c1=$(proc_cpu_ticks "$VPID")
curl -s "$V/metrics" > "$T/page.txt"
val() { K=$1 awk '!d && index($0, ENVIRON["K"] " ") == 1 { print $NF; d = 1 }' "$T/page.txt"; }
n1=$(val verdict_scheduler_lag_seconds_count)
s1=$(val verdict_scheduler_lag_seconds_sum)
m1=$(val verdict_scheduler_missed_runs_total)
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$VPID/status")
hwm=$(proc_hwm_kb "$VPID")
cpu=$(calc "($c1 - $c0) / $CLK_TCK" 2)
runs=$((n1 - n0))
lag50=$(val 'verdict_scheduler_lag_seconds{quantile="0.5"}')
lag99=$(val 'verdict_scheduler_lag_seconds{quantile="0.99"}')
bench_row "serve: $N checks @$EVERY" "steady state, ${WINDOW}s window" "$runs" "$WINDOW" "$cpu" "$rss" \
	"CPU $(calc "$cpu * 100 / $WINDOW" 1)% of a core; RSS peak $(calc "$hwm / 1024" 1) MB (aim < 64)"
bench_note "schedule lag: p50 $(calc "$lag50 * 1000" 2) ms, p99 $(calc "$lag99 * 1000" 2) ms (aim p99 < 100 ms), mean $(calc "($s1 - $s0) / ($runs > 0 ? $runs : 1) * 1000" 2) ms over $runs runs; missed due times $((m1 - m0))"
bench_note "runs in the window: $runs (expected $(calc "$N * $WINDOW / $(awk -v e="$EVERY" 'BEGIN { sub("s", "", e); print e }')" 0))"

# --- 2. /metrics render time and size -------------------------------------------------
echo "== /metrics of $N checks: 50 scrapes, one at a time"
cp "$T/page.txt" "$T/www/metrics.txt"
: > "$T/render.txt"
: > "$T/scrape.txt"
for ((i = 0; i < 50; i++)); do
	curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$V/metrics" >> "$T/scrape.txt"
	val_now=$(sample verdict_metrics_render_seconds)
	echo "$val_now" >> "$T/render.txt"
done
: > "$T/static.txt"
for ((i = 0; i < 50; i++)); do
	curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$NP/www/metrics.txt" >> "$T/static.txt"
done
size=$(awk '{ s = $2 } END { print s }' "$T/scrape.txt")
render=$(median < "$T/render.txt")
scrape=$(awk '{ print $1 }' "$T/scrape.txt" | median)
static=$(median < "$T/static.txt")
bench_note "/metrics render (verdict_metrics_render_seconds): median $(calc "$render * 1000" 2) ms, p99 $(calc "$(p99 < "$T/render.txt") * 1000" 2) ms; page $(calc "$size / 1048576" 2) MiB, $(grep -vc '^#' "$T/page.txt") samples"
bench_note "/metrics scrape with curl: median $(calc "$scrape * 1000" 2) ms (aim < 5 ms); nginx serving the same bytes as a static file: median $(calc "$static * 1000" 2) ms"
# gzip, as Prometheus asks for it: each scrape renders and compresses
: > "$T/gzip.txt"
for ((i = 0; i < 50; i++)); do
	sleep 1.1 # past the page-sharing second: a fresh page to compress
	curl -s -o /dev/null -H 'Accept-Encoding: gzip' -w '%{time_total} %{size_download}\n' "$V/metrics" >> "$T/gzip.txt"
done
gz=$(awk '{ print $1 }' "$T/gzip.txt" | median)
gzsize=$(awk '{ s = $2 } END { print s }' "$T/gzip.txt")
bench_note "/metrics scrape with gzip (render + compress, curl): median $(calc "$gz * 1000" 2) ms, p99 $(calc "$(awk '{ print $1 }' "$T/gzip.txt" | p99) * 1000" 2) ms; $(calc "$gzsize / 1048576" 2) MiB on the wire"

# --- 3. 200 concurrent scrapers ----------------------------------------------------------
echo "== $SCRAPERS concurrent scrapers for ${SCRAPE_SECONDS}s"
n0=$(sample verdict_scheduler_lag_seconds_count)
s0=$(sample verdict_scheduler_lag_seconds_sum)
m0=$(sample verdict_scheduler_missed_runs_total)
c0=$(proc_cpu_ticks "$VPID")
if command -v wrk > /dev/null; then
	wrk -t4 -c"$SCRAPERS" -d"${SCRAPE_SECONDS}s" --timeout 30s --latency "$V/metrics" > "$T/wrk.txt" 2>&1 || true
	w50=$(awk '$1 == "50%" { print $2 }' "$T/wrk.txt")
	w99=$(awk '$1 == "99%" { print $2 }' "$T/wrk.txt")
	wrate=$(awk '/^Requests\/sec/ { print $2 }' "$T/wrk.txt")
	werr=$(awk '/Socket errors|Non-2xx/ { sub(/^ +/, ""); printf "%s; ", $0 }' "$T/wrk.txt")
	scr="wrk: ${wrate} scrapes/s, latency p50 $w50, p99 $w99; errors: ${werr:-none}"
else
	scr="wrk not installed (Debian package wrk): skipped"
fi
c1=$(proc_cpu_ticks "$VPID")
n1=$(sample verdict_scheduler_lag_seconds_count)
s1=$(sample verdict_scheduler_lag_seconds_sum)
m1=$(sample verdict_scheduler_missed_runs_total)
lag99=$(sample 'verdict_scheduler_lag_seconds{quantile="0.99"}')
bench_note "$SCRAPERS scrapers x ${SCRAPE_SECONDS}s on $N checks: $scr; verdict CPU $(calc "($c1 - $c0) / $CLK_TCK" 2) s"
bench_note "schedule during the scrapes: $((n1 - n0)) runs, mean lag $(calc "($s1 - $s0) / ($n1 - $n0 > 0 ? $n1 - $n0 : 1) * 1000" 2) ms, p99 over the latest runs $(calc "$lag99 * 1000" 1) ms, missed $((m1 - m0))"

# --- 4. /probe: verdict next to blackbox_exporter --------------------------------------------
if command -v wrk > /dev/null && command -v prometheus-blackbox-exporter > /dev/null; then
	echo "== /probe, 50 connections for 10s: verdict and blackbox_exporter"
	BP=$(free_port)
	printf 'modules:\n  http_2xx:\n    prober: http\n    http:\n      preferred_ip_protocol: ip4\n' > "$T/bb.yml"
	prometheus-blackbox-exporter --config.file="$T/bb.yml" --web.listen-address="127.0.0.1:$BP" \
		--log.level=warn > "$T/bb.log" 2>&1 &
	BPID=$!
	PIDS="$PIDS $BPID"
	whos="verdict blackbox"
	if ! wait_port "$BP" 30; then
		bench_note "blackbox_exporter did not start: $(tail -n 3 "$T/bb.log" | tr '\n' ' ')"
		whos=verdict
	fi
	for who in $whos; do
		if [ $who = verdict ]; then port=$VP pid=$VPID; else port=$BP pid=$BPID; fi
		c0=$(proc_cpu_ticks "$pid")
		wrk -t2 -c50 -d10s --latency \
			"http://127.0.0.1:$port/probe?module=http_2xx&target=http%3A%2F%2F127.0.0.1%3A$NP%2Fc%2F1" \
			> "$T/wrk-$who.txt" 2>&1 || true
		c1=$(proc_cpu_ticks "$pid")
		bench_note "/probe on $who: $(awk '/^Requests\/sec/ { print $2 }' "$T/wrk-$who.txt") probes/s, p50 $(awk '$1 == "50%" { print $2 }' "$T/wrk-$who.txt"), p99 $(awk '$1 == "99%" { print $2 }' "$T/wrk-$who.txt"), CPU $(calc "($c1 - $c0) / $CLK_TCK" 2) s, RSS $(calc "$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status") / 1024" 1) MB$(grep -q 'Non-2xx\|Socket errors' "$T/wrk-$who.txt" && printf '; %s' "$(grep 'Non-2xx\|Socket errors' "$T/wrk-$who.txt" | tr -s ' ')")"
	done
fi

# --- stop ---------------------------------------------------------------------------------------
t0=$EPOCHREALTIME
kill -TERM "$VPID"
rc=0
wait "$VPID" || rc=$?
bench_note "SIGTERM with $N checks scheduled: exit $rc after $(calc "($EPOCHREALTIME - $t0) * 1000" 0) ms"
