# test_postgres.sh - the postgres check against real PostgreSQL 15
# servers started here (lib.sh: scram-sha-256 over TCP on 127.0.0.1):
# URL, key=value and unix-socket DSNs, a name to resolve, value / rows /
# min_server_version / primary expectations, SQL errors, and each failure
# kind told apart: wrong password, missing password, missing database,
# too many connections, a standby still starting (hot_standby=off), a
# server that is down, TLS refused; the deadline with a query cancelled on
# the server (pg_stat_activity), max_body, a stuck query not delaying
# other checks, and the DSN password in no output format.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

start_postgres main -c max_connections=8 -c superuser_reserved_connections=2
MAIN_PORT=$PG_PORT MAIN_SOCK=$PG_SOCK
PG_STANDBY=1 start_postgres standby
STANDBY_PORT=$PG_PORT
PG_STANDBY=1 start_postgres starting -c hot_standby=off
STARTING_PORT=$PG_PORT
PG_PORT=$MAIN_PORT PG_SOCK=$MAIN_SOCK
export PGPORT=$MAIN_PORT
DOWN_PORT=$(free_port)
start_redis cache
CACHE_PORT=$REDIS_PORT
# The password reaches verdict only through the environment, as in a
# real suite ("dsn": "${DATABASE_URL}").
export DATABASE_URL="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$MAIN_PORT/$PG_DB"
export PG_KV="host=localhost port=$MAIN_PORT user=$PG_USER password='$PG_PASSWORD' dbname=$PG_DB"
export PG_PASSWORD REDIS_PASSWORD

SECRETS="$PG_PASSWORD $REDIS_PASSWORD" # for no_secret (lib.sh)

# backends_running PATTERN: backends of $PG_USER whose query matches.
backends_running() {
	pg_super -c "SELECT count(*) FROM pg_stat_activity WHERE usename = '$PG_USER' AND state = 'active' AND query LIKE '$1'"
}

# --- passing cases and expectations, one run ---------------------------
cat > "$T/pg.json" <<EOF
{ "name": "pg", "defaults": { "timeout": "5s" }, "checks": [
  { "name": "url", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "expect": { "value": "1", "rows": 1, "min_server_version": "15", "primary": true } },
  { "name": "url-sslmode", "type": "postgres", "dsn": "\${DATABASE_URL}?sslmode=disable&application_name=verdict-test",
    "query": "SELECT current_setting('application_name')", "expect": { "value": "verdict-test" } },
  { "name": "keyvalue-localhost", "type": "postgres", "dsn": "\${PG_KV}",
    "query": "SELECT current_user", "expect": { "value": "$PG_USER" } },
  { "name": "socket", "type": "postgres", "dsn": "host=$MAIN_SOCK port=$MAIN_PORT user=$PG_USER dbname=$PG_DB",
    "query": "SELECT 40 + 2", "expect": { "value": 42 } },
  { "name": "rows", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "query": "SELECT g FROM generate_series(1, 5) g", "expect": { "rows": 5, "value": "1" } },
  { "name": "multi-statement", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "query": "SELECT 1; SELECT 'last'", "expect": { "value": "last", "rows": 1 } },
  { "name": "bool", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "query": "SELECT true", "expect": { "value": true } },
  { "name": "version-minor", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "expect": { "min_server_version": "14.2" } },
  { "name": "standby-wanted", "type": "postgres",
    "dsn": "postgres://$PG_USER:\${PG_PASSWORD}@127.0.0.1:$STANDBY_PORT/$PG_DB",
    "expect": { "primary": false } },

  { "name": "wrong-value", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "query": "SELECT 2", "expect": { "value": "1" } },
  { "name": "null-value", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "query": "SELECT NULL", "expect": { "value": "1" } },
  { "name": "no-rows", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "query": "SELECT 1 WHERE false", "expect": { "value": "1" } },
  { "name": "wrong-rows", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "query": "SELECT g FROM generate_series(1, 3) g", "expect": { "rows": 1 } },
  { "name": "old-server", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "expect": { "min_server_version": "99" } },
  { "name": "sql-error", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "query": "SELECT * FROM no_such_table" },
  { "name": "standby", "type": "postgres",
    "dsn": "postgres://$PG_USER:\${PG_PASSWORD}@127.0.0.1:$STANDBY_PORT/$PG_DB",
    "expect": { "primary": true } },

  { "name": "wrong-password", "type": "postgres",
    "dsn": "postgres://$PG_USER:wrong-Pass-123@127.0.0.1:$MAIN_PORT/$PG_DB" },
  { "name": "no-password", "type": "postgres",
    "dsn": "postgres://$PG_USER@127.0.0.1:$MAIN_PORT/$PG_DB" },
  { "name": "db-missing", "type": "postgres",
    "dsn": "postgres://$PG_USER:\${PG_PASSWORD}@127.0.0.1:$MAIN_PORT/no_such_db" },
  { "name": "starting-up", "type": "postgres",
    "dsn": "postgres://$PG_USER:\${PG_PASSWORD}@127.0.0.1:$STARTING_PORT/$PG_DB" },
  { "name": "down", "type": "postgres",
    "dsn": "postgres://$PG_USER:\${PG_PASSWORD}@127.0.0.1:$DOWN_PORT/$PG_DB" },
  { "name": "down-socket", "type": "postgres",
    "dsn": "host=$T/nowhere port=5432 user=$PG_USER dbname=$PG_DB" },
  { "name": "tls-refused", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "tls": { "verify": false } }
] }
EOF
# max_connections is small here (for the too-many case): 4 at a time
run_suite "$T/pg.json" 8 --concurrency 4
assert_eq "pg: exit code" "$RC" 1
PASSING="url url-sslmode keyvalue-localhost socket rows multi-statement bool version-minor standby-wanted"
assert_eq "these pass: $PASSING" "$(statuses $PASSING)" "$(printf '%s=pass\n' $PASSING | sort | tr '\n' ' ')"
assert_match "url: server_version fact" "$(check_field url .facts.server_version)" '^15\.'
assert_eq "url: in_recovery fact" "$(check_field url .facts.in_recovery)" false
assert_match "url: target without password" "$(check_field url .target)" \
	"^postgres://$PG_USER@127\.0\.0\.1:$MAIN_PORT/$PG_DB\$"
assert_match "url: connect timing" "$(check_field url .timings.connect)" '^[0-9.e-]+$'
assert_match "url: first_byte timing" "$(check_field url .timings.first_byte)" '^[0-9.e-]+$'
assert_match "keyvalue-localhost: resolved" "$(check_field keyvalue-localhost .timings.resolve)" '^[0-9.e-]+$'
assert_match "rows: reason" "$(check_field rows .reason)" '^5 rows, value "1"$'
expect wrong-value fail value '^value "2", expected "1"$'
expect null-value fail value '^value NULL, expected "1"$'
expect no-rows fail value '^no rows, expected value "1"$'
expect wrong-rows fail value '^3 rows, expected 1$'
expect old-server fail value '^server version 15\.[^,]*, expected at least 99$'
expect sql-error fail value 'query failed: relation "no_such_table" does not exist \(SQLSTATE 42P01\)'
expect standby fail value 'standby \(in recovery\), expected a primary'
expect wrong-password error auth "^authentication failed: password authentication failed for user \"$PG_USER\""
expect no-password error auth '^authentication failed'
expect db-missing error connect '^database missing: database "no_such_db" does not exist'
expect starting-up error unavailable '^server starting up or not accepting connections: the database system is not accepting connections \(Hot standby mode is disabled\.\)'
expect down error refused '^server down: Connection refused'
expect down-socket error refused '^server down: No such file or directory'
expect tls-refused error tls '^TLS failed: server does not support SSL'
no_secret "pg json" "$T/out" "$T/err"

# every report format, including the config the text report echoes
for f in text json junit tap markdown; do
	run_verdict run --format "$f" -v --concurrency 4 "$T/pg.json"
	cp "$T/out" "$T/out.$f"
	cp "$T/err" "$T/err.$f"
	no_secret "pg $f" "$T/out.$f" "$T/err.$f"
done
assert_match "junit names the auth failure" "$(cat "$T/out.junit")" 'type="auth"'

# --- too many connections: hold every non-superuser slot ---------------
# max_connections 8, 2 reserved: 6 slots. Seven idle psql sessions (they
# read from a fifo held open) ask for them; once one was turned away the
# server is full. Nothing else may connect meanwhile (a superuser takes
# an ordinary slot while one is free).
mkfifo "$T/hold"
hold_pids=""
for _ in 1 2 3 4 5 6 7; do
	PGPASSWORD=$PG_PASSWORD psql -X -q -h 127.0.0.1 -p "$MAIN_PORT" -U "$PG_USER" -d "$PG_DB" < "$T/hold" > /dev/null 2>&1 &
	hold_pids="$hold_pids $!"
done
exec 9> "$T/hold"
n=200
full=no
while [ $full = no ] && [ $n -gt 0 ]; do
	for p in $hold_pids; do kill -0 "$p" 2>/dev/null || full=yes; done
	sleep 0.05
	n=$((n - 1))
done
assert_eq "7 sessions for 6 slots: one was turned away" "$full" yes
cat > "$T/full.json" <<EOF
{ "name": "full", "checks": [
  { "name": "too-many", "type": "postgres", "dsn": "\${DATABASE_URL}", "timeout": "5s" } ] }
EOF
run_suite "$T/full.json" 5
expect too-many error unavailable '^too many connections: (sorry, too many clients already|remaining connection slots are reserved)'
no_secret "too-many" "$T/out" "$T/err"
exec 9>&-
for p in $hold_pids; do wait "$p" 2>/dev/null || true; done
n=100
while [ "$(pg_super -c "SELECT count(*) FROM pg_stat_activity WHERE usename = '$PG_USER'")" -gt 0 ] && [ $n -gt 0 ]; do
	sleep 0.05
	n=$((n - 1))
done

# --- the deadline: the query is cancelled on the server ----------------
cat > "$T/sleep.json" <<EOF
{ "name": "sleep", "checks": [
  { "name": "sleeper", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "query": "SELECT pg_sleep(30)", "timeout": "1s" } ] }
EOF
run_suite "$T/sleep.json" 3
expect sleeper error timeout '^timeout after 1s'
assert_le "sleeper: duration" "$(check_field sleeper .duration_seconds)" 1.5
n=40
while [ "$(backends_running '%pg_sleep(30)%')" != 0 ] && [ $n -gt 0 ]; do
	sleep 0.05
	n=$((n - 1))
done
assert_eq "sleeper: no backend still runs pg_sleep" "$(backends_running '%pg_sleep(30)%')" 0
assert_match "sleeper: the server logged the cancel" \
	"$(cat "$MAIN_SOCK/log")" 'canceling statement due to user request'

# --- max_body: a result too large is not read to the end ---------------
cat > "$T/big.json" <<EOF
{ "name": "big", "checks": [
  { "name": "big", "type": "postgres", "dsn": "\${DATABASE_URL}", "max_body": "64KiB",
    "query": "SELECT repeat('x', 1000) FROM generate_series(1, 1000000)", "timeout": "10s" } ] }
EOF
run_suite "$T/big.json" 5
expect big error protocol '^result larger than max_body \(65536 bytes\)'
n=40
while [ "$(backends_running '%generate_series(1, 1000000)%')" != 0 ] && [ $n -gt 0 ]; do
	sleep 0.05
	n=$((n - 1))
done
assert_eq "big: no backend still runs the query" "$(backends_running '%generate_series(1, 1000000)%')" 0

# --- a stuck query does not delay other checks -------------------------
# A silent peer for the connect phase: a Redis blocked in DEBUG SLEEP
# accepts TCP connections (the kernel's backlog) and never answers.
start_redis silent
SILENT_PORT=$REDIS_PORT
redis-cli -p "$SILENT_PORT" --no-auth-warning -a "$REDIS_PASSWORD" DEBUG SLEEP 30 > /dev/null 2>&1 &
PIDS="$PIDS $!"
sleep 0.2
cat > "$T/stuck.json" <<EOF
{ "name": "stuck", "checks": [
  { "name": "stuck", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "query": "SELECT pg_sleep(10)", "timeout": "5s" },
  { "name": "silent", "type": "postgres", "timeout": "1s",
    "dsn": "postgres://$PG_USER:\${PG_PASSWORD}@127.0.0.1:$SILENT_PORT/$PG_DB" },
  { "name": "down-retried", "type": "postgres", "retries": 2, "interval": "100ms",
    "dsn": "postgres://$PG_USER:\${PG_PASSWORD}@127.0.0.1:$DOWN_PORT/$PG_DB" },
  { "name": "fast-redis", "type": "redis",
    "url": "redis://:\${REDIS_PASSWORD}@127.0.0.1:$CACHE_PORT/0", "timeout": "5s" },
  { "name": "fast-pg", "type": "postgres", "dsn": "\${DATABASE_URL}", "timeout": "5s" }
] }
EOF
run_suite "$T/stuck.json" 8
expect stuck error timeout '^timeout after 5s'
expect silent error timeout '^timeout after 1s'
assert_le "silent: duration" "$(check_field silent .duration_seconds)" 1.5
expect down-retried error refused '^server down'
assert_eq "down-retried: attempts" "$(check_field down-retried .attempts)" 3
assert_eq "fast-redis: status" "$(check_field fast-redis .status)" pass
assert_eq "fast-pg: status" "$(check_field fast-pg .status)" pass
# not delayed by the stuck ones: done before the first of them timed out
ended_before fast-redis silent
ended_before fast-pg silent
no_secret "stuck" "$T/out" "$T/err"

# --- many attempts in a long-running process: no fd grows, no leak -----
# verdict serve runs every check each 100ms; failures, timeouts with a
# server-side cancel and passes alike must give back what they took.
SERVE_PORT=$(free_port)
cat > "$T/serve.json" <<EOF
{ "name": "serve", "defaults": { "every": "100ms", "timeout": "2s" }, "checks": [
  { "name": "pg-pass", "type": "postgres", "dsn": "\${DATABASE_URL}", "expect": { "primary": true } },
  { "name": "pg-auth", "type": "postgres", "dsn": "postgres://$PG_USER:wrong-Pass-1@127.0.0.1:$MAIN_PORT/$PG_DB" },
  { "name": "pg-down", "type": "postgres", "dsn": "postgres://u:\${PG_PASSWORD}@localhost:$DOWN_PORT/x" },
  { "name": "pg-timeout", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "query": "SELECT pg_sleep(5)", "timeout": "150ms" },
  { "name": "redis-pass", "type": "redis", "url": "redis://:\${REDIS_PASSWORD}@localhost:$CACHE_PORT" },
  { "name": "redis-auth", "type": "redis", "url": "redis://:wrong-Pass-1@127.0.0.1:$CACHE_PORT" },
  { "name": "redis-down", "type": "redis", "url": "redis://127.0.0.1:$DOWN_PORT" },
  { "name": "redis-silent", "type": "redis", "url": "redis://127.0.0.1:$SILENT_PORT", "timeout": "150ms" }
] }
EOF
"$VERDICT" serve -l "127.0.0.1:$SERVE_PORT" "$T/serve.json" > "$T/serve.out" 2> "$T/serve.err" &
SERVE_PID=$!
sleep 1
fd1=$(ls "/proc/$SERVE_PID/fd" | wc -l)
sleep 2
fd2=$(ls "/proc/$SERVE_PID/fd" | wc -l)
curl -s "http://127.0.0.1:$SERVE_PORT/metrics" > "$T/metrics" || true
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || true
echo "serve: open fds after 1s: $fd1, after 3s: $fd2"
assert_le "serve: open fds do not grow" "$fd2" "$((fd1 + 8))"
runs=$(awk '/^verdict_check_runs_total\{/ && /check="pg-timeout"/ { n += $NF } END { print n + 0 }' "$T/metrics")
assert_le "serve: pg-timeout ran many times ($runs)" 10 "$runs"
runs=$(awk '/^verdict_check_runs_total\{/ && /check="redis-silent"/ { n += $NF } END { print n + 0 }' "$T/metrics")
assert_le "serve: redis-silent ran many times ($runs)" 10 "$runs"
if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/serve.err"; then
	head -40 "$T/serve.err" >&2
	fail "serve: sanitizer report"
else
	echo "ok: serve: no sanitizer report (leaks are checked at exit)"
fi
no_secret "serve" "$T/serve.out" "$T/serve.err"
n=60
while [ "$(backends_running '%pg_sleep(5)%')" != 0 ] && [ $n -gt 0 ]; do
	sleep 0.05
	n=$((n - 1))
done
assert_eq "serve: no backend still runs pg_sleep" "$(backends_running '%pg_sleep(5)%')" 0

# --- configuration errors name their place, never the password ---------
bad_dsn() { # LABEL DSN REGEX
	printf '{ "name": "bad", "checks": [ { "name": "b", "type": "postgres", "dsn": %s } ] }\n' \
		"$(jq -Rn --arg d "$2" '$d')" > "$T/bad.json"
	run_verdict run "$T/bad.json"
	assert_eq "$1: exit code" "$RC" 2
	assert_match "$1: message" "$(cat "$T/err")" "$3"
	no_secret "$1" "$T/out" "$T/err"
}
bad_dsn "bad port" "postgres://u:$PG_PASSWORD@127.0.0.1:notaport/db" 'checks\[0\]\.dsn: invalid DSN: the port'
bad_dsn "bad keyvalue" "host=127.0.0.1 $PG_PASSWORD" 'checks\[0\]\.dsn: invalid DSN: missing "=" after "\.\.\."'
bad_dsn "unknown option" "host=127.0.0.1 password=$PG_PASSWORD nosuchoption=1" 'checks\[0\]\.dsn: invalid DSN: invalid connection option "\.\.\."'
bad_dsn "two hosts" "postgres://u:$PG_PASSWORD@h1,h2/db" 'checks\[0\]\.dsn: several hosts'
cat > "$T/bad.json" <<EOF
{ "name": "bad", "checks": [ { "name": "b", "type": "postgres", "dsn": "\${DATABASE_URL}",
  "expect": { "min_server_version": "fifteen" } } ] }
EOF
run_verdict run "$T/bad.json"
assert_eq "bad version: exit code" "$RC" 2
assert_match "bad version: message" "$(cat "$T/err")" 'checks\[0\]\.expect\.min_server_version: expected a version'

finish
