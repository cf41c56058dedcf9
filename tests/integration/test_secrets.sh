# test_secrets.sh - a random canary planted in every place a secret can
# come from (issue 8): a DSN password from the environment, a URL password,
# a bearer token and a basic password from the environment, a secret
# header value holding " and \ (and longer than a reason quotes), a
# ?token= in a URL, a Redis password a real Redis 7 echoes back, a check
# name built from a secret variable; nginx echoes the Authorization,
# X-Api-Key and token it gets back as response headers, so the reasons
# quote them. Then every output is searched for each canary raw,
# JSON-escaped, XML-escaped, in base64 (alone and as Basic user:password)
# and for its first 12 bytes (a value cut short): text, json, junit, tap
# and markdown reports (stdout and -o), -v, $GITHUB_STEP_SUMMARY, stderr,
# `verdict serve`'s /metrics, its stderr, and /probe?debug=true.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

rnd() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
export URL_PASSWORD="urlpw-$(rnd)"
export BEARER_TOKEN="bearer-$(rnd)"
export BASIC_PASSWORD="basicpw-$(rnd)"
# " and \ in the value, and longer than the 80 bytes a reason quotes
export API_KEY="ak-\"q\\$(rnd)-$(rnd)-$(rnd)-$(rnd)-$(rnd)"
QUERY_TOKEN="qtok-$(rnd)"
export PG_PASSWORD="pgpw-$(rnd)"
export NAME_TOKEN="nametok-$(rnd)"
PROBE_TOKEN="probetok-$(rnd)"
start_redis echo
export REDIS_PASSWORD

NP=$(free_port)
DEAD=$(free_port)
nginx_conf "$T/nginx" "server { listen 127.0.0.1:$NP;
	location / {
		add_header X-Echo-Auth \$http_authorization always;
		add_header X-Echo-Key \$http_x_api_key always;
		add_header X-Echo-Token \$arg_token always;
		return 200 \"ok\n\"; } }"
start_nginx "$T/nginx" "$NP"
E=http://127.0.0.1:$NP

CHECKS=$(cat <<EOF
  { "name": "url-password", "type": "http", "url": "http://alice:\${URL_PASSWORD}@127.0.0.1:$NP/a",
    "expect": { "headers": { "X-Echo-Auth": "nope" } } },
  { "name": "bearer", "type": "http", "url": "$E/b",
    "auth": { "type": "bearer", "token_env": "BEARER_TOKEN" },
    "expect": { "headers": { "X-Echo-Auth": "nope" } } },
  { "name": "basic", "type": "http", "url": "$E/c",
    "auth": { "type": "basic", "username": "bob", "password_env": "BASIC_PASSWORD" },
    "expect": { "headers": { "X-Echo-Auth": "nope" } } },
  { "name": "header", "type": "http", "url": "$E/d", "headers": { "X-Api-Key": "\${API_KEY}" },
    "expect": { "headers": { "X-Echo-Key": { "contains": "nope" } } } },
  { "name": "query", "type": "http", "url": "$E/e?page=1&token=$QUERY_TOKEN",
    "expect": { "headers": { "X-Echo-Token": "nope" } } },
  { "name": "dsn", "type": "postgres", "timeout": "3s",
    "dsn": "postgres://app:\${PG_PASSWORD}@127.0.0.1:$DEAD/app" },
  { "name": "redis-echo", "type": "redis", "url": "redis://:\${REDIS_PASSWORD}@127.0.0.1:$REDIS_PORT",
    "command": ["ECHO", "\${REDIS_PASSWORD}"], "expect": { "reply": "nope" } },
  { "name": "named-\${NAME_TOKEN}", "type": "http", "url": "$E/f", "expect": { "status": 204 } }
EOF
)
printf '{ "name": "secrets", "checks": [\n%s\n] }\n' "$CHECKS" > "$T/secrets.json"

SECRETS_ALL="$URL_PASSWORD $BEARER_TOKEN $BASIC_PASSWORD $API_KEY $QUERY_TOKEN $PG_PASSWORD $REDIS_PASSWORD $NAME_TOKEN $PROBE_TOKEN"
# every form of every canary, one fixed string a line
forms() {
	local s
	for s in "$URL_PASSWORD" "$BEARER_TOKEN" "$BASIC_PASSWORD" "$API_KEY" "$QUERY_TOKEN" \
		"$PG_PASSWORD" "$REDIS_PASSWORD" "$NAME_TOKEN" "$PROBE_TOKEN"; do
		printf '%s\n' "$s"
		printf '%s' "$s" | jq -Rr '@json' | sed 's/^"//; s/"$//'
		printf '%s' "$s" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g'"; s/'/\\&apos;/g"
		echo
		printf '%s\n' "${s:0:12}"
		printf '%s' "$s" | base64 -w0
		echo
	done
	printf 'alice:%s' "$URL_PASSWORD" | base64 -w0; echo
	printf 'bob:%s' "$BASIC_PASSWORD" | base64 -w0; echo
}
forms | sort -u > "$T/forms"
# raw, first 12 bytes and base64 of each, the two Basic pairs, and the
# JSON and XML forms of the one with " and \
assert_eq "canary forms" "$(wc -l < "$T/forms")" 31

# no_canary LABEL FILE...: no form of any canary in the files
no_canary() {
	local label=$1
	shift
	if grep -qaF -f "$T/forms" "$@"; then
		grep -aoF -f "$T/forms" "$@" | sort -u | head -5 >&2
		fail "$label: a secret appears in the output"
	else
		echo "ok: $label: no secret in any form"
	fi
}

# --- the reasons quote what the target echoed, masked -----------------------
run_suite "$T/secrets.json" 10
assert_eq "exit code" "$RC" 1
expect url-password fail header '^header X-Echo-Auth: got "Basic \*\*\*", expected "nope"$'
expect bearer fail header '^header X-Echo-Auth: got "\*\*\*", expected "nope"$'
expect basic fail header '^header X-Echo-Auth: got "Basic \*\*\*", expected "nope"$'
expect header fail header '^header X-Echo-Key: got "\*\*\*", expected it to contain "nope"$'
expect query fail header '^header X-Echo-Token: got "\*\*\*", expected "nope"$'
expect redis-echo fail value '^ECHO: reply "\*\*\*", expected "nope"$'
assert_eq "url-password: target" "$(check_field url-password .target)" "http://alice:***@127.0.0.1:$NP/a"
assert_eq "query: target" "$(check_field query .target)" "$E/e?page=1&token=***"
assert_eq "dsn: target" "$(check_field dsn .status)" error
assert_eq "named: name" "$(jq -r '.checks[7].name' < "$T/out")" 'named-***'
no_canary "json" "$T/out" "$T/err"

for f in text json junit tap markdown; do
	GITHUB_STEP_SUMMARY=$T/summary-$f.md run_verdict run --format "$f" -v -o "$T/report.$f" "$T/secrets.json"
	assert_eq "$f: exit code" "$RC" 1
	assert_match "$f: the report names the checks" "$(cat "$T/out")" 'url-password'
	no_canary "$f -v (stdout, stderr, -o, step summary)" "$T/out" "$T/err" "$T/report.$f" "$T/summary-$f.md"
done
run_verdict run --format text "$T/secrets.json"
no_canary "text" "$T/out" "$T/err"
run_verdict validate "$T/secrets.json"
assert_eq "validate: exit code" "$RC" 0
no_canary "validate" "$T/out" "$T/err"

# --- serve: /metrics, its log, /probe?debug=true ------------------------------
printf '{ "name": "secrets", "serve": { "every": "300ms" },
  "modules": { "echo": { "check": { "type": "http", "timeout": "3s",
      "headers": { "X-Api-Key": "${API_KEY}" },
      "expect": { "headers": { "X-Echo-Key": "nope" } } }, "allow": ["127.0.0.1"] } },
  "checks": [\n%s\n] }\n' "$CHECKS" > "$T/serve.json"
serve_start "$T/serve.json"
for _ in $(seq 100); do
	curl -sf "$V/metrics" > "$T/metrics.txt" || true
	grep -q '^verdict_check_runs_total{check="redis-echo".*result="fail"} [1-9]' "$T/metrics.txt" && break
	sleep 0.1
done
assert_match "serve: redis-echo ran" "$(cat "$T/metrics.txt")" 'verdict_check_runs_total\{check="redis-echo"'
assert_match "serve: the named check has its label, masked" "$(cat "$T/metrics.txt")" 'check="named-\*\*\*"'
curl -s -G --data-urlencode module=echo --data-urlencode debug=true \
	--data-urlencode "target=http://127.0.0.1:$NP/p?token=$PROBE_TOKEN" "$V/probe" > "$T/debug.txt"
assert_match "probe debug: the reason" "$(cat "$T/debug.txt")" 'got \\?"\*\*\*\\?"'
assert_match "probe debug: the module" "$(cat "$T/debug.txt")" '"X-Api-Key":[[:space:]]+"\*\*\*"'
curl -s -G --data-urlencode module=echo --data-urlencode "target=http://127.0.0.1:$NP/p?token=$PROBE_TOKEN" \
	"$V/probe" > "$T/probe.txt"
serve_stop
no_canary "serve /metrics" "$T/metrics.txt"
no_canary "serve /probe?debug=true" "$T/debug.txt" "$T/probe.txt"
no_canary "serve stdout and stderr" "$T/serve.out" "$T/serve.err"
: "$SECRETS_ALL"

finish
