# test_soak.sh - flat memory and descriptors for every check type: one
# `verdict serve` runs a check of each type (http, https, tls with a
# ca_file, tls on the system trust store, tcp, security_headers, cors,
# postgres, redis, exec, env_file, json_file, dns (localhost through the
# resolver), a two-step flow with a captured token and a cookie) against
# nginx, PostgreSQL and Redis started here, while /probe is asked, as often, for a module of
# each kind (http, https, tls with a ca_file and on the system store, tcp,
# security_headers, cors). One check and one probe at a time at most
# (concurrency 1, probe_concurrency 1): the peak of memory in use is then
# the same in every round, and RSS grows only with what runs keep.
# Resident memory (VmRSS) and open descriptors are read after a warm-up
# and again after SOAK_RUNS (40) more runs of each, both times with nothing
# in flight (the checks taken out by a reload, SIGHUP, and put back). The
# properties asserted:
#   - no check type or module keeps SOAK_KB_PER_RUN (12) KiB or more per run:
#     RSS growth < SOAK_KB_PER_RUN x (runs of the least-run check or module)
#   - not one descriptor more at the end than after the warm-up;
#   - each check passed on its last run and each probe succeeded (the soak
#     went through the whole path, not an early error);
#   - SIGTERM: exit 0 and no LeakSanitizer report.
# The soak ends on run counts, not on a clock. Before the fix of the tls
# context cache (an unset ca_file compared as different from itself) the
# sanitized build kept ~1 MB per run of the system-store check and module
# and ~22 KiB per run of the ca_file one: this test failed with 195 MB of
# growth, and with 4 MB with the system-store check and module left out.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

RUNS=${SOAK_RUNS:-40}
KB_PER_RUN=${SOAK_KB_PER_RUN:-12}
WARM=15 # runs of each before the first sample: caches, pools, allocator

C=$T/certs
sh "$here/certs.sh" "$C"
read -r HP SP <<< "$(ports 2)"
LOCATIONS="
	location = /ok { return 200 \"ok\n\"; }
	location = /login {
		add_header Set-Cookie \"sid=soak-session-1; Path=/; HttpOnly\" always;
		default_type application/json;
		return 200 '{\"token\": \"soak-token-123456\"}'; }
	location = /whoami {
		if (\$http_x_token != soak-token-123456) { return 401; }
		if (\$cookie_sid != soak-session-1) { return 403; }
		return 200 ok; }
	location = /headers {
		add_header Strict-Transport-Security \"max-age=31536000; includeSubDomains\" always;
		add_header X-Content-Type-Options nosniff always;
		add_header X-Frame-Options DENY always;
		add_header Content-Security-Policy \"default-src 'self'\" always;
		add_header Referrer-Policy strict-origin-when-cross-origin always;
		return 200 ok; }
	location /api/ {
		if (\$request_method = OPTIONS) {
			add_header Access-Control-Allow-Origin https://app.example.com always;
			add_header Access-Control-Allow-Methods \"GET, PUT\" always;
			add_header Access-Control-Allow-Headers \"X-Token\" always;
			add_header Vary Origin always;
			return 204;
		}
		return 200 ok; }"
nginx_conf "$T/nginx" "
	server_tokens off;
	server { listen 127.0.0.1:$HP; $LOCATIONS }
	server { listen 127.0.0.1:$SP ssl; ssl_certificate $C/good.pem; ssl_certificate_key $C/good.key;
		$LOCATIONS }"
start_nginx "$T/nginx" "$HP" "$SP"
start_postgres soak
start_redis soak
export DATABASE_URL="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
export REDIS_PASSWORD
SECRETS="$PG_PASSWORD $REDIS_PASSWORD" # for no_secret (lib.sh)

mkdir -p "$T/files"
printf 'SECRET_KEY=k-%s\nDATABASE_URL=postgres://db/app\n' "$RANDOM$RANDOM" > "$T/files/app.env"
printf '{ "environment": "staging", "replicas": 2, "images": { "api": "api:1.2.3" } }\n' > "$T/files/manifest.json"

H=http://127.0.0.1:$HP
S=https://127.0.0.1:$SP
CA="\"tls\": { \"ca_file\": \"$C/ca.pem\" }"
ALLOW='"allow": ["127.0.0.1"]'
CORS='"origin": "https://app.example.com", "method": "PUT", "request_headers": ["X-Token"]'
cat > "$T/serve.json" <<EOF
{ "name": "soak",
  "concurrency": 1,
  "serve": { "every": "100ms", "probe_concurrency": 1 },
  "defaults": { "timeout": "5s" },
  "modules": {
    "http": { "check": { "type": "http" }, $ALLOW },
    "https": { "check": { "type": "http", $CA }, $ALLOW },
    "tls-ca": { "check": { "type": "tls", $CA }, $ALLOW },
    "tls-system": { "check": { "type": "tls", "tls": { "verify": false } }, $ALLOW },
    "tcp": { "check": { "type": "tcp" }, $ALLOW },
    "headers": { "check": { "type": "security_headers" }, $ALLOW },
    "cors": { "check": { "type": "cors", $CORS }, $ALLOW }
  },
  "checks": [
    { "name": "http", "type": "http", "url": "$H/ok", "expect": { "body_contains": "ok" } },
    { "name": "https", "type": "http", "url": "$S/ok", $CA },
    { "name": "tls-ca", "type": "tls", "host": "127.0.0.1", "port": $SP, $CA },
    { "name": "tls-system", "type": "tls", "host": "127.0.0.1", "port": $SP,
      "tls": { "verify": false } },
    { "name": "tcp", "type": "tcp", "host": "127.0.0.1", "port": $HP,
      "send": "HEAD /ok HTTP/1.0\\r\\n\\r\\n", "expect": { "banner": "HTTP/1.1 200" } },
    { "name": "headers", "type": "security_headers", "url": "$S/headers", $CA },
    { "name": "cors", "type": "cors", "url": "$H/api/x", $CORS },
    { "name": "postgres", "type": "postgres", "dsn": "\${DATABASE_URL}", "expect": { "value": 1 } },
    { "name": "redis", "type": "redis", "host": "127.0.0.1", "port": $REDIS_PORT,
      "password_env": "REDIS_PASSWORD" },
    { "name": "exec", "type": "exec", "argv": ["echo", "healthy"], "expect": { "output_contains": "healthy" } },
    { "name": "env_file", "type": "env_file", "path": "$T/files/app.env",
      "require": ["SECRET_KEY", "DATABASE_URL"] },
    { "name": "json_file", "type": "json_file", "path": "$T/files/manifest.json",
      "require": ["images.api"], "equals": { "environment": "staging" } },
    { "name": "dns", "type": "dns", "host": "localhost",
      "expect": { "addresses": { "contains": "127.0.0.1" } } },
    { "name": "flow", "type": "flow", "steps": [
      { "name": "login", "url": "$H/login", "capture": { "t": { "json": "token" } } },
      { "name": "whoami", "url": "$H/whoami", "headers": { "X-Token": "{{t}}" } } ] }
  ] }
EOF
CHECKS="http https tls-ca tls-system tcp headers cors postgres redis exec env_file json_file dns flow"
# module and target of each /probe, one per line
cat > "$T/probes.txt" <<EOF
http $H/ok
https $S/ok
tls-ca 127.0.0.1:$SP
tls-system 127.0.0.1:$SP
tcp 127.0.0.1:$HP
headers $H/headers
cors $H/api/x
EOF
NMOD=$(wc -l < "$T/probes.txt")

# the same without checks: what serve holds with nothing in flight
jq 'del(.checks)' "$T/serve.json" > "$T/quiet.json"
cp "$T/serve.json" "$T/full.json"

# In a sanitized build, no quarantine and no allocation stacks: ASan
# holds freed blocks back (256 MB by default) before reuse, and keeps the
# stack of every allocation in a depot that grows with each new stack;
# both read as growth (with them a run kept 0.3-0.6 KiB, without them
# 0.2; the plain build's heap in use stays flat). LeakSanitizer still runs
# at exit; for the stacks of a leak it reports, run again with
# SOAK_ASAN=:malloc_context_size=30.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:quarantine_size_mb=0:thread_local_quarantine_size_kb=0:malloc_context_size=0${SOAK_ASAN:-}"
serve_start "$T/serve.json"
echo "[${SECONDS}s] serve started"

# runs: "check total" per check, from one page (runs of every result)
runs() {
	curl -sf "$V/metrics" | awk '
		/^verdict_check_runs_total\{/ {
			if (match($0, /check="[^"]*"/)) n[substr($0, RSTART + 7, RLENGTH - 8)] += $NF
		}
		END { for (c in n) print c, n[c] }' | sort
}
# min_runs FILE: the fewest runs of one check in a runs listing (0 for a
# check missing from it)
min_runs() {
	awk -v cs="$CHECKS" '{ r[$1] = $2 }
		END { n = split(cs, c, " "); m = -1
			for (i = 1; i <= n; i++) { v = (c[i] in r) ? r[c[i]] : 0; if (m < 0 || v < m) m = v }
			print m }' "$1"
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$VPID/status"; }
nfds() { find "/proc/$VPID/fd" -mindepth 1 2> /dev/null | wc -l; }
# fds_least: the fewest descriptors of 5 readings 0.1 s apart (the
# connection of a scrape just answered may still be open for a moment)
fds_least() {
	local i n m=""
	for i in 1 2 3 4 5; do
		n=$(nfds)
		if [ -z "$m" ] || [ "$n" -lt "$m" ]; then m=$n; fi
		sleep 0.1
	done
	echo "$m"
}
# fd_kinds: what the descriptors are (socket, pipe, file...) and how many
# of each, and the TCP connections (for a message on failure)
fd_kinds() {
	find "/proc/$VPID/fd" -mindepth 1 -printf '%l\n' 2> /dev/null |
		sed 's/:\[[0-9]*\]$//' | sort | uniq -c
	ss -tanp 2> /dev/null | grep "pid=$VPID," || true
}

# reload_to FILE: serve.json becomes FILE, SIGHUP; waits until the page
# shows that many checks, then (no checks) until the descriptor count
# holds still for 5 readings 0.1 s apart (runs cancelled or ended:
# nothing in flight).
reload_to() {
	local want got n=200 same=0 last=-1 now
	want=$(jq '.checks // [] | length' "$1")
	cp "$1" "$T/serve.json"
	kill -HUP "$VPID"
	while :; do
		got=$(runs | wc -l)
		if [ "$got" = "$want" ]; then
			[ "$want" -gt 0 ] && return 0
			now=$(nfds)
			if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; fi
			last=$now
			[ "$same" -ge 5 ] && return 0
		fi
		n=$((n - 1))
		if [ $n -le 0 ]; then
			fail "reload to $(basename "$1"): not taken, or never quiet, after 20 s"
			return 1
		fi
		sleep 0.1
	done
}

# probe_rounds N: N more /probe of each module, one at a time in one
# curl; each answer in $T/probes/
probe_rounds() {
	local args=() i m t
	for ((i = PROBES; i < PROBES + $1; i++)); do
		while read -r m t; do
			args+=(-s -G --data-urlencode "module=$m" --data-urlencode "target=$t"
				-o "$T/probes/$PHASE-$i-$m" "$V/probe" --next)
		done < "$T/probes.txt"
	done
	unset 'args[${#args[@]}-1]'
	curl -s "${args[@]}" 2> /dev/null || true
	PROBES=$((PROBES + $1))
}
# soak_until RUNS: until every check has RUNS runs (counted from the
# last reload) and every module RUNS probes; the probes keep pace with
# the slowest check. Fails after 120 s (something is stuck: not a timing
# assertion).
soak_until() {
	local want=$1 n=1200 least
	while :; do
		runs > "$T/runs.now"
		least=$(min_runs "$T/runs.now")
		if [ "$least" -ge "$want" ] && [ "$PROBES" -ge "$want" ]; then
			return 0
		fi
		n=$((n - 1))
		if [ $n -le 0 ]; then
			fail "soak: fewer than $want runs of some check after 120 s: $(tr '\n' ' ' < "$T/runs.now")"
			return 1
		fi
		if [ "$PROBES" -lt "$want" ] && [ "$PROBES" -le "$least" ]; then
			probe_rounds $((least - PROBES + 1 < 5 ? least - PROBES + 1 : 5))
		else
			sleep 0.1
		fi
	done
}

mkdir -p "$T/probes"
PHASE=warm PROBES=0
soak_until "$WARM"
warm_probes=$PROBES
reload_to "$T/quiet.json"
rss0=$(rss_kb)
fd0=$(fds_least)
fd_kinds > "$T/fd.warm"
echo "[${SECONDS}s] after the warm-up, nothing in flight: RSS $rss0 KiB, $fd0 descriptors"

reload_to "$T/full.json"
PHASE=soak PROBES=0
soak_until "$RUNS"
runs > "$T/runs.end"
probes=$PROBES
echo "[${SECONDS}s] soak: runs $(tr '\n' ' ' < "$T/runs.end"), $probes probes of each module"
# every check passed on its last run, and every probe succeeded
curl -sf "$V/metrics" > "$T/page.txt"
for c in $CHECKS; do
	assert_eq "$c: passes" "$(awk -v c="verdict_check_success{check=\"$c\"," \
		'index($0, c) == 1 { print $NF }' "$T/page.txt")" 1
done
assert_eq "/probe: every probe answered and succeeded" \
	"$(cat "$T"/probes/* | grep -c '^probe_success 1$')" "$(((warm_probes + probes) * NMOD))"

reload_to "$T/quiet.json"
rss1=$(rss_kb)
fd1=$(fds_least)
fd_kinds > "$T/fd.end"
echo "[${SECONDS}s] at the end, nothing in flight: RSS $rss1 KiB, $fd1 descriptors"

least=$(min_runs "$T/runs.end")
[ "$probes" -lt "$least" ] && least=$probes
total=$(awk -v p="$((probes * NMOD))" '{ s += $2 } END { print s + p }' "$T/runs.end")
growth=$((rss1 - rss0))
echo "soak: $total runs, at least $least of each check and module; RSS growth $growth KiB" \
	"($(awk -v g="$growth" -v n="$total" 'BEGIN { printf "%.2f", g / n }') KiB per run)"
assert_le "soak: at least $RUNS runs of each check and module" "$RUNS" "$least"
assert_le "soak: RSS growth ${growth} KiB below $KB_PER_RUN KiB x $least runs of each" \
	"$growth" "$((KB_PER_RUN * least - 1))"
assert_le "soak: descriptors $fd0 after the warm-up, $fd1 at the end" "$fd1" "$fd0"
[ "$fd1" -le "$fd0" ] || { echo "descriptors after the warm-up:"; cat "$T/fd.warm"; echo "at the end:"; cat "$T/fd.end"; } >&2
no_secret "serve output" "$T/serve.out" "$T/serve.err"

serve_stop
finish
