# test_init.sh - `verdict init URL [FILE]` against real nginx: over https
# with the test CA (a JSON health endpoint at /healthz, a 404 at /health,
# some security headers) and over http (an HTML page at /health that is
# no JSON health, a JSON one without "status" at /api/health/). The
# written suite keeps only what passes, says what each check guards,
# passes `verdict validate` and `verdict run`, and fails once the health
# endpoint does; an existing file is never overwritten; nothing is written
# when nothing answers.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

C=$T/certs
sh "$here/certs.sh" "$C"
read -r HP HS DEAD <<< "$(ports 3)"
nginx_conf "$T/ng" "
	server_tokens off;
	server {
		listen 127.0.0.1:$HS ssl;
		ssl_certificate $C/good.pem; ssl_certificate_key $C/good.key;
		location = / {
			add_header X-Content-Type-Options nosniff always;
			add_header X-Frame-Options DENY always;
			add_header Referrer-Policy no-referrer always;
			default_type text/html; return 200 '<html>app</html>'; }
		location = /healthz {
			default_type application/json;
			if (-f $T/down) { return 503 '{\"status\": \"down\"}'; }
			return 200 '{\"status\": \"ok\", \"db\": true}'; }
	}
	server {
		listen 127.0.0.1:$HP;
		location = / { default_type text/html; return 200 '<html>app</html>'; }
		location = /health { default_type text/html; return 200 '<html>healthy</html>'; }
		location = /api/health/ {
			default_type application/json;
			if (-f $T/spring) { return 200 '{\"status\": \"UP\"}'; }
			return 200 '{\"healthy\": true}'; }
	}"
start_nginx "$T/ng" "$HP" "$HS"

# --- https with the test CA
S=$T/site.json
run_verdict init --ca-file "$C/ca.pem" "https://127.0.0.1:$HS/" "$S"
assert_eq "https: exit code" "$RC" 0
assert_clean_stderr "https"
assert_eq "https: nothing on stdout" "$(cat "$T/out")" ""
assert_match "https: says what it wrote" "$(cat "$T/err")" \
	"wrote $S: 4 checks \(health, home, tls, security-headers-present\)"
assert_match "https: says why the full header profile was left out" "$(cat "$T/err")" \
	'not kept: security-headers: 2 findings: missing Strict-Transport-Security; missing Content-Security-Policy'
assert_eq "https: the checks, health first" "$(jq -r '[.checks[].name] | join(",")' "$S")" \
	"health,home,tls,security-headers-present"
assert_eq "https: every check says what it guards" \
	"$(jq '[.checks[] | select((.description // "") | length > 20)] | length' "$S")" 4
assert_eq "health: /healthz, not the 404 at /health" "$(jq -r '.checks[0].url' "$S")" \
	"https://127.0.0.1:$HS/healthz"
assert_eq "health: its own stage" "$(jq -r '.checks[0].stage' "$S")" health
assert_eq "health: the JSON status is expected" "$(jq -r '.checks[0].expect.json.status' "$S")" ok
assert_eq "health: a JSON content type is expected" \
	"$(jq -r '.checks[0].expect.headers["Content-Type"].contains' "$S")" json
assert_match "home: a response time limit" "$(jq -r '.checks[1].expect.max_time' "$S")" '^[0-9]+s$'
assert_eq "tls: the host and port" "$(jq -r '.checks[2] | "\(.host):\(.port)"' "$S")" "127.0.0.1:$HS"
assert_eq "tls: the CA as an absolute path" "$(jq -r '.checks[2].tls.ca_file' "$S")" "$C/ca.pem"
assert_eq "tls: 14 days at least" "$(jq -r '.checks[2].expect.min_days_left' "$S")" 14
assert_eq "headers: the three sent today" \
	"$(jq -r '.checks[3].expect.headers | keys | sort | join(",")' "$S")" \
	"Referrer-Policy,X-Content-Type-Options,X-Frame-Options"
run_verdict validate "$S"
assert_eq "https: the suite validates" "$RC" 0
assert_eq "https: the editors' schema accepts it" "$(python3 - "$here/../../suites/suite.schema.json" "$S" << 'PY'
import json, sys, jsonschema
errs = list(jsonschema.Draft7Validator(json.load(open(sys.argv[1]))).iter_errors(json.load(open(sys.argv[2]))))
print(errs[0].message if errs else "ok")
PY
)" ok
run_verdict run --format json "$S"
assert_eq "https: the suite passes" "$RC" 0
assert_eq "https: every check ran and passed" "$(jq_out '.counts.pass')" 4

# the suite is a gate: a failing health endpoint fails it
touch "$T/down"
run_verdict run --format json "$S"
assert_eq "down: the suite fails" "$RC" 1
assert_eq "down: health fails, the rest is skipped" "$(statuses health home tls)" \
	"health=fail home=skipped tls=skipped "
rm -f "$T/down"

# --- never overwritten
sum=$(md5sum < "$S")
run_verdict init --ca-file "$C/ca.pem" "https://127.0.0.1:$HS/" "$S"
assert_eq "exists: exit code" "$RC" 2
assert_match "exists: message" "$(cat "$T/err")" "^verdict: init: $S exists; not overwritten"
assert_eq "exists: the file is unchanged" "$(md5sum < "$S")" "$sum"

run_verdict init "http://127.0.0.1:$HP/" "$T/no/such/folder/s.json"
assert_eq "no folder: exit code, before probing" "$RC" 2
assert_eq "no folder: says so" "$(cat "$T/err")" "verdict: init: $T/no/such/folder/s.json: No such file or directory"

# --- https without the CA: nothing verifies, nothing is written
run_verdict init "https://127.0.0.1:$HS/" "$T/untrusted.json"
assert_eq "untrusted: exit code" "$RC" 1
assert_match "untrusted: why" "$(cat "$T/err")" 'not kept: home: .*(certificate|issuer)'
assert_match "untrusted: says so" "$(cat "$T/err")" 'nothing at the URL passed; no suite written'
assert_eq "untrusted: no file" "$(ls "$T/untrusted.json" 2> /dev/null || true)" ""

# --- http to stdout: an HTML page at /health is not JSON health; a JSON
# body without "status" is kept without expecting one; a '$' in the URL
# stays a '$'
run_verdict init "http://127.0.0.1:$HP/?v=\$HOME" -
assert_eq "http: exit code" "$RC" 0
assert_clean_stderr "http"
assert_eq "http: the checks" "$(jq_out '[.checks[].name] | join(",")')" "health,home"
assert_eq "http: health at /api/health/" "$(jq_out '.checks[0].url')" "http://127.0.0.1:$HP/api/health/"
assert_eq "http: no status expected" "$(jq_out '.checks[0].expect.json')" null
assert_eq "http: no tls check" "$(jq_out '[.checks[] | select(.type == "tls")] | length')" 0
assert_eq "http: the dollar is escaped" "$(jq_out '.checks[1].url')" "http://127.0.0.1:$HP/?v=\$\$HOME"
cp "$T/out" "$T/http.json"
run_verdict run --format json "$T/http.json"
assert_eq "http: the suite passes" "$RC" 0
assert_eq "http: the URL probed is the one given" "$(check_field home .target)" "http://127.0.0.1:$HP/?v=\$HOME"

# a "status" other than "ok" that says up is expected as it is
touch "$T/spring"
run_verdict init "http://127.0.0.1:$HP/" -
assert_eq "UP: exit code" "$RC" 0
assert_eq "UP: the status expected" "$(jq_out '.checks[0].expect.json.status')" UP
assert_match "UP: the description says it" "$(jq_out '.checks[0].description')" 'whose "status" is "UP"'
cp "$T/out" "$T/up.json"
run_verdict run --format json "$T/up.json"
assert_eq "UP: the suite passes" "$RC" 0
rm -f "$T/spring"
run_verdict run --format json "$T/up.json"
assert_eq "UP: ... and fails when the status goes" "$(check_field health .status)" fail

# --- nothing there
run_verdict init "http://127.0.0.1:$DEAD/" "$T/dead.json"
assert_eq "dead: exit code" "$RC" 1
assert_match "dead: why" "$(cat "$T/err")" 'not kept: home: connection refused'
assert_eq "dead: no file" "$(ls "$T/dead.json" 2> /dev/null || true)" ""

# --- stopped by SIGINT while a check hangs: 130, nothing written
start_faultd
"$VERDICT" init "$F/hang" "$T/hang.json" > /dev/null 2> "$T/err" &
pid=$!
for _ in $(seq 1 100); do # until the checks are connected to faultd
	ss -Htn state established "dport = :$FP" | grep -q . && break
	sleep 0.1
done
kill -INT "$pid"
set +e
wait "$pid"
RC=$?
set -e
assert_eq "SIGINT: exit code" "$RC" 130
assert_match "SIGINT: says so" "$(cat "$T/err")" 'init: stopped by Interrupt; nothing written'
assert_eq "SIGINT: no file" "$(ls "$T/hang.json" 2> /dev/null || true)" ""
assert_clean_stderr "SIGINT"

# --- usage
run_verdict init
assert_eq "no URL: exit code" "$RC" 2
run_verdict init ftp://127.0.0.1/ -
assert_eq "ftp: exit code" "$RC" 2
assert_match "ftp: message" "$(cat "$T/err")" 'URL: scheme must be http or https'
run_verdict init "https://admin:initsecret42@127.0.0.1:$HS/" -
assert_eq "password in URL: exit code" "$RC" 2
assert_match "password in URL: message" "$(cat "$T/err")" 'no user or password in the URL'
assert_eq "password in URL: never echoed" "$(grep -c initsecret42 "$T/err" || true)" 0
run_verdict init "http://127.0.0.1:$HP/?v=1&access_token=initsecret43" -
assert_eq "token in URL: exit code" "$RC" 2
assert_match "token in URL: message" "$(cat "$T/err")" 'query parameter "access_token" looks like a secret'
assert_eq "token in URL: never echoed" "$(grep -c initsecret43 "$T/err" || true)" 0
run_verdict init --timeout soon "http://127.0.0.1:$HP/" -
assert_eq "bad timeout: exit code" "$RC" 2
run_verdict init --help
assert_eq "help: exit code" "$RC" 0
assert_match "help: usage" "$(cat "$T/out")" '^usage: verdict init \[options\] URL \[FILE\]'

finish
