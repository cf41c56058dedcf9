#!/bin/bash
# http_bench.sh - the HTTP figures of issue 2 (run by tests/bench/run.sh):
#  1. 14 checks against endpoints that each take 100 ms (faultd
#     /delay?ms=100): one `verdict run` next to the bash way, a loop of 14
#     curl calls, both as a ratio to the slowest single check.
#  2. 1,000 checks of a static file on a local nginx, a new connection each
#     (nginx keepalive_timeout 0): verdict (--concurrency 1000 and 300;
#     by address and by name), curl once per check, one `curl -Z` process
#     (libcurl multi, by address and by name) and
#     prometheus-blackbox-exporter driven through /probe; then HTTPS with a
#     test CA (RSA 2048 and ECDSA P-256 leaves) for verdict (--concurrency
#     300, curl -Z's own limit) and curl -Z (--no-sessionid: full
#     handshakes).
#  3. With valgrind installed: instructions per check (callgrind), the
#     repeatable figure to compare builds with.
# Environment: VERDICT, TOOLS (required); BENCH_CHECKS (1000),
# BENCH_REPEAT (3: runs per figure, 2 to 4 more for the quick plain-HTTP
# ones; verdict and curl -Z taken in turn, each one's median CPU kept),
# BENCH_CALLGRIND (1; 0 skips part 3). Prints figures; asserts nothing
# about speed.
. "$(dirname "$0")/bench_lib.sh"

: "${VERDICT:?set VERDICT to the verdict binary}"
: "${TOOLS:?set TOOLS to the directory of test tools}"
N=${BENCH_CHECKS:-1000}
REPEAT=${BENCH_REPEAT:-3}
CALLGRIND=${BENCH_CALLGRIND:-1}

# Runs that did not do what they should are reported, not hidden.
complain() { echo "http_bench: $*" >&2; BAD=1; }
BAD=0

# --- 1. 14 checks of 100 ms ------------------------------------------------
echo "== 14 checks against endpoints that take 100 ms each"
fport=$(free_port)
"$TOOLS/faultd" "$fport" > "$T/faultd.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$fport"
delay_url="http://127.0.0.1:$fport/delay?ms=100"
write_suite "$T/delay.json" 14 "$delay_url"

measure_median "$REPEAT" "$VERDICT" run --format json "$T/delay.json"
[ "$M_RC" = 0 ] || complain "verdict on the 100 ms suite exited $M_RC"
slowest=$(jq '[.checks[].duration_seconds] | max' "$T/m.out")
v_wall=$M_WALL v_cpu=$M_CPU v_rss=$M_RSS
measure bash -c 'for i in $(seq 14); do curl -sf -o /dev/null "$1" || exit 1; done' _ "$delay_url"
[ "$M_RC" = 0 ] || complain "the curl loop exited $M_RC"
bench_row "14 x 100 ms" "verdict run (14 concurrent)" 14 "$v_wall" "$v_cpu" "$v_rss" \
	"$(calc "$v_wall / $slowest" 2)x the slowest check ($(calc "$slowest * 1000" 0) ms); aim <= 1.3x"
bench_row "14 x 100 ms" "bash loop of 14 curl calls" 14 "$M_WALL" "$M_CPU" "$M_RSS" \
	"$(calc "$M_WALL / $slowest" 2)x the slowest check"

# --- 2. 1,000 checks against nginx ------------------------------------------
echo "== $N checks against a local nginx, a new connection each"
mkdir -p "$T/www" "$T/rsa" "$T/ec" "$T/nginx"
printf '{"status":"ok"}\n' > "$T/www/health.json"
make_tls_ca "$T/rsa" rsa
make_tls_ca "$T/ec" ec
hp=$(free_port) rp=$(free_port) ep=$(free_port)
tls_common="keepalive_timeout 0; root $T/www; ssl_protocols TLSv1.2 TLSv1.3;"
nginx_conf "$T/nginx" "
	server { listen 127.0.0.1:$hp backlog=4096; keepalive_timeout 0; root $T/www; }
	server { listen 127.0.0.1:$rp ssl backlog=4096; $tls_common
		ssl_certificate $T/rsa/leaf.pem; ssl_certificate_key $T/rsa/leaf.key; }
	server { listen 127.0.0.1:$ep ssl backlog=4096; $tls_common
		ssl_certificate $T/ec/leaf.pem; ssl_certificate_key $T/ec/leaf.key; }"
start_nginx "$T/nginx" "$hp" "$rp" "$ep"

http_url="http://127.0.0.1:$hp/health.json"
rsa_url="https://127.0.0.1:$rp/health.json"
ec_url="https://127.0.0.1:$ep/health.json"
write_suite "$T/http.json" "$N" "$http_url"
write_suite "$T/rsa.json" "$N" "$rsa_url" "\"tls\": { \"ca_file\": \"$T/rsa/ca.pem\" }"
write_suite "$T/ec.json" "$N" "$ec_url" "\"tls\": { \"ca_file\": \"$T/ec/ca.pem\" }"
write_curl_config "$T/http.curl" "$N" "$http_url"
write_curl_config "$T/rsa.curl" "$N" "$rsa_url"
write_curl_config "$T/ec.curl" "$N" "$ec_url"
for ((i = 0; i < N; i++)); do echo "$http_url"; done > "$T/http.urls"

# vs_curl NAME RUNS CONCURRENCY SUITE CURL_ARGS...: verdict, and one
# curl -Z process (every transfer counted by its status code), taken in
# turn; sets V_* and C_* (wall, CPU, RSS).
vs_curl() {
	local name=$1 runs=$2 conc=$3 suite=$4 ok
	shift 4
	measure_alt "$runs" "$VERDICT" run --concurrency "$conc" -q "$suite" -- \
		curl -s -Z --parallel-immediate --parallel-max 1000 -w '%{http_code}\n' "$@"
	grep -q "$N passed" "$T/a.out" ||
		complain "$name: verdict did not pass $N checks: $(tail -n 1 "$T/a.out")"
	ok=$(grep -c '^200$' "$T/b.out" || true)
	[ "$ok" = "$N" ] || complain "$name: curl -Z got $ok of $N answers"
	V_WALL=$A_WALL V_CPU=$A_CPU V_RSS=$A_RSS
	C_WALL=$B_WALL C_CPU=$B_CPU C_RSS=$B_RSS
}

vs_curl http $((REPEAT + 4)) "$N" "$T/http.json" -K "$T/http.curl"
vh_wall=$V_WALL vh_cpu=$V_CPU vh_rss=$V_RSS
ch_wall=$C_WALL ch_cpu=$C_CPU ch_rss=$C_RSS
# by name: every check's lookup goes through verdict's resolver pool and
# CURLOPT_RESOLVE (an address literal skips both), curl -Z resolves itself
name_url="http://localhost:$hp/health.json"
write_suite "$T/name.json" "$N" "$name_url"
write_curl_config "$T/name.curl" "$N" "$name_url"
vs_curl http-name $((REPEAT + 2)) "$N" "$T/name.json" -K "$T/name.curl"
vn_wall=$V_WALL vn_cpu=$V_CPU vn_rss=$V_RSS
cn_wall=$C_WALL cn_cpu=$C_CPU cn_rss=$C_RSS
# verdict at curl -Z's concurrency: the like-for-like CPU comparison
measure_median $((REPEAT + 2)) "$VERDICT" run --concurrency 300 -q "$T/http.json"
grep -q "$N passed" "$T/m.out" || complain "http -c 300: $(tail -n 1 "$T/m.out")"
v3_wall=$M_WALL v3_cpu=$M_CPU v3_rss=$M_RSS

measure xargs -P 4 -n 1 curl -sf -o /dev/null < "$T/http.urls"
[ "$M_RC" = 0 ] || complain "curl per check: xargs exited $M_RC"
cp_wall=$M_WALL cp_cpu=$M_CPU cp_rss=$M_RSS

# blackbox_exporter: its CPU from /proc before and after the probes (the
# start is not counted), its peak RSS from VmHWM; the probes are sent by
# four curl -Z processes at once (curl caps one at 300 in flight), so up
# to 1,000 are in flight.
bb_row=""
if command -v prometheus-blackbox-exporter > /dev/null; then
	bp=$(free_port)
	cat > "$T/bb.yml" <<EOF
modules:
  http_2xx:
    prober: http
    timeout: 30s
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
EOF
	prometheus-blackbox-exporter --config.file="$T/bb.yml" \
		--web.listen-address="127.0.0.1:$bp" --log.level=error \
		> "$T/bb.log" 2>&1 &
	bb_pid=$!
	PIDS="$PIDS $bb_pid"
	wait_port "$bp"
	probe="http://127.0.0.1:$bp/probe?module=http_2xx&target=$http_url"
	curl -sf -o /dev/null "$probe" || complain "blackbox_exporter: warm-up probe failed"
	mkdir -p "$T/bb"
	for ((i = 0; i < N; i++)); do
		printf 'url = "%s"\noutput = "%s/bb/%d"\n' "$probe" "$T" "$i" \
			>> "$T/bb$((i % 4)).curl"
	done
	ticks0=$(proc_cpu_ticks "$bb_pid")
	measure bash -c 'for f; do
		curl -s -Z --parallel-immediate --parallel-max 300 -K "$f" & done; wait' \
		_ "$T"/bb[0-3].curl
	ticks1=$(proc_cpu_ticks "$bb_pid")
	ok=$(grep -l '^probe_success 1' "$T"/bb/* | wc -l)
	[ "$ok" = "$N" ] || complain "blackbox_exporter: $ok of $N probes succeeded"
	bb_row="$M_WALL $(calc "($ticks1 - $ticks0) / $CLK_TCK" 3) $(proc_hwm_kb "$bb_pid")"
else
	bench_note "prometheus-blackbox-exporter is not installed: skipped"
fi

vs_curl https-rsa "$REPEAT" 300 "$T/rsa.json" --no-sessionid --cacert "$T/rsa/ca.pem" -K "$T/rsa.curl"
vr_wall=$V_WALL vr_cpu=$V_CPU vr_rss=$V_RSS
cr_wall=$C_WALL cr_cpu=$C_CPU cr_rss=$C_RSS
vs_curl https-ec "$REPEAT" 300 "$T/ec.json" --no-sessionid --cacert "$T/ec/ca.pem" -K "$T/ec.curl"
ve_wall=$V_WALL ve_cpu=$V_CPU ve_rss=$V_RSS
ce_wall=$C_WALL ce_cpu=$C_CPU ce_rss=$C_RSS

B="$N x HTTP"
bench_row "$B" "verdict run -c $N" "$N" "$vh_wall" "$vh_cpu" "$vh_rss" \
	"CPU $(calc "$vh_cpu / $ch_cpu" 2)x curl -Z (aim <= 1.10x); RSS aim < 32 MB"
bench_row "$B" "verdict run -c 300" "$N" "$v3_wall" "$v3_cpu" "$v3_rss" \
	"CPU $(calc "$v3_cpu / $ch_cpu" 2)x curl -Z, at curl -Z's concurrency"
bench_row "$B" "curl -Z (libcurl multi)" "$N" "$ch_wall" "$ch_cpu" "$ch_rss" \
	"one process; curl caps --parallel-max at 300"
bench_row "$B" "verdict run -c $N, by name (localhost)" "$N" "$vn_wall" "$vn_cpu" "$vn_rss" \
	"CPU $(calc "$vn_cpu / $cn_cpu" 2)x curl -Z by name; resolver pool + CURLOPT_RESOLVE"
bench_row "$B" "curl -Z, by name (localhost)" "$N" "$cn_wall" "$cn_cpu" "$cn_rss" \
	"libcurl's own resolver"
bench_row "$B" "curl once per check (xargs -P 4)" "$N" "$cp_wall" "$cp_cpu" "$cp_rss" \
	"$N processes; RSS is the largest one"
if [ -n "$bb_row" ]; then
	set -- $bb_row
	bench_row "$B" "blackbox_exporter /probe" "$N" "$1" "$2" "$3" \
		"exporter process only; up to $N probes in flight"
fi
B="$N x HTTPS"
bench_row "$B" "verdict run -c 300 (RSA 2048)" "$N" "$vr_wall" "$vr_cpu" "$vr_rss" \
	"$(calc "$vr_cpu / $cr_cpu" 2)x curl -Z; aim < 600 us/check"
bench_row "$B" "curl -Z --no-sessionid (RSA 2048)" "$N" "$cr_wall" "$cr_cpu" "$cr_rss" \
	"full handshakes; re-reads the CA file each"
bench_row "$B" "verdict run -c 300 (ECDSA P-256)" "$N" "$ve_wall" "$ve_cpu" "$ve_rss" \
	"$(calc "$ve_cpu / $ce_cpu" 2)x curl -Z"
bench_row "$B" "curl -Z --no-sessionid (ECDSA P-256)" "$N" "$ce_wall" "$ce_cpu" "$ce_rss" \
	"full handshakes"

# --- 3. instructions per check (callgrind) -----------------------------------
# (instructions of a K+1-check run minus a 1-check run) / K: startup and
# suite parsing of one check cancel out; repeatable where CPU time is not.
irow() { # NAME I1 IK K
	local per
	per=$(calc "($3 - $2) / $4" 0 | sed -e :a -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta')
	printf '%s\t%s\t%s\t-\t-\t-\t-\t%s instructions/check\n' \
		"instructions (callgrind)" "$1" "$4" "$per" >> "${BENCH_RESULTS:-/dev/stdout}"
	printf '  %-40s %s instructions/check\n' "$1" "$per"
}
cg_instr() { # CMD... -> total instructions
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" \
		> /dev/null 2> "$T/cg.err" || complain "callgrind: $* failed"
	sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$T/cg.err"
}
if [ "$CALLGRIND" = 1 ] && command -v valgrind > /dev/null; then
	echo "== instructions per check (callgrind)"
	K=200
	write_suite "$T/cg1.json" 1 "$http_url"
	write_suite "$T/cgk.json" $((K + 1)) "$http_url"
	write_suite "$T/cgs1.json" 1 "$rsa_url" "\"tls\": { \"ca_file\": \"$T/rsa/ca.pem\" }"
	write_suite "$T/cgsk.json" $((K + 1)) "$rsa_url" "\"tls\": { \"ca_file\": \"$T/rsa/ca.pem\" }"
	head -n 2 "$T/http.curl" > "$T/cg1.curl"
	head -n $((2 * K + 2)) "$T/http.curl" > "$T/cgk.curl"
	head -n 2 "$T/rsa.curl" > "$T/cgs1.curl"
	head -n $((2 * K + 2)) "$T/rsa.curl" > "$T/cgsk.curl"
	irow "verdict, HTTP" "$(cg_instr "$VERDICT" run -q "$T/cg1.json")" \
		"$(cg_instr "$VERDICT" run -q -c $((K + 1)) "$T/cgk.json")" "$K"
	irow "curl -Z, HTTP" "$(cg_instr curl -s -Z --parallel-immediate -K "$T/cg1.curl")" \
		"$(cg_instr curl -s -Z --parallel-immediate --parallel-max 300 -K "$T/cgk.curl")" "$K"
	irow "verdict, HTTPS (RSA 2048)" "$(cg_instr "$VERDICT" run -q "$T/cgs1.json")" \
		"$(cg_instr "$VERDICT" run -q -c $((K + 1)) "$T/cgsk.json")" "$K"
	irow "curl -Z --no-sessionid, HTTPS (RSA 2048)" \
		"$(cg_instr curl -s -Z --parallel-immediate --no-sessionid --cacert "$T/rsa/ca.pem" -K "$T/cgs1.curl")" \
		"$(cg_instr curl -s -Z --parallel-immediate --parallel-max 300 --no-sessionid --cacert "$T/rsa/ca.pem" -K "$T/cgsk.curl")" "$K"
elif [ "$CALLGRIND" = 1 ]; then
	bench_note "valgrind is not installed: no instruction counts"
fi

[ "$BAD" = 0 ] || bench_note "http_bench: some runs misbehaved (see above); their figures are suspect"
exit 0
