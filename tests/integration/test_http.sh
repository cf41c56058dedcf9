# test_http.sh - the http check against a real nginx (HTTP and HTTPS with
# certificates from certs.sh) and, where nginx cannot echo a request,
# faultd: status, body, JSON, header expectations, max_time, method,
# headers and body, HEAD, redirects, TLS verification (valid, expired,
# wrong host, self-signed, verify off), client certificates, basic and
# bearer auth from the environment, max_body. Each case asserts the
# status, the reason and that the deadline held.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

read -r HP GOOD EXPIRED WRONG SELF MTLS FP <<< "$(ports 7)"
C=$T/certs
sh "$here/certs.sh" "$C"

W=$T/www
mkdir -p "$W/private"
echo "secret area" > "$W/private/index.txt"
head -c 3000000 /dev/zero > "$W/big.bin"
BASIC_PW='b4sic-Pa55'
BEARER='t0ken-XYZ-123'
printf 'alice:%s\n' "$(openssl passwd -apr1 "$BASIC_PW")" > "$T/htpasswd"
HEALTH='{"status":"ok","checks":{"db":true,"cache":"ok"},"items":[{"id":1},{"id":2,"tags":["a","b"]}],"version":"1.2.3","count":3}'

tls_server() { # PORT CERT [EXTRA]
	echo "server { listen 127.0.0.1:$1 ssl; ssl_certificate $C/$2.pem;
		ssl_certificate_key $C/$2.key; ${3:-}
		location / { default_type text/plain; return 200 'tls ok'; } }"
}
nginx_conf "$T/nginx" "
server {
	listen 127.0.0.1:$HP;
	root $W;
	default_type text/plain;
	location = /text { return 200 'hello verdict\n'; }
	location = /teapot { return 418 'short and stout'; }
	location = /health { default_type application/json; return 200 '$HEALTH'; }
	location = /hdrs {
		add_header X-Frame-Options DENY;
		add_header Cache-Control 'no-store, max-age=0';
		add_header X-Version 1.2.3;
		return 200 'ok';
	}
	location = /method { return 200 'method=\$request_method x-test=\$http_x_test\n'; }
	location = /moved { return 302 /text; }
	location = /loop { return 302 /loop; }
	location = /ping { return 302 /pong; }
	location = /pong { return 302 /ping; }
	location = /chain1 { return 302 /chain2; }
	location = /chain2 { return 302 /chain3; }
	location = /chain3 { return 302 /text; }
	location /private/ { auth_basic 'verdict'; auth_basic_user_file $T/htpasswd; }
	location = /api {
		if (\$http_authorization != 'Bearer $BEARER') { return 401 'no token'; }
		return 200 'token ok';
	}
}
$(tls_server "$GOOD" good)
$(tls_server "$EXPIRED" expired)
$(tls_server "$WRONG" wronghost)
$(tls_server "$SELF" self)
$(tls_server "$MTLS" good "ssl_verify_client on; ssl_client_certificate $C/ca.pem;")
"
if ! start_nginx "$T/nginx" "$HP" "$GOOD" "$EXPIRED" "$WRONG" "$SELF" "$MTLS"; then
	cat "$T/nginx/error.log" "$T/nginx/stdout.log" >&2
	exit 1
fi
start_faultd "$FP"
H=http://127.0.0.1:$HP

# http_suite FILE MAX_SECONDS: run_suite (lib.sh; variables for verdict's
# environment go before the call), and no check outlived its timeout by
# more than 1s.
http_suite() {
	run_suite "$@"
	assert_eq "$(basename "$1"): deadlines held" \
		"$(jq '[.checks[] | select(.duration_seconds > 6)] | length' < "$T/out")" 0
}

# --- status, body, JSON, headers, max_time, method/body, HEAD, redirects
cat > "$T/http.json" <<EOF
{ "name": "http", "defaults": { "timeout": "5s" }, "checks": [
  { "name": "status-200", "type": "http", "url": "$H/text", "expect": { "status": 200 } },
  { "name": "status-list", "type": "http", "url": "$H/teapot", "expect": { "status": [200, 418] } },
  { "name": "status-class", "type": "http", "url": "$H/text", "expect": { "status": "2xx" } },
  { "name": "status-class-list", "type": "http", "url": "$H/teapot", "expect": { "status": ["2xx", "4xx"] } },
  { "name": "status-class-fail", "type": "http", "url": "$H/missing", "expect": { "status": "2xx" } },
  { "name": "status-default-fail", "type": "http", "url": "$H/teapot" },
  { "name": "status-list-fail", "type": "http", "url": "$H/teapot", "expect": { "status": [200, 204] } },
  { "name": "status-404-wanted", "type": "http", "url": "$H/missing", "expect": { "status": 404 } },

  { "name": "body-contains", "type": "http", "url": "$H/text", "expect": { "body_contains": "hello verdict" } },
  { "name": "body-contains-all", "type": "http", "url": "$H/text", "expect": { "body_contains": ["hello", "verdict"] } },
  { "name": "body-contains-fail", "type": "http", "url": "$H/text", "expect": { "body_contains": ["hello", "goodbye"] } },
  { "name": "body-regex", "type": "http", "url": "$H/text", "expect": { "body_regex": "^hello [a-z]+" } },
  { "name": "body-regex-fail", "type": "http", "url": "$H/text", "expect": { "body_regex": "^goodbye" } },

  { "name": "json", "type": "http", "url": "$H/health",
    "expect": { "json": { "status": "ok", "checks.db": true, "checks.cache": "ok", "items.0.id": 1,
                          "items.1.tags.1": "b", "count": 3, "version": "1.2.3" } } },
  { "name": "json-mismatch", "type": "http", "url": "$H/health", "expect": { "json": { "checks.db": false } } },
  { "name": "json-number", "type": "http", "url": "$H/health", "expect": { "json": { "count": 4 } } },
  { "name": "json-missing", "type": "http", "url": "$H/health", "expect": { "json": { "checks.redis": true } } },
  { "name": "json-array-missing", "type": "http", "url": "$H/health", "expect": { "json": { "items.5.id": 1 } } },
  { "name": "json-not-json", "type": "http", "url": "$H/text", "expect": { "json": { "status": "ok" } } },

  { "name": "hdr-present", "type": "http", "url": "$H/hdrs", "expect": { "headers": { "X-Version": true } } },
  { "name": "hdr-absent", "type": "http", "url": "$H/hdrs", "expect": { "headers": { "X-Powered-By": false } } },
  { "name": "hdr-absent-fail", "type": "http", "url": "$H/hdrs", "expect": { "headers": { "X-Frame-Options": false } } },
  { "name": "hdr-equal", "type": "http", "url": "$H/hdrs", "expect": { "headers": { "x-frame-options": "DENY" } } },
  { "name": "hdr-equal-fail", "type": "http", "url": "$H/hdrs", "expect": { "headers": { "X-Version": "2.0.0" } } },
  { "name": "hdr-regex", "type": "http", "url": "$H/hdrs", "expect": { "headers": { "Cache-Control": { "regex": "max-age=[0-9]+" } } } },
  { "name": "hdr-regex-fail", "type": "http", "url": "$H/hdrs", "expect": { "headers": { "X-Version": { "regex": "^2[.]" } } } },
  { "name": "hdr-contains", "type": "http", "url": "$H/hdrs", "expect": { "headers": { "Cache-Control": { "contains": "no-store" } } } },
  { "name": "hdr-contains-fail", "type": "http", "url": "$H/hdrs", "expect": { "headers": { "Cache-Control": { "contains": "public" } } } },
  { "name": "hdr-missing", "type": "http", "url": "$H/hdrs", "expect": { "headers": { "X-Nope": true } } },

  { "name": "max-time", "type": "http", "url": "$H/text", "expect": { "max_time": "2s" } },
  { "name": "max-time-fail", "type": "http", "url": "$F/delay?ms=400", "expect": { "max_time": "100ms" } },

  { "name": "method-nginx", "type": "http", "url": "$H/method", "method": "DELETE",
    "headers": { "X-Test": "yes" }, "expect": { "body_contains": "method=DELETE x-test=yes" } },
  { "name": "post-json", "type": "http", "url": "$F/echo", "method": "POST",
    "headers": { "Content-Type": "application/json", "X-Test": "abc" }, "body": { "a": 1, "b": [true] },
    "expect": { "headers": { "X-Method": "POST" },
                "body_contains": ["POST /echo", "X-Test: abc", "Content-Type: application/json", "{\"a\":1,\"b\":[true]}"] } },
  { "name": "put-text", "type": "http", "url": "$F/echo", "method": "PUT", "body": "raw text",
    "expect": { "headers": { "X-Method": "PUT" }, "body_contains": "raw text" } },
  { "name": "get-default", "type": "http", "url": "$F/echo",
    "expect": { "headers": { "X-Method": "GET" }, "body_contains": "User-Agent: verdict/" } },
  { "name": "head", "type": "http", "url": "$F/echo", "method": "HEAD", "expect": { "headers": { "X-Method": "HEAD" } } },
  { "name": "head-big", "type": "http", "url": "$H/big.bin", "method": "HEAD", "max_body": "1KiB" },

  { "name": "redir-follow", "type": "http", "url": "$H/moved", "expect": { "body_contains": "hello" } },
  { "name": "redir-chain", "type": "http", "url": "$H/chain1", "max_redirects": 3, "expect": { "body_contains": "hello" } },
  { "name": "redir-off", "type": "http", "url": "$H/moved", "follow_redirects": false,
    "expect": { "status": 302, "headers": { "Location": { "regex": "/text$" } } } },
  { "name": "redir-off-fail", "type": "http", "url": "$H/moved", "follow_redirects": false },
  { "name": "redir-too-many", "type": "http", "url": "$H/chain1", "max_redirects": 2 },
  { "name": "redir-loop", "type": "http", "url": "$H/loop" },
  { "name": "redir-loop-2", "type": "http", "url": "$H/ping" },

  { "name": "max-body", "type": "http", "url": "$H/big.bin", "max_body": "100KiB" },
  { "name": "max-body-fail", "type": "http", "url": "$H/big.bin", "max_body": "100KiB",
    "expect": { "body_contains": "needle" } }
] }
EOF
http_suite "$T/http.json" 5
assert_eq "http: exit code" "$RC" 1
for n in status-200 status-list status-class status-class-list status-404-wanted; do
	expect "$n" pass '^status [0-9]{3}$'
done
assert_eq "status-200: http_status fact" "$(check_field status-200 .facts.http_status)" 200
expect status-class-fail fail '^status 404, expected 2xx$'
expect status-default-fail fail '^status 418, expected 2xx$'
expect status-list-fail fail '^status 418, expected 200 or 204$'
expect body-contains pass '^status 200$'
expect body-contains-all pass '^status 200$'
expect body-contains-fail fail '^body does not contain "goodbye"$'
expect body-regex pass '^status 200$'
expect body-regex-fail fail '^body does not match /\^goodbye/$'
expect json pass '^status 200$'
expect json-mismatch fail '^json checks\.db: got true, expected false$'
expect json-number fail '^json count: got 3, expected 4$'
expect json-missing fail '^json checks\.redis: missing$'
expect json-array-missing fail '^json items\.5\.id: missing$'
expect json-not-json fail '^body is not valid JSON$'
assert_eq "json-mismatch: reason_kind" "$(check_field json-mismatch .reason_kind)" body
for n in hdr-present hdr-absent hdr-equal hdr-regex hdr-contains; do
	expect "$n" pass '^status 200$'
done
expect hdr-absent-fail fail '^header X-Frame-Options: present, expected absent$'
expect hdr-equal-fail fail '^header X-Version: got "1\.2\.3", expected "2\.0\.0"$'
expect hdr-regex-fail fail '^header X-Version: got "1\.2\.3", expected a match for /\^2\[\.\]/$'
expect hdr-contains-fail fail '^header Cache-Control: got "no-store, max-age=0", expected it to contain "public"$'
expect hdr-missing fail '^header X-Nope: missing$'
assert_eq "hdr-missing: reason_kind" "$(check_field hdr-missing .reason_kind)" header
expect max-time pass '^status 200$'
expect max-time-fail fail '^took [0-9.]+m?s, max_time 100ms$'
assert_eq "max-time-fail: reason_kind" "$(check_field max-time-fail .reason_kind)" slow
for n in method-nginx post-json put-text get-default head; do
	expect "$n" pass '^status 200$'
done
expect head-big pass '^status 200$'
assert_eq "head-big: no body read" "$(check_field head-big '.facts.body_truncated // "none"')" none
expect redir-follow pass '^status 200$'
assert_eq "redir-follow: redirects" "$(check_field redir-follow .facts.http_redirects)" 1
expect redir-chain pass '^status 200$'
assert_eq "redir-chain: redirects" "$(check_field redir-chain .facts.http_redirects)" 3
expect redir-off pass '^status 302$'
expect redir-off-fail fail '^status 302, expected 2xx$'
expect redir-too-many fail '^too many redirects: more than 2'
expect redir-loop fail '^redirect loop: http://127\.0\.0\.1:[0-9]+/loop redirects to itself$'
expect redir-loop-2 fail '^redirect loop: http://127\.0\.0\.1:[0-9]+/p[io]ng redirects back to http://127\.0\.0\.1:[0-9]+/p[io]ng$'
assert_eq "redir-loop: reason_kind" "$(check_field redir-loop .reason_kind)" redirect
expect max-body pass '^status 200, body truncated at max_body$'
assert_eq "max-body: body_truncated" "$(check_field max-body .facts.body_truncated)" true
expect max-body-fail fail '^body does not contain "needle" \(read stopped at max_body\)$'

# --- TLS
cat > "$T/tls.json" <<EOF
{ "name": "tls", "defaults": { "timeout": "5s" }, "checks": [
  { "name": "tls-valid", "type": "http", "url": "https://127.0.0.1:$GOOD/", "tls": { "ca_file": "$C/ca.pem" },
    "expect": { "body_contains": "tls ok" } },
  { "name": "tls-valid-dns", "type": "http", "url": "https://localhost:$GOOD/", "tls": { "ca_file": "$C/ca.pem" } },
  { "name": "tls-unknown-ca", "type": "http", "url": "https://127.0.0.1:$GOOD/" },
  { "name": "tls-expired", "type": "http", "url": "https://127.0.0.1:$EXPIRED/", "tls": { "ca_file": "$C/ca.pem" } },
  { "name": "tls-wrong-host", "type": "http", "url": "https://127.0.0.1:$WRONG/", "tls": { "ca_file": "$C/ca.pem" } },
  { "name": "tls-server-name", "type": "http", "url": "https://127.0.0.1:$WRONG/",
    "tls": { "ca_file": "$C/ca.pem", "server_name": "wrong.example.com" }, "expect": { "body_contains": "tls ok" } },
  { "name": "tls-server-name-wrong", "type": "http", "url": "https://127.0.0.1:$GOOD/",
    "tls": { "ca_file": "$C/ca.pem", "server_name": "wrong.example.com" } },
  { "name": "tls-self-signed", "type": "http", "url": "https://127.0.0.1:$SELF/", "tls": { "ca_file": "$C/ca.pem" } },
  { "name": "tls-noverify-self", "type": "http", "url": "https://127.0.0.1:$SELF/", "tls": { "verify": false } },
  { "name": "tls-noverify-expired", "type": "http", "url": "https://127.0.0.1:$EXPIRED/", "tls": { "verify": false } },
  { "name": "mtls-no-cert", "type": "http", "url": "https://127.0.0.1:$MTLS/", "tls": { "ca_file": "$C/ca.pem" } },
  { "name": "mtls-cert", "type": "http", "url": "https://127.0.0.1:$MTLS/",
    "tls": { "ca_file": "$C/ca.pem", "cert_file": "$C/client.pem", "key_file": "$C/client.key" },
    "expect": { "body_contains": "tls ok" } },
  { "name": "mtls-untrusted-cert", "type": "http", "url": "https://127.0.0.1:$MTLS/",
    "tls": { "ca_file": "$C/ca.pem", "cert_file": "$C/self.pem", "key_file": "$C/self.key" } },
  { "name": "tls-missing-ca-file", "type": "http", "url": "https://127.0.0.1:$GOOD/", "tls": { "ca_file": "$T/nonexistent.pem" } }
] }
EOF
http_suite "$T/tls.json" 5
assert_eq "tls: exit code" "$RC" 1
expect tls-valid pass '^status 200$'
expect tls-valid-dns pass '^status 200$'
assert_eq "tls-valid: tls timing" "$(check_field tls-valid '.timings.tls > 0')" true
expect tls-unknown-ca error 'unable to get local issuer certificate'
expect tls-expired error 'certificate has expired'
expect tls-wrong-host error "certificate subject name .*does not match|no alternative certificate subject name matches target host name '127\.0\.0\.1'"
expect tls-self-signed error 'self-signed certificate'
# tls.server_name: the name sent (SNI) and verified, while connecting to
# the URL's address
expect tls-server-name pass '^status 200$'
expect tls-server-name-wrong error "no alternative certificate subject name matches target host name 'wrong\.example\.com'"
for n in tls-unknown-ca tls-expired tls-wrong-host tls-self-signed; do
	assert_eq "$n: reason_kind" "$(check_field "$n" .reason_kind)" tls
	assert_eq "$n: tls_verify fact" "$(check_field "$n" .facts.tls_verify)" false
done
expect tls-noverify-self pass '^status 200$'
expect tls-noverify-expired pass '^status 200$'
assert_eq "tls-noverify-self: tls_verify reported" "$(check_field tls-noverify-self .facts.tls_verify)" false
assert_eq "tls-valid: tls_verify reported" "$(check_field tls-valid .facts.tls_verify)" true
# nginx answers 400 when ssl_verify_client fails (it does not abort the
# handshake), so these are failures with the status as the reason.
expect mtls-no-cert fail '^status 400, expected 2xx$'
expect mtls-cert pass '^status 200$'
expect mtls-untrusted-cert fail '^status 400, expected 2xx$'
expect tls-missing-ca-file error 'nonexistent\.pem'

# --- auth from the environment; the secrets never show
cat > "$T/auth.json" <<EOF
{ "name": "auth", "checks": [
  { "name": "basic", "type": "http", "url": "$H/private/index.txt",
    "auth": { "type": "basic", "username": "alice", "password_env": "BASIC_PW" },
    "expect": { "body_contains": "secret area" } },
  { "name": "basic-wrong", "type": "http", "url": "$H/private/index.txt",
    "auth": { "type": "basic", "username": "alice", "password_env": "WRONG_PW" } },
  { "name": "basic-none", "type": "http", "url": "$H/private/index.txt" },
  { "name": "bearer", "type": "http", "url": "$H/api",
    "auth": { "type": "bearer", "token_env": "BEARER_TOKEN" }, "expect": { "body_contains": "token ok" } },
  { "name": "bearer-wrong", "type": "http", "url": "$H/api",
    "auth": { "type": "bearer", "token_env": "WRONG_TOKEN" } },
  { "name": "bearer-echo", "type": "http", "url": "$F/echo",
    "auth": { "type": "bearer", "token_env": "BEARER_TOKEN" },
    "expect": { "body_contains": "Authorization: Bearer", "status": 500 } }
] }
EOF
BASIC_PW="$BASIC_PW" WRONG_PW=n0t-it BEARER_TOKEN="$BEARER" WRONG_TOKEN=n0t-the-t0ken \
	http_suite "$T/auth.json" 5
assert_eq "auth: exit code" "$RC" 1
expect basic pass '^status 200$'
expect basic-wrong fail '^status 401, expected 2xx$'
expect basic-none fail '^status 401, expected 2xx$'
expect bearer pass '^status 200$'
expect bearer-wrong fail '^status 401, expected 2xx$'
expect bearer-echo fail '^status 200, expected 500$'
for s in "$BASIC_PW" "$BEARER" n0t-it n0t-the-t0ken; do
	assert_no_match "auth: secret absent from the report" "$(cat "$T/out" "$T/err")" "$s"
done
run_verdict validate "$T/auth.json"
assert_clean_stderr "validate auth.json"
assert_eq "auth: unset variable refused" "$RC" 2
assert_match "auth: message names the place" "$(cat "$T/err")" 'auth\.json: checks\[0\]\.auth\.password_env: environment variable BASIC_PW is not set'

finish
