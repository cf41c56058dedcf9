# test_headers_cors.sh - the "security_headers" and "cors" checks against
# nginx: header profiles set with add_header (over HTTP and HTTPS),
# overrides, every finding listed; CORS preflights against a strict
# server, one that reflects any origin with credentials, one that allows
# "*", and one without CORS; the preflight nginx received is checked in
# its access log.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

C=$T/certs
sh "$here/certs.sh" "$C"
read -r HP HS DEAD <<< "$(ports 3)"

GOOD='add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
	add_header X-Content-Type-Options nosniff always;
	add_header X-Frame-Options DENY always;
	add_header Content-Security-Policy "default-src '"'self'"'" always;
	add_header Referrer-Policy strict-origin-when-cross-origin always;'
BAD='add_header Strict-Transport-Security "max-age=300" always;
	add_header X-Frame-Options "ALLOW-FROM https://x.example" always;
	add_header Referrer-Policy unsafe-url always;
	add_header X-Powered-By Express always;'
LOCATIONS="
	server_tokens off;
	location = /good { $GOOD return 200 ok; }
	location = /bad { server_tokens on; $BAD return 200 ok; }
	location = /frame-csp {
		add_header Strict-Transport-Security \"max-age=31536000\" always;
		add_header X-Content-Type-Options nosniff always;
		add_header Content-Security-Policy \"default-src 'self'; frame-ancestors 'none'\" always;
		add_header Referrer-Policy \"no-referrer-when-downgrade, no-referrer\" always;
		return 200 ok; }
	location = /debug { $GOOD add_header X-Debug-Token abc123 always; return 200 ok; }
	location = /missing { return 404 gone; }

	location /strict/ {
		if (\$request_method = OPTIONS) {
			add_header Access-Control-Allow-Origin \$strict_origin always;
			add_header Access-Control-Allow-Methods \"GET, POST, PUT\" always;
			add_header Access-Control-Allow-Headers \"Content-Type, X-Token\" always;
			add_header Access-Control-Allow-Credentials true always;
			add_header Vary Origin always;
			return 204;
		}
		return 200 ok;
	}
	location /open/ {
		if (\$request_method = OPTIONS) {
			add_header Access-Control-Allow-Origin \$http_origin always;
			add_header Access-Control-Allow-Methods \"GET, POST, PUT, DELETE\" always;
			add_header Access-Control-Allow-Headers \$http_access_control_request_headers always;
			add_header Access-Control-Allow-Credentials true always;
			return 204;
		}
		return 200 ok;
	}
	location /star/ {
		if (\$request_method = OPTIONS) {
			add_header Access-Control-Allow-Origin * always;
			add_header Access-Control-Allow-Methods * always;
			add_header Access-Control-Allow-Headers * always;
			return 204;
		}
		return 200 ok;
	}
	location /nocors/ { return 204; }
	location /teapot/ { return 418; }
"
nginx_conf "$T/nginx" "
	log_format preflight '\$request_method \$uri origin=\$http_origin method=\$http_access_control_request_method headers=\$http_access_control_request_headers';
	map \$http_origin \$strict_origin { https://app.example.com \$http_origin; default \"\"; }
	server { listen 127.0.0.1:$HP; access_log $T/nginx/access.log preflight; $LOCATIONS }
	server { listen 127.0.0.1:$HS ssl; ssl_certificate $C/good.pem; ssl_certificate_key $C/good.key;
		access_log $T/nginx/access.log preflight; $LOCATIONS }
"
start_nginx "$T/nginx" "$HP" "$HS"
H=http://127.0.0.1:$HP
S=https://127.0.0.1:$HS
CA="\"tls\": { \"ca_file\": \"$C/ca.pem\" }"

cat > "$T/suite.json" <<EOF
{ "name": "headers-cors", "defaults": { "timeout": "3s", "critical": false }, "checks": [
  { "name": "good-https", "type": "security_headers", "url": "$S/good", $CA },
  { "name": "good-http", "type": "security_headers", "url": "$H/good" },
  { "name": "bad-https", "type": "security_headers", "url": "$S/bad", $CA },
  { "name": "bad-http", "type": "security_headers", "url": "$H/bad" },
  { "name": "frame-csp", "type": "security_headers", "url": "$S/frame-csp", $CA },
  { "name": "hsts-asked-on-http", "type": "security_headers", "url": "$H/frame-csp",
    "expect": { "headers": { "Strict-Transport-Security": true } } },
  { "name": "xfo-required", "type": "security_headers", "url": "$S/frame-csp", $CA,
    "expect": { "headers": { "X-Frame-Options": true } } },
  { "name": "hsts-min", "type": "security_headers", "url": "$S/good", $CA,
    "expect": { "hsts_min_max_age": 63072000 } },
  { "name": "overrides", "type": "security_headers", "url": "$S/bad", $CA,
    "expect": { "headers": { "Content-Security-Policy": false, "X-Powered-By": false,
                             "X-Content-Type-Options": false, "Server": false,
                             "Strict-Transport-Security": { "regex": "^max-age=[0-9]+$" },
                             "X-Frame-Options": { "contains": "ALLOW-FROM" },
                             "Referrer-Policy": "unsafe-url" } } },
  { "name": "custom-value", "type": "security_headers", "url": "$S/good", $CA,
    "expect": { "headers": { "Referrer-Policy": "no-referrer", "Permissions-Policy": true } } },
  { "name": "absent-extra", "type": "security_headers", "url": "$S/debug", $CA,
    "expect": { "absent": ["X-Debug-Token", "X-AspNet-Version"] } },
  { "name": "absent-server", "type": "security_headers", "url": "$S/good", $CA,
    "expect": { "absent": ["Server"] } },
  { "name": "error-page", "type": "security_headers", "url": "$H/missing" },
  { "name": "headers-down", "type": "security_headers", "url": "http://127.0.0.1:$DEAD/" },

  { "name": "cors-ok", "type": "cors", "url": "$H/strict/api", "origin": "https://app.example.com",
    "method": "PUT", "request_headers": ["X-Token", "Content-Type"],
    "expect": { "credentials": true } },
  { "name": "cors-ok-https", "type": "cors", "url": "$S/strict/api", $CA,
    "origin": "https://app.example.com", "method": "POST" },
  { "name": "cors-evil-refused", "type": "cors", "url": "$H/strict/api", "origin": "https://evil.example.com",
    "method": "POST", "expect": { "allowed": false } },
  { "name": "cors-method", "type": "cors", "url": "$H/strict/api", "origin": "https://app.example.com",
    "method": "DELETE" },
  { "name": "cors-header", "type": "cors", "url": "$H/strict/api", "origin": "https://app.example.com",
    "method": "PUT", "request_headers": ["X-Other"] },
  { "name": "cors-reflect", "type": "cors", "url": "$H/open/api", "origin": "https://evil.example.com",
    "method": "POST", "request_headers": ["Authorization"], "expect": { "allowed": false } },
  { "name": "cors-reflect-nocred", "type": "cors", "url": "$H/open/api", "origin": "https://app.example.com",
    "method": "GET", "expect": { "credentials": false } },
  { "name": "cors-star-evil", "type": "cors", "url": "$H/star/api", "origin": "https://evil.example.com",
    "expect": { "allowed": false } },
  { "name": "cors-star-cred", "type": "cors", "url": "$H/star/api", "origin": "https://app.example.com",
    "method": "PUT", "expect": { "credentials": true } },
  { "name": "cors-star", "type": "cors", "url": "$H/star/api", "origin": "https://app.example.com",
    "method": "PUT", "request_headers": ["X-Token"] },
  { "name": "cors-none", "type": "cors", "url": "$H/nocors/api", "origin": "https://app.example.com" },
  { "name": "cors-none-negative", "type": "cors", "url": "$H/nocors/api", "origin": "https://evil.example.com",
    "expect": { "allowed": false } },
  { "name": "cors-status", "type": "cors", "url": "$H/teapot/api", "origin": "https://app.example.com" },
  { "name": "cors-down", "type": "cors", "url": "http://127.0.0.1:$DEAD/", "origin": "https://app.example.com" }
] }
EOF

run_verdict run --format json "$T/suite.json"
assert_clean_stderr "suite"
[ "$RC" -le 1 ] || { cat "$T/err" >&2; fail "suite ran (exit $RC)"; finish; }
st() { check_field "$1" '.status + " " + .reason_kind'; }
reason() { check_field "$1" .reason; }
fact() { check_field "$1" ".facts.$2"; }

# --- security headers
assert_eq "good profile over https: pass" "$(st good-https)" "pass none"
assert_eq "good profile: reason" "$(reason good-https)" "status 200, 7 header rules passed"
assert_eq "good profile: no findings" "$(fact good-https findings_count)" 0
assert_eq "over http, HSTS is not judged" "$(reason good-http)" "status 200, 6 header rules passed"
assert_eq "bad profile: fail policy" "$(st bad-https)" "fail policy"
assert_eq "bad profile: every finding, in order" "$(reason bad-https)" \
	"7 findings: Strict-Transport-Security max-age 300 is below 15552000; missing X-Content-Type-Options; X-Frame-Options is \"ALLOW-FROM https://x.example\", expected DENY or SAMEORIGIN; missing Content-Security-Policy; Referrer-Policy is \"unsafe-url\", not a safe value; X-Powered-By present: Express; Server shows a version: nginx/$(nginx -v 2>&1 | sed 's|.*nginx/||')"
assert_eq "bad profile: findings fact" "$(fact bad-https findings)" "$(reason bad-https | sed 's/^7 findings: //')"
assert_eq "bad profile: findings_count" "$(fact bad-https findings_count)" 7
assert_match "bad over http: 6 findings (no HSTS)" "$(reason bad-http)" '^6 findings: missing X-Content-Type-Options; '
assert_eq "CSP frame-ancestors replaces X-Frame-Options; last known referrer policy wins" "$(st frame-csp)" "pass none"
assert_eq "HSTS asked for over http: judged (7 rules)" "$(reason hsts-asked-on-http)" "status 200, 7 header rules passed"
assert_eq "X-Frame-Options required even with frame-ancestors" "$(reason xfo-required)" "1 finding: missing X-Frame-Options"
assert_eq "hsts_min_max_age" "$(reason hsts-min)" "1 finding: Strict-Transport-Security max-age 31536000 is below 63072000"
assert_eq "overrides skip and replace rules" "$(st overrides)" "pass none"
assert_eq "custom value and an extra required header" "$(reason custom-value)" \
	"2 findings: Referrer-Policy is \"strict-origin-when-cross-origin\", expected \"no-referrer\"; missing Permissions-Policy"
assert_eq "extra absent headers" "$(reason absent-extra)" "1 finding: X-Debug-Token present: abc123"
assert_eq "Server listed as absent: any Server fails" "$(reason absent-server)" "1 finding: Server present: nginx"
assert_eq "an error page is judged too" "$(st error-page)" "fail policy"
assert_eq "error page: http_status fact" "$(fact error-page http_status)" 404
assert_eq "down: error refused" "$(st headers-down)" "error refused"

# --- CORS
assert_eq "strict, allowed origin with credentials: pass" "$(st cors-ok)" "pass none"
assert_eq "strict: reason" "$(reason cors-ok)" "origin https://app.example.com allowed for PUT with credentials"
assert_eq "strict: allow-origin fact" "$(fact cors-ok cors_allow_origin)" "https://app.example.com"
assert_eq "strict: credentials fact" "$(fact cors-ok cors_allow_credentials)" true
assert_eq "strict over https: pass" "$(st cors-ok-https)" "pass none"
assert_eq "strict, other origin not allowed: pass" "$(st cors-evil-refused)" "pass none"
assert_eq "strict, other origin: reason" "$(reason cors-evil-refused)" \
	"origin https://evil.example.com not allowed, as expected: no Access-Control-Allow-Origin"
assert_eq "method not listed: fail policy" "$(st cors-method)" "fail policy"
assert_eq "method not listed: reason" "$(reason cors-method)" \
	"origin https://app.example.com not allowed for DELETE: method DELETE not in Access-Control-Allow-Methods (\"GET, POST, PUT\")"
assert_eq "header not listed: reason" "$(reason cors-header)" \
	"origin https://app.example.com not allowed for PUT: header X-Other not in Access-Control-Allow-Headers (\"Content-Type, X-Token\")"
assert_eq "reflects any origin with credentials: fail policy" "$(st cors-reflect)" "fail policy"
assert_match "reflects any origin with credentials: says so" "$(reason cors-reflect)" \
	'^origin https://evil.example.com is allowed with credentials: Access-Control-Allow-Origin echoes it and Access-Control-Allow-Credentials is true \(a server that reflects any origin'
assert_match "credentials expected off: fail" "$(st cors-reflect-nocred) $(reason cors-reflect-nocred)" \
	'^fail policy .*credentials are allowed \(Access-Control-Allow-Credentials: true\), expected not$'
assert_eq "* allows any origin: negative fails" "$(reason cors-star-evil)" \
	"origin https://evil.example.com is allowed for GET (Access-Control-Allow-Origin: *)"
assert_match "* with credentials: fail" "$(reason cors-star-cred)" \
	'Access-Control-Allow-Origin is \*, which browsers refuse with credentials; no Access-Control-Allow-Credentials: true; method PUT not in Access-Control-Allow-Methods'
assert_eq "* without credentials: pass" "$(st cors-star)" "pass none"
assert_eq "no CORS headers: fail" "$(reason cors-none)" "origin https://app.example.com not allowed for GET: no Access-Control-Allow-Origin"
assert_eq "no CORS headers, negative: pass" "$(st cors-none-negative)" "pass none"
assert_match "non-2xx preflight: fail" "$(reason cors-status)" 'the preflight answered status 418 \(a browser needs 2xx\)'
assert_eq "cors down: error refused" "$(st cors-down)" "error refused"

# the preflight as nginx saw it
assert_match "preflight sent: OPTIONS, Origin, method, headers" "$(cat "$T/nginx/access.log")" \
	'^OPTIONS /strict/api origin=https://app.example.com method=PUT headers=X-Token,Content-Type$'

# --- configuration errors name their place
bad_conf "origin with a path" '{ "name": "x", "type": "cors", "url": "http://h/", "origin": "https://a.example/x" }' \
	'checks\[0\]\.origin: expected an origin like'
bad_conf "credentials with allowed false" '{ "name": "x", "type": "cors", "url": "http://h/", "origin": "https://a.example", "expect": { "allowed": false, "credentials": true } }' \
	'checks\[0\]\.expect\.credentials: applies only with allowed: true'
bad_conf "override type" '{ "name": "x", "type": "security_headers", "url": "http://h/", "expect": { "headers": { "Server": 3 } } }' \
	'checks\[0\]\.expect\.headers\.Server: expected false'
bad_conf "absent contradicts the profile" '{ "name": "x", "type": "security_headers", "url": "http://h/", "expect": { "absent": ["Content-Security-Policy"] } }' \
	'checks\[0\]\.expect\.absent: Content-Security-Policy is required by the profile'
bad_conf "not an http url" '{ "name": "x", "type": "security_headers", "url": "ftp://h/" }' 'checks\[0\]\.url: expected an http'

finish
