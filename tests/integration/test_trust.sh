# test_trust.sh - one trust store for every check that speaks TLS (http,
# tls, security_headers, cors), against nginx with the test CA (certs.sh):
# the default store is $SSL_CERT_FILE / $SSL_CERT_DIR for all of them in
# one run, else the system bundle; an empty ca_file is the default store;
# a ca_file replaced on disk reaches tls checks as it reaches http checks
# inside one `verdict serve`; the tls check by URL; and the tls check
# against peers that misbehave in the handshake (tests/tools/tlspeer.c:
# silent after the ClientHello, trickling, reset, closing, garbage, an
# alert), each ending with the right verdict within its timeout.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

C=$T/certs
sh "$here/certs.sh" "$C"
read -r GOOD WRONG DEAD <<< "$(ports 3)"

HDRS='add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
	add_header X-Content-Type-Options nosniff always;
	add_header X-Frame-Options DENY always;
	add_header Content-Security-Policy "default-src '"'self'"'" always;
	add_header Referrer-Policy strict-origin-when-cross-origin always;'
CORS='if ($request_method = OPTIONS) {
		add_header Access-Control-Allow-Origin https://app.example.com always;
		add_header Access-Control-Allow-Methods "GET, POST" always;
		return 204;
	}'
nginx_conf "$T/nginx" "
server { listen 127.0.0.1:$GOOD ssl; ssl_certificate $C/good.pem; ssl_certificate_key $C/good.key;
	server_tokens off;
	location / { $HDRS return 200 \"tls ok\\n\"; }
	location /api/ { $CORS return 200 ok; } }
server { listen 127.0.0.1:$WRONG ssl; ssl_certificate $C/wronghost.pem; ssl_certificate_key $C/wronghost.key;
	location / { return 200 ok; } }
"
start_nginx "$T/nginx" "$GOOD" "$WRONG"
S=https://127.0.0.1:$GOOD
# the defaults under test come from here, not from the caller
unset SSL_CERT_FILE SSL_CERT_DIR

# --- one default trust store: SSL_CERT_FILE, SSL_CERT_DIR, the system bundle
cat > "$T/default.json" <<EOF
{ "name": "default", "defaults": { "timeout": "3s" }, "checks": [
  { "name": "http", "type": "http", "url": "$S/", "expect": { "body_contains": "tls ok" } },
  { "name": "http-empty-ca", "type": "http", "url": "$S/", "tls": { "ca_file": "" } },
  { "name": "tls", "type": "tls", "host": "127.0.0.1", "port": $GOOD },
  { "name": "tls-empty-ca", "type": "tls", "host": "127.0.0.1", "port": $GOOD, "tls": { "ca_file": "" } },
  { "name": "tls-url", "type": "tls", "url": "$S/some/path?q=1" },
  { "name": "headers", "type": "security_headers", "url": "$S/" },
  { "name": "cors", "type": "cors", "url": "$S/api/", "origin": "https://app.example.com", "method": "POST" }
] }
EOF
ALL="http http-empty-ca tls tls-empty-ca tls-url headers cors"

SSL_CERT_FILE=$C/ca.pem run_suite "$T/default.json" 10
assert_eq "SSL_CERT_FILE: exit code" "$RC" 0
assert_eq "SSL_CERT_FILE: every check trusts it" "$(statuses $ALL)" \
	"cors=pass headers=pass http-empty-ca=pass http=pass tls-empty-ca=pass tls-url=pass tls=pass "
assert_eq "SSL_CERT_FILE: tls verified" "$(check_field tls .facts.tls_verify)" true

mkdir "$T/certdir"
cp "$C/ca.pem" "$T/certdir/"
openssl rehash "$T/certdir" 2> /dev/null || c_rehash "$T/certdir" > /dev/null
SSL_CERT_DIR=$T/certdir run_suite "$T/default.json" 10
assert_eq "SSL_CERT_DIR: exit code" "$RC" 0
assert_eq "SSL_CERT_DIR: every check trusts it" "$(statuses $ALL)" \
	"cors=pass headers=pass http-empty-ca=pass http=pass tls-empty-ca=pass tls-url=pass tls=pass "

# Without them the system bundle, which does not hold the test CA: the
# same verdict from every check.
run_suite "$T/default.json" 10
assert_eq "system bundle: exit code" "$RC" 1
for n in http http-empty-ca headers cors; do
	expect "$n" error tls 'unable to get local issuer certificate'
done
for n in tls tls-empty-ca tls-url; do
	expect "$n" fail tls '^certificate verification failed: unknown CA'
done

SSL_CERT_FILE=$T/missing.pem run_suite "$T/default.json" 10
assert_eq "SSL_CERT_FILE missing: exit code" "$RC" 1
for n in http tls headers cors; do
	expect "$n" error internal "^could not load the default trust store \(file $T/missing\.pem\): No such file or directory$"
done

# --- the tls check by URL
cat > "$T/url.json" <<EOF
{ "name": "url", "defaults": { "timeout": "3s", "tls": { "ca_file": "$C/ca.pem" } }, "checks": [
  { "name": "by-url", "type": "tls", "url": "$S/", "expect": { "min_days_left": 14 } },
  { "name": "by-name", "type": "tls", "url": "https://localhost:$GOOD" },
  { "name": "wrong-host", "type": "tls", "url": "https://127.0.0.1:$WRONG/" },
  { "name": "wrong-host-sni", "type": "tls", "url": "https://127.0.0.1:$WRONG/",
    "tls": { "ca_file": "$C/ca.pem", "server_name": "wrong.example.com" } },
  { "name": "default-port", "type": "tls", "url": "https://127.0.0.1/", "timeout": "1s" },
  { "name": "v6-refused", "type": "tls", "url": "https://[::1]:$DEAD/", "timeout": "1s" }
] }
EOF
run_suite "$T/url.json" 10
expect by-url pass none '^TLSv1\.[23] .*certificate verified'
assert_eq "by-url: target" "$(check_field by-url .target)" "127.0.0.1:$GOOD"
expect by-name pass none 'certificate verified'
expect wrong-host fail tls '^certificate verification failed: hostname mismatch \(wanted 127\.0\.0\.1, certificate has DNS:wrong\.example\.com\)'
expect wrong-host-sni pass none 'certificate verified'
assert_eq "default port: 443" "$(check_field default-port .target)" "127.0.0.1:443"
assert_eq "IPv6 literal: target" "$(check_field v6-refused .target)" "[::1]:$DEAD"

bad_conf "http URL" '{ "name": "x", "type": "tls", "url": "http://127.0.0.1/" }' \
	'bad\.json: checks\[0\]\.url: expected an https:// URL, not http://'
bad_conf "url and host" '{ "name": "x", "type": "tls", "url": "https://a.example/", "host": "a.example" }' \
	'bad\.json: checks\[0\]\.host: not with url'
bad_conf "url and port" '{ "name": "x", "type": "tls", "url": "https://a.example/", "port": 8443 }' \
	'bad\.json: checks\[0\]\.port: not with url'
bad_conf "not a URL" '{ "name": "x", "type": "tls", "url": "a.example:443" }' \
	'bad\.json: checks\[0\]\.url: expected an https:// URL'
bad_conf "URL credentials never echoed" '{ "name": "x", "type": "tls", "url": "ftp://user:s3cr3t-pw@a.example/" }' \
	'checks\[0\]\.url: expected an https:// URL, not ftp://$'
assert_no_match "URL credentials never echoed: no password" "$(cat "$T/err")" 's3cr3t-pw'

# --- ca_file rotation inside one serve: tls and http checks alike
cp "$C/self.pem" "$T/rot.pem" # a CA that did not sign good.pem
cat > "$T/serve.json" <<EOF
{ "name": "rot", "serve": { "every": "200ms" }, "defaults": { "timeout": "2s", "tls": { "ca_file": "$T/rot.pem" } },
  "checks": [
    { "name": "rot-http", "type": "http", "url": "$S/" },
    { "name": "rot-tls", "type": "tls", "url": "$S/" }
  ] }
EOF
serve_start "$T/serve.json"
metric() {
	{ curl -sf "$V/metrics" || true; } |
		K=$1 awk '!done && index($0, ENVIRON["K"] " ") == 1 { print $NF; done = 1 }'
}
# wait_metric 'NAME{LABELS}' AWK-CONDITION SECONDS (a generous bound on a
# wait, not a measurement)
wait_metric() {
	local n=$(( $3 * 10 )) v
	while :; do
		v=$(metric "$1")
		if [ -n "$v" ] && awk -v v="$v" "BEGIN { exit !($2) }"; then break; fi
		n=$((n - 1))
		[ $n -le 0 ] && break
		sleep 0.1
	done
	echo "$v"
}
LH='check="rot-http",type="http",stage="main"'
LT='check="rot-tls",type="tls",stage="main"'
wait_metric "verdict_check_runs_total{$LH,result=\"error\"}" 'v >= 2' 10 > /dev/null
wait_metric "verdict_check_runs_total{$LT,result=\"fail\"}" 'v >= 2' 10 > /dev/null
assert_eq "before rotation: http does not trust" "$(metric "verdict_check_success{$LH}")" 0
assert_eq "before rotation: tls does not trust" "$(metric "verdict_check_success{$LT}")" 0
cp "$C/ca.pem" "$T/rot.new" && mv "$T/rot.new" "$T/rot.pem"
assert_eq "after rotation: http trusts the new file" "$(wait_metric "verdict_check_success{$LH}" 'v == 1' 15)" 1
assert_eq "after rotation: tls trusts the new file" "$(wait_metric "verdict_check_success{$LT}" 'v == 1' 15)" 1
# rewritten in place (same inode) and back: both stop trusting
cat "$C/self.pem" > "$T/rot.pem"
assert_eq "rewritten back: http" "$(wait_metric "verdict_check_success{$LH}" 'v == 0' 15)" 0
assert_eq "rewritten back: tls" "$(wait_metric "verdict_check_success{$LT}" 'v == 0' 15)" 0
serve_stop

# --- the tls check against peers that misbehave in the handshake
MODES="hang trickle reset close garbage alert"
checks=""
for m in $MODES; do
	p=$(free_port)
	"$TOOLS/tlspeer" "$p" "$m" > "$T/tlspeer-$m.out" 2>&1 &
	PIDS="$PIDS $!"
	wait_port "$p"
	checks="$checks{ \"name\": \"tls-$m\", \"type\": \"tls\", \"host\": \"127.0.0.1\", \"port\": $p },
  { \"name\": \"https-$m\", \"type\": \"http\", \"url\": \"https://127.0.0.1:$p/\" },
  "
done
cat > "$T/faults.json" <<EOF
{ "name": "faults", "defaults": { "timeout": "2s", "retries": 1, "interval": "100ms",
  "tls": { "ca_file": "$C/ca.pem" } }, "checks": [
  $checks{ "name": "good", "type": "tls", "url": "$S/" }
] }
EOF
run_suite "$T/faults.json" 10
assert_eq "faults: exit code" "$RC" 1
expect good pass none 'certificate verified'
expect tls-hang error timeout '^timeout after 2s'
expect tls-trickle error timeout '^timeout after 2s'
expect tls-reset error tls '^TLS handshake failed: Connection reset by peer$'
expect tls-close error tls '^TLS handshake failed: the peer closed the connection$'
expect tls-garbage error tls '^TLS handshake failed: .*\(is the peer speaking TLS on this port\?\)$'
expect tls-alert error tls '^TLS handshake failed: .*handshake failure'
for m in $MODES; do
	assert_eq "tls-$m: both attempts made" "$(check_field "tls-$m" .attempts)" 2
	assert_eq "https-$m: an error" "$(check_field "https-$m" .status)" error
done

finish
