# test_tls.sh - the "tls" check against nginx with certificates made by
# certs.sh (valid via a test CA, expired, wrong host, self-signed, a
# TLS1.2-only server, a full chain, client certificates), a plain-HTTP
# port (a peer not speaking TLS), a refused port and a silent peer.
# Facts are compared with what `openssl x509` says of the same files.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

C=$T/certs
sh "$here/certs.sh" "$C"
cat "$C/good.pem" "$C/ca.pem" > "$C/fullchain.pem"

read -r GOOD EXPIRED WRONG SELF TLS12 PLAIN CHAIN MTLS DEAD SILENT <<< "$(ports 10)"

srv() { # PORT CERT KEY [directives; default: TLS 1.2 and 1.3, nginx 1.22 offers 1.0-1.2]
	echo "server { listen 127.0.0.1:$1 ssl; ssl_certificate $2; ssl_certificate_key $3; ${4:-ssl_protocols TLSv1.2 TLSv1.3;}
		location / { return 200 \"ok\\n\"; } }"
}
nginx_conf "$T/nginx" "
$(srv "$GOOD" "$C/good.pem" "$C/good.key")
$(srv "$EXPIRED" "$C/expired.pem" "$C/expired.key")
$(srv "$WRONG" "$C/wronghost.pem" "$C/wronghost.key")
$(srv "$SELF" "$C/self.pem" "$C/self.key")
$(srv "$TLS12" "$C/good.pem" "$C/good.key" "ssl_protocols TLSv1.2;")
$(srv "$CHAIN" "$C/fullchain.pem" "$C/good.key")
$(srv "$MTLS" "$C/good.pem" "$C/good.key" "ssl_protocols TLSv1.2 TLSv1.3; ssl_client_certificate $C/ca.pem; ssl_verify_client on;")
server { listen 127.0.0.1:$PLAIN; location / { return 200 \"plain\\n\"; } }
"
start_nginx "$T/nginx" "$GOOD" "$EXPIRED" "$WRONG" "$SELF" "$TLS12" "$PLAIN" "$CHAIN" "$MTLS"
"$TOOLS/silent" "$SILENT" > "$T/silent.out" 2>&1 &
PIDS="$PIDS $!"
wait_port "$SILENT"

CA="\"tls\": { \"ca_file\": \"$C/ca.pem\" }"
cat > "$T/suite.json" <<EOF
{ "name": "tls", "defaults": { "timeout": "3s", "critical": false }, "checks": [
  { "name": "good", "type": "tls", "host": "127.0.0.1", "port": $GOOD, $CA,
    "expect": { "min_days_left": 14, "min_version": "TLSv1.2" } },
  { "name": "good-by-name", "type": "tls", "host": "localhost", "port": $GOOD, $CA },
  { "name": "sni-mismatch", "type": "tls", "host": "127.0.0.1", "port": $GOOD,
    "tls": { "ca_file": "$C/ca.pem", "server_name": "other.example.com" } },
  { "name": "expired", "type": "tls", "host": "127.0.0.1", "port": $EXPIRED, $CA },
  { "name": "expired-noverify", "type": "tls", "host": "127.0.0.1", "port": $EXPIRED, $CA,
    "expect": { "verify": false } },
  { "name": "expired-days", "type": "tls", "host": "127.0.0.1", "port": $EXPIRED,
    "tls": { "verify": false }, "expect": { "min_days_left": 14 } },
  { "name": "wronghost", "type": "tls", "host": "127.0.0.1", "port": $WRONG, $CA },
  { "name": "wronghost-sni", "type": "tls", "host": "127.0.0.1", "port": $WRONG,
    "tls": { "ca_file": "$C/ca.pem", "server_name": "wrong.example.com" } },
  { "name": "self", "type": "tls", "host": "127.0.0.1", "port": $SELF, $CA },
  { "name": "self-trusted", "type": "tls", "host": "127.0.0.1", "port": $SELF,
    "tls": { "ca_file": "$C/self.pem" } },
  { "name": "unknown-ca", "type": "tls", "host": "127.0.0.1", "port": $GOOD },
  { "name": "tls12-min13", "type": "tls", "host": "127.0.0.1", "port": $TLS12, $CA,
    "expect": { "min_version": "TLSv1.3" } },
  { "name": "tls12-min12", "type": "tls", "host": "127.0.0.1", "port": $TLS12, $CA,
    "expect": { "min_version": "TLSv1.2" } },
  { "name": "tls12-protocols", "type": "tls", "host": "127.0.0.1", "port": $TLS12, $CA,
    "expect": { "protocols": ["TLSv1.3"] } },
  { "name": "ciphers-ok", "type": "tls", "host": "127.0.0.1", "port": $GOOD, $CA,
    "expect": { "ciphers": ["TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"] } },
  { "name": "ciphers-bad", "type": "tls", "host": "127.0.0.1", "port": $TLS12, $CA,
    "expect": { "ciphers": ["TLS_AES_256_GCM_SHA384"] } },
  { "name": "days", "type": "tls", "host": "127.0.0.1", "port": $GOOD, $CA,
    "expect": { "min_days_left": 5000 } },
  { "name": "chain", "type": "tls", "host": "127.0.0.1", "port": $CHAIN, $CA },
  { "name": "mtls", "type": "tls", "host": "127.0.0.1", "port": $MTLS,
    "tls": { "ca_file": "$C/ca.pem", "cert_file": "$C/client.pem", "key_file": "$C/client.key" } },
  { "name": "bad-key", "type": "tls", "host": "127.0.0.1", "port": $MTLS,
    "tls": { "ca_file": "$C/ca.pem", "cert_file": "$C/client.pem", "key_file": "$C/good.key" } },
  { "name": "no-ca-file", "type": "tls", "host": "127.0.0.1", "port": $GOOD,
    "tls": { "ca_file": "$T/missing.pem" } },
  { "name": "plain", "type": "tls", "host": "127.0.0.1", "port": $PLAIN, $CA },
  { "name": "refused", "type": "tls", "host": "127.0.0.1", "port": $DEAD, $CA },
  { "name": "silent", "type": "tls", "host": "127.0.0.1", "port": $SILENT, $CA, "timeout": "1s" },
  { "name": "nxdomain", "type": "tls", "host": "no-such..host", "port": 443, $CA }
] }
EOF

start=$(date +%s%N)
run_verdict run --format json "$T/suite.json"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
assert_clean_stderr "tls suite"
[ "$RC" -le 1 ] || { cat "$T/err" >&2; fail "suite ran (exit $RC)"; finish; }
assert_le "the whole suite ends within its deadlines (ms)" "$elapsed" 6000

st() { check_field "$1" '.status + " " + .reason_kind'; }
reason() { check_field "$1" .reason; }
fact() { check_field "$1" ".facts.$2"; }

# openssl's view of a certificate file
x509_epoch() { date -u -d "$(openssl x509 -noout "-$2" -in "$1" | cut -d= -f2)" +%s; }
x509_name() { openssl x509 -noout "-$2" -in "$1" | sed "s/^$2=//"; }

# --- a valid certificate: every fact equals openssl's
assert_eq "good: pass" "$(st good)" "pass none"
assert_eq "good: tls_verify" "$(fact good tls_verify)" true
assert_eq "good: no tls_verify_error" "$(fact good tls_verify_error)" null
assert_eq "good: notAfter = openssl" "$(fact good tls_not_after)" "$(x509_epoch "$C/good.pem" enddate)"
assert_eq "good: notBefore = openssl" "$(fact good tls_not_before)" "$(x509_epoch "$C/good.pem" startdate)"
assert_eq "good: earliest notAfter (leaf only sent)" "$(fact good tls_earliest_not_after)" "$(x509_epoch "$C/good.pem" enddate)"
assert_eq "good: subject = openssl" "$(fact good tls_subject)" "$(x509_name "$C/good.pem" subject)"
assert_eq "good: issuer = openssl" "$(fact good tls_issuer)" "$(x509_name "$C/good.pem" issuer)"
want_days=$(( ($(x509_epoch "$C/good.pem" enddate) - $(date +%s)) / 86400 ))
assert_eq "good: days left" "$(fact good tls_days_left)" "$want_days"
assert_eq "good: SANs" "$(fact good tls_sans)" "IP:127.0.0.1, IP:::1, DNS:localhost"
assert_eq "good: version" "$(fact good tls_version)" TLSv1.3
assert_match "good: cipher" "$(fact good tls_cipher)" '^TLS_'
assert_eq "good: chain length" "$(fact good tls_chain_length)" 1
assert_eq "good: address" "$(fact good address)" "127.0.0.1:$GOOD"
assert_match "good: reason" "$(reason good)" "^TLSv1.3 TLS_.*, certificate verified, expires in $want_days days"
assert_eq "good: target" "$(check_field good .target)" "127.0.0.1:$GOOD"
for ph in resolve connect tls total; do
	assert_match "good: timing $ph" "$(check_field good ".timings.$ph")" '^[0-9.e-]+$'
done
assert_eq "good-by-name: pass (resolved, DNS SAN)" "$(st good-by-name)" "pass none"
assert_match "good-by-name: address" "$(fact good-by-name address)" "^(127\.0\.0\.1|\[::1\]):$GOOD\$"

# --- verification failures: fail, reason in words, facts still there
assert_eq "expired: fail tls" "$(st expired)" "fail tls"
assert_eq "expired: error words" "$(fact expired tls_verify_error)" expired
assert_match "expired: reason" "$(reason expired)" '^certificate verification failed: expired \(notAfter 2020-02-01 00:00:00 UTC, [0-9]+ days ago\)$'
assert_eq "expired: notAfter = openssl" "$(fact expired tls_not_after)" "$(x509_epoch "$C/expired.pem" enddate)"
assert_eq "expired: notBefore = openssl" "$(fact expired tls_not_before)" "$(x509_epoch "$C/expired.pem" startdate)"
assert_match "expired: negative days left" "$(fact expired tls_days_left)" '^-[0-9]+$'
assert_eq "expired: tls_verify false" "$(fact expired tls_verify)" false
assert_eq "expired, verify not expected: pass" "$(st expired-noverify)" "pass none"
assert_match "expired, verify not expected: says why unverified" "$(reason expired-noverify)" 'certificate not verified \(expired\)'
assert_eq "expired, tls.verify off, min_days_left: fail" "$(st expired-days)" "fail tls"
assert_match "expired, min_days_left: reason" "$(reason expired-days)" '^certificate expired [0-9]+ days ago \(notAfter 2020-02-01 00:00:00 UTC\), min_days_left 14$'
assert_eq "expired, tls.verify off: tls_verify false" "$(fact expired-days tls_verify)" false

assert_eq "wronghost: fail tls" "$(st wronghost)" "fail tls"
assert_eq "wronghost: words" "$(fact wronghost tls_verify_error)" "hostname mismatch"
assert_eq "wronghost: reason" "$(reason wronghost)" "certificate verification failed: hostname mismatch (wanted 127.0.0.1, certificate has DNS:wrong.example.com)"
assert_eq "wronghost: subject = openssl" "$(fact wronghost tls_subject)" "$(x509_name "$C/wronghost.pem" subject)"
assert_eq "wronghost with server_name: pass" "$(st wronghost-sni)" "pass none"
assert_eq "server_name is what is verified" "$(fact sni-mismatch tls_verify_error)" "hostname mismatch"

assert_eq "self-signed: fail tls" "$(st self)" "fail tls"
assert_eq "self-signed: words" "$(fact self tls_verify_error)" self-signed
assert_eq "self-signed: issuer = subject" "$(fact self tls_issuer)" "$(x509_name "$C/self.pem" subject)"
assert_eq "self-signed, trusted via ca_file: pass" "$(st self-trusted)" "pass none"
assert_eq "unknown CA: fail tls" "$(st unknown-ca)" "fail tls"
assert_eq "unknown CA: words" "$(fact unknown-ca tls_verify_error)" "unknown CA"

# --- protocol and cipher expectations
assert_eq "TLS1.2 server, min 1.3: fail" "$(st tls12-min13)" "fail tls"
assert_eq "TLS1.2 server, min 1.3: reason" "$(reason tls12-min13)" "negotiated TLSv1.2, older than min_version TLSv1.3"
assert_eq "TLS1.2 server, min 1.2: pass" "$(st tls12-min12)" "pass none"
assert_eq "TLS1.2 server: version fact" "$(fact tls12-min12 tls_version)" TLSv1.2
assert_eq "TLS1.2 server, protocols [1.3]: fail" "$(reason tls12-protocols)" "negotiated TLSv1.2, not one of the allowed protocols (TLSv1.3)"
assert_eq "ciphers allowed: pass" "$(st ciphers-ok)" "pass none"
assert_match "ciphers not allowed: fail" "$(st ciphers-bad) $(reason ciphers-bad)" '^fail tls negotiated cipher [A-Z0-9-]+, not one of the allowed ciphers \(TLS_AES_256_GCM_SHA384\)$'
assert_match "min_days_left: fail with days" "$(st days) $(reason days)" "^fail tls certificate expires in $want_days days \(notAfter .*\), min_days_left 5000\$"

# --- chain facts: the full chain as sent
assert_eq "chain: length 2" "$(fact chain tls_chain_length)" 2
ca_end=$(x509_epoch "$C/ca.pem" enddate); leaf_end=$(x509_epoch "$C/good.pem" enddate)
assert_eq "chain: earliest notAfter" "$(fact chain tls_earliest_not_after)" "$(( ca_end < leaf_end ? ca_end : leaf_end ))"

# --- client certificates
assert_eq "client certificate: pass" "$(st mtls)" "pass none"
assert_eq "client key not matching: error" "$(st bad-key)" "error internal"
assert_match "client key not matching: reason" "$(reason bad-key)" "^could not use tls.key_file $C/good.key: "
assert_eq "missing ca_file: error" "$(st no-ca-file)" "error internal"
assert_match "missing ca_file: reason" "$(reason no-ca-file)" "^could not load tls.ca_file $T/missing.pem"

# --- no TLS to judge: errors
assert_eq "plain HTTP port: error tls" "$(st plain)" "error tls"
assert_match "plain HTTP port: reason" "$(reason plain)" '^TLS handshake failed: .*\(is the peer speaking TLS on this port\?\)$'
assert_eq "refused: error" "$(st refused)" "error refused"
assert_eq "refused: reason" "$(reason refused)" "connection refused (127.0.0.1:$DEAD)"
assert_eq "silent peer: timeout" "$(st silent)" "error timeout"
assert_le "silent peer: ends at its 1s deadline" "$(check_field silent .duration_seconds)" 2.5
assert_eq "unknown host: error dns" "$(st nxdomain)" "error dns"
assert_match "unknown host: reason" "$(reason nxdomain)" '^could not resolve no-such..host: '

# --- the reasons reach every report format
run_verdict run --format junit --only expired "$T/suite.json"
assert_match "junit: reason" "$(cat "$T/out")" 'certificate verification failed: expired'
run_verdict run --format tap --only wronghost "$T/suite.json"
assert_match "tap: reason" "$(cat "$T/out")" 'hostname mismatch'
run_verdict run --format text --only plain "$T/suite.json"
assert_match "text: reason" "$(cat "$T/out")" 'TLS handshake failed'

# --- configuration errors name their place
bad_conf "min_version" '{ "name": "x", "type": "tls", "host": "h", "expect": { "min_version": "TLSv9" } }' \
	'bad.json: checks\[0\]\.expect\.min_version: expected "TLSv1", "TLSv1.1", "TLSv1.2" or "TLSv1.3"'
bad_conf "no host" '{ "name": "x", "type": "tls" }' 'checks\[0\]\.host: '
bad_conf "port range" '{ "name": "x", "type": "tls", "host": "h", "port": 70000 }' 'checks\[0\]\.port: must be between 1 and 65535'
bad_conf "verify contradiction" '{ "name": "x", "type": "tls", "host": "h", "tls": { "verify": false }, "expect": { "verify": true } }' \
	'checks\[0\]\.expect\.verify: true contradicts tls.verify: false'
bad_conf "unknown key" '{ "name": "x", "type": "tls", "host": "h", "expect": { "min_day_left": 3 } }' 'checks\[0\]\.expect.*min_day_left'

finish
