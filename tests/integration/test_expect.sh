# test_expect.sh - assertion operators wherever a value is expected, against
# real servers: JSON paths of an http body (faultd's health document),
# including "*" paths, any/all/length and durations compared as numbers;
# a PostgreSQL value (real PostgreSQL 15) and a Redis reply (real Redis 7).
# Each failure's reason says what was found, at the concrete path.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

start_faultd
start_postgres main
start_redis cache
redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning \
	RPUSH jobs a b c > /dev/null
export DATABASE_URL="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
export REDIS_PASSWORD
# faultd's /json: {"status":"ok","version":"1.4.2","uptime":12.5,
# "checks":{"db":true,"cache":"ok","queue":null},
# "items":[{"id":1,"name":"a"},{"id":2,"name":"b"}]}
cat > "$T/ops.json" << EOF
{ "name": "ops", "defaults": { "timeout": "5s" }, "checks": [
  { "name": "health", "type": "http", "url": "$F/json",
    "expect": { "json": {
      "status": { "one_of": ["ok", "degraded"] },
      "version": { "regex": "^1\\\\.[0-9]+\\\\.[0-9]+\$" },
      "uptime": { "gt": 0, "lt": "1m" },
      "checks.queue": { "exists": true, "type": "null" },
      "checks.missing": { "exists": false },
      "items": { "length": { "ge": 1 }, "any": { "equals": { "id": 2, "name": "b" } } },
      "items.*.id": { "type": "number", "gt": 0 },
      "items.*.name": { "length": 1 } } } },
  { "name": "all-fail", "type": "http", "url": "$F/json",
    "expect": { "json": { "items.*.id": { "lt": 2 } } } },
  { "name": "any-fail", "type": "http", "url": "$F/json",
    "expect": { "json": { "items": { "any": { "equals": { "id": 3 } } } } } },
  { "name": "length-fail", "type": "http", "url": "$F/json",
    "expect": { "json": { "items": { "length": { "ge": 5 } } } } },
  { "name": "star-missing", "type": "http", "url": "$F/json",
    "expect": { "json": { "items.*.price": { "gt": 0 } } } },
  { "name": "not-fail", "type": "http", "url": "$F/json",
    "expect": { "json": { "status": { "not": "ok" } } } },
  { "name": "pg-ops", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "query": "SELECT 42", "expect": { "value": { "gt": 40, "le": 42 } } },
  { "name": "pg-ops-fail", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "query": "SELECT 'v2.0'", "expect": { "value": { "regex": "^v1\\\\." } } },
  { "name": "pg-null", "type": "postgres", "dsn": "\${DATABASE_URL}",
    "query": "SELECT NULL", "expect": { "value": { "type": "null" } } },
  { "name": "redis-len", "type": "redis",
    "url": "redis://:\${REDIS_PASSWORD}@127.0.0.1:$REDIS_PORT/0",
    "command": ["LLEN", "jobs"], "expect": { "reply": { "ge": 1, "lt": 100 } } },
  { "name": "redis-list", "type": "redis",
    "url": "redis://:\${REDIS_PASSWORD}@127.0.0.1:$REDIS_PORT/0",
    "command": ["LRANGE", "jobs", "0", "-1"], "expect": { "reply": { "contains": "b", "length": 3 } } },
  { "name": "redis-fail", "type": "redis",
    "url": "redis://:\${REDIS_PASSWORD}@127.0.0.1:$REDIS_PORT/0",
    "command": ["LLEN", "jobs"], "expect": { "reply": { "gt": 10 } } }
] }
EOF
run_verdict run --format json "$T/ops.json"
assert_eq "ops: exit code" "$RC" 1
expect health pass '^status 200$'
expect all-fail fail body '^json items\.1\.id: 2 is not < 2$'
expect any-fail fail body '^json items: no element of 2 satisfies it \(got \{"id":2,"name":"b"\}, expected \{"id":3\}\)$'
expect length-fail fail body '^json items: length: 2 is not >= 5$'
expect star-missing fail body '^json items\.\*\.price: missing \(no values\)$'
expect not-fail fail body '^json status: got "ok", expected anything else$'
expect pg-ops pass '^1 row, value "42"$'
expect pg-ops-fail fail value '^value: "v2\.0" does not match /\^v1\\\\\./$'
expect pg-null pass '^1 row, value NULL$'
expect redis-len pass '^LLEN: \(integer\) 3$'
expect redis-list pass '^LRANGE: \(array of 3\)$'
expect redis-fail fail value '^LLEN: reply 3 is not > 10$'

# operators are checked at load, each error naming its place
bad_conf "unknown operator" "{ \"name\": \"x\", \"type\": \"http\", \"url\": \"$F/json\", \"expect\": { \"json\": { \"a\": { \"bigger\": 1 } } } }" \
	'checks\[0\]\.expect\.json\.a\.bigger: unknown operator'
bad_conf "pg operator" '{ "name": "x", "type": "postgres", "dsn": "postgres://u@h/d", "expect": { "value": { "gt": "soon" } } }' \
	'checks\[0\]\.expect\.value\.gt: expected a number, a duration'
bad_conf "redis operator" '{ "name": "x", "type": "redis", "url": "redis://h", "expect": { "reply": { "one_of": 3 } } }' \
	'checks\[0\]\.expect\.reply\.one_of: expected a non-empty list'

finish
