#!/bin/bash
# mixed_bench.sh - the figures of issue 3 (run by tests/bench/run.sh):
#  1. One suite of 500 checks, 100 each of http, tls, postgres, redis and
#     tcp, interleaved, against servers started here on loopback (nginx
#     plain and TLS with a test CA, PostgreSQL 15 with scram-sha-256,
#     Redis 7 with requirepass): checks per second, CPU per check, peak
#     RSS; then the same without postgres (whose SCRAM key derivation
#     runs on the loop), and 100 checks of each type alone, for the CPU
#     per type.
#  2. The same 500 checks plus stuck ones: a postgres check running
#     `SELECT pg_sleep(10)` with a 3 s timeout, and one check of each type
#     against a name that takes 2 s to resolve (*.slow.test, through the
#     LD_PRELOAD shim $TOOLS/slowdns.so). The duration of the 500 fast
#     checks (p99, max) and when the last of them ended, with and without
#     the stuck ones, taken in turn. Both runs get the shim; the tcp checks
#     use the name "localhost", so they share the resolver pool with the
#     slow lookups.
# Environment: VERDICT, TOOLS (required); MIX_PER_TYPE (100 checks per
# type), MIX_REPEAT (3: runs per figure, the median CPU kept). Prints
# figures; asserts nothing about speed.
. "$(dirname "$0")/bench_lib.sh"

: "${VERDICT:?set VERDICT to the verdict binary}"
: "${TOOLS:?set TOOLS to the directory of test tools}"
K=${MIX_PER_TYPE:-100}
REPEAT=${MIX_REPEAT:-3}
TYPES="http tls postgres redis tcp"
N=$((K * 5))
SHIM=$TOOLS/slowdns.so

complain() { echo "mixed_bench: $*" >&2; BAD=1; }
BAD=0

# --- servers ---------------------------------------------------------------------
sh "$(dirname "$0")/../integration/certs.sh" "$T/certs"
mkdir -p "$T/www"
printf '{"status":"ok"}\n' > "$T/www/health.json"
HP=$(free_port)
SP=$(free_port)
while [ "$SP" = "$HP" ]; do SP=$(free_port); done
nginx_conf "$T/nginx" "
	server { listen 127.0.0.1:$HP backlog=4096; keepalive_timeout 0; root $T/www; }
	server { listen 127.0.0.1:$SP ssl backlog=4096; keepalive_timeout 0; root $T/www;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_certificate $T/certs/good.pem; ssl_certificate_key $T/certs/good.key; }"
start_nginx "$T/nginx" "$HP" "$SP"
# every postgres check of the suite may be in flight at once
start_postgres mix -c max_connections=$((K + 50))
start_redis mix
export REDIS_PASSWORD
export DATABASE_URL="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
export SLOW_DATABASE_URL="postgres://$PG_USER:$PG_PASSWORD@pg.slow.test:$PG_PORT/$PG_DB"

# --- suites ----------------------------------------------------------------------
# check TYPE NAME HOST: one check of TYPE against HOST (an address or a name)
check() {
	local type=$1 name=$2 host=$3
	case $type in
	http) printf '{ "name": "%s", "type": "http", "url": "http://%s:%d/health.json" }' \
		"$name" "$host" "$HP" ;;
	tls) printf '{ "name": "%s", "type": "tls", "host": "%s", "port": %d, "tls": { "ca_file": "%s", "server_name": "localhost" } }' \
		"$name" "$host" "$SP" "$T/certs/ca.pem" ;;
	postgres)
		if [ "$host" = 127.0.0.1 ]; then
			printf '{ "name": "%s", "type": "postgres", "dsn": "${DATABASE_URL}", "expect": { "value": 1 } }' "$name"
		else
			printf '{ "name": "%s", "type": "postgres", "dsn": "${SLOW_DATABASE_URL}", "expect": { "value": 1 } }' "$name"
		fi ;;
	redis) printf '{ "name": "%s", "type": "redis", "host": "%s", "port": %d, "password_env": "REDIS_PASSWORD" }' \
		"$name" "$host" "$REDIS_PORT" ;;
	tcp) printf '{ "name": "%s", "type": "tcp", "host": "%s", "port": %d, "send": "HEAD /health.json HTTP/1.0\\r\\n\\r\\n", "expect": { "banner": "HTTP/1.1 200" } }' \
		"$name" "$host" "$HP" ;;
	esac
}

# fast_checks TYPES...: K checks of each type, interleaved, named f-TYPE-I;
# tcp by the name "localhost" (the resolver pool), the others by address.
fast_checks() {
	local i t h sep=""
	for ((i = 1; i <= K; i++)); do
		for t in "$@"; do
			if [ "$t" = tcp ]; then h=localhost; else h=127.0.0.1; fi
			printf '%s%s\n' "$sep" "$(check "$t" "f-$t-$i" "$h")"
			sep=","
		done
	done
}

# suite FILE CHECKS...: a suite around the given check lines
suite() {
	local f=$1
	shift
	{
		printf '{ "name": "mixed", "defaults": { "timeout": "5s" }, "checks": [\n'
		printf '%s\n' "$@"
		printf '] }\n'
	} > "$f"
}

suite "$T/mixed.json" "$(fast_checks $TYPES)"
for t in $TYPES; do
	suite "$T/only-$t.json" "$(fast_checks "$t")"
done
suite "$T/nopg.json" "$(fast_checks http tls redis tcp)"
stuck="$(fast_checks $TYPES),
{ \"name\": \"stuck-pg-sleep\", \"type\": \"postgres\", \"dsn\": \"\${DATABASE_URL}\",
  \"query\": \"SELECT pg_sleep(10)\", \"timeout\": \"3s\", \"critical\": false }"
for t in $TYPES; do
	stuck+=",
$(check "$t" "stuck-dns-$t" "$t.slow.test" | sed 's/ }$/, "critical": false }/')"
done
suite "$T/stuck.json" "$stuck"
NS=$(jq '.checks | length' "$T/stuck.json")

# fast_stats FILE: of the f-* checks in a JSON report, tab-separated:
# count, passed, duration p50, p99, max, and end (started + duration,
# from the run's start) p99, max; seconds.
fast_stats() {
	jq -r 'def pct(p): sort | .[((length * p) | ceil) - 1];
		.started as $s0
		| [.checks[] | select(.name | startswith("f-"))] as $f
		| [($f | length), ([$f[] | select(.status == "pass")] | length),
		   ([$f[].duration_seconds] | pct(0.5)),
		   ([$f[].duration_seconds] | pct(0.99)),
		   ([$f[].duration_seconds] | max),
		   ([$f[] | .started + .duration_seconds - $s0] | pct(0.99)),
		   ([$f[] | .started + .duration_seconds - $s0] | max)] | @tsv' "$1"
}
ms() { calc "$1 * 1000" 0; }
# type_max FILE TYPE: the longest f-TYPE-* check of a JSON report, ms
type_max() {
	jq -r --arg p "f-$2-" '[.checks[] | select(.name | startswith($p)) | .duration_seconds]
		| max * 1000 | round' "$1"
}

# --- 1. 500 mixed checks, and each type alone ----------------------------------------
echo "== $N checks: $K each of $TYPES, interleaved"
measure_median "$REPEAT" "$VERDICT" run --format json "$T/mixed.json"
[ "$M_RC" = 0 ] || complain "the mixed suite exited $M_RC"
IFS=$'\t' read -r n pass p50 p99 dmax _ _ < <(fast_stats "$T/m.out")
[ "$pass" = "$N" ] || complain "mixed: $pass of $n checks passed: $(jq -r '[.checks[] | select(.status != "pass") | .reason] | unique | .[:3] | join("; ")' "$T/m.out")"
bench_row "$N mixed checks" "verdict run ($K x $(echo $TYPES | tr ' ' ','))" "$N" \
	"$M_WALL" "$M_CPU" "$M_RSS" \
	"check duration p50 $(ms "$p50") ms, p99 $(ms "$p99") ms, max $(ms "$dmax") ms"
# The mix without postgres: libpq derives the SCRAM key (4,096 PBKDF2
# rounds) inside PQconnectPoll, on the loop, which the others wait for.
measure_median "$REPEAT" "$VERDICT" run --format json "$T/nopg.json"
IFS=$'\t' read -r n pass p50 p99 dmax _ _ < <(fast_stats "$T/m.out")
[ "$pass" = $((K * 4)) ] || complain "without postgres: $pass of $n checks passed"
bench_row "$N mixed checks" "  the same without postgres" $((K * 4)) "$M_WALL" "$M_CPU" "$M_RSS" \
	"duration p50 $(ms "$p50") ms, p99 $(ms "$p99") ms, max $(ms "$dmax") ms"
for t in $TYPES; do
	measure_median "$REPEAT" "$VERDICT" run --format json "$T/only-$t.json"
	IFS=$'\t' read -r n pass p50 p99 dmax _ _ < <(fast_stats "$T/m.out")
	[ "$pass" = "$K" ] || complain "$t alone: $pass of $n checks passed"
	bench_row "$N mixed checks" "  $K x $t alone" "$K" "$M_WALL" "$M_CPU" "$M_RSS" \
		"duration p50 $(ms "$p50") ms, max $(ms "$dmax") ms"
done

# --- 2. with a stuck PostgreSQL query and slow DNS -----------------------------------
if [ -f "$SHIM" ]; then
	echo "== the same $N checks, then with a stuck query and 5 names taking 2 s to resolve"
	measure_alt "$REPEAT" env LD_PRELOAD="$SHIM" "$VERDICT" run --format json "$T/mixed.json" -- \
		env LD_PRELOAD="$SHIM" "$VERDICT" run --format json "$T/stuck.json"
	IFS=$'\t' read -r an apass _ ap99 amax ae99 aemax < <(fast_stats "$T/a.out")
	IFS=$'\t' read -r bn bpass _ bp99 bmax be99 bemax < <(fast_stats "$T/b.out")
	[ "$apass" = "$N" ] || complain "without stuck checks: $apass of $an fast checks passed"
	[ "$bpass" = "$N" ] || complain "with stuck checks: $bpass of $bn fast checks passed"
	echo "   the stuck checks:"
	jq -r '.checks[] | select(.name | startswith("stuck-"))
		| "     \(.name): \(.status) (\(.reason_kind)) after \(.duration_seconds * 1000 | round) ms, resolve \((.timings.resolve // 0) * 1000 | round) ms: \(.reason)"' \
		"$T/b.out"
	jq -r '.checks[] | select(.name == "stuck-pg-sleep") | select(.reason_kind != "timeout") | .reason' \
		"$T/b.out" | while read -r r; do complain "stuck-pg-sleep did not time out: $r"; done
	slow_ok=$(jq '[.checks[] | select(.name | startswith("stuck-dns-")) | select(.status == "pass" and .timings.resolve >= 1.9)] | length' "$T/b.out")
	[ "$slow_ok" = 5 ] || complain "only $slow_ok of 5 slow-DNS checks passed after a 2 s lookup"
	echo "   fast checks without / with the stuck ones: duration p99 $(ms "$ap99") / $(ms "$bp99") ms," \
		"max $(ms "$amax") / $(ms "$bmax") ms; last one done $(ms "$aemax") / $(ms "$bemax") ms after the start"
	for t in $TYPES; do
		echo "     $t: max duration $(type_max "$T/a.out" "$t") / $(type_max "$T/b.out" "$t") ms"
	done
	bench_row "$N mixed + stuck" "verdict run, $N checks (LD_PRELOAD shim)" "$N" \
		"$A_WALL" "$A_CPU" "$A_RSS" \
		"fast checks: duration p99 $(ms "$ap99") ms, max $(ms "$amax") ms; all done at $(ms "$aemax") ms"
	bench_row "$N mixed + stuck" "+ pg_sleep(10) (3s timeout) + 5 x 2s DNS" "$NS" \
		"$B_WALL" "$B_CPU" "$B_RSS" \
		"the $N fast: duration p99 $(ms "$bp99") ms, max $(ms "$bmax") ms; all done at $(ms "$bemax") ms"
else
	bench_note "mixed_bench: $SHIM is missing (make \$(BUILD)/tools/slowdns.so): no stuck-check figures"
fi

[ "$BAD" = 0 ] || bench_note "mixed_bench: some runs misbehaved (see above); their figures are suspect"
exit 0
