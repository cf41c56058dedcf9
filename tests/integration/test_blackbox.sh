# test_blackbox.sh - verdict's /probe next to the real blackbox_exporter
# (Debian prometheus-blackbox-exporter), both started here with matching
# modules, probing the same nginx targets (HTTP 200/503/404/redirect, HTTPS
# with a good and an expired certificate, verification on and off, a
# refused port, TCP): the same probe_success and probe_http_status_code,
# and the same redirects, SSL flag, certificate expiry and TLS version
# label. Also: the allowlist (403), bad requests (400), promtool on the
# answer, debug=true, X-Prometheus-Scrape-Timeout-Seconds as the deadline,
# and a password in a target never shown.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

sh "$here/certs.sh" "$T/certs"
C=$T/certs
NP=$(free_port)
SP=$(free_port)
EP=$(free_port)
DEAD=$(free_port)
nginx_conf "$T/nginx" "
server { listen 127.0.0.1:$NP;
	location = /ok { return 200 \"ok\n\"; }
	location = /fail { return 503; }
	location = /redirect { return 302 http://127.0.0.1:$NP/ok; }
	location = /big { return 200 \"0123456789abcdefghijklmnopqrstuvwxyz\"; } }
server { listen 127.0.0.1:$SP ssl; ssl_certificate $C/good.pem; ssl_certificate_key $C/good.key;
	location / { return 200 \"secure\n\"; } }
server { listen 127.0.0.1:$EP ssl; ssl_certificate $C/expired.pem; ssl_certificate_key $C/expired.key;
	location / { return 200 \"old\n\"; } }
"
start_nginx "$T/nginx" "$NP" "$SP" "$EP"
start_faultd

# --- blackbox_exporter --------------------------------------------------------------
BP=$(free_port)
cat > "$T/blackbox.yml" <<EOF
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      tls_config:
        ca_file: $C/ca.pem
  http_insecure:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      tls_config:
        insecure_skip_verify: true
  tcp_connect:
    prober: tcp
    timeout: 5s
    tcp:
      preferred_ip_protocol: ip4
EOF
prometheus-blackbox-exporter --config.file="$T/blackbox.yml" \
	--web.listen-address="127.0.0.1:$BP" --log.level=warn > "$T/blackbox.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$BP" 20

# --- verdict ---------------------------------------------------------------------
cat > "$T/serve.json" <<EOF
{ "modules": {
    "http_2xx": { "check": { "type": "http", "timeout": "5s", "tls": { "ca_file": "$C/ca.pem" } },
                  "allow": ["127.0.0.1"] },
    "http_insecure": { "check": { "type": "http", "timeout": "5s", "tls": { "verify": false } },
                       "allow": ["127.0.0.0/8", "localhost"] },
    "tcp_connect": { "check": { "type": "tcp", "timeout": "5s" }, "allow": ["127.0.0.1"] },
    "slow": { "check": { "type": "http", "timeout": "10s" }, "allow": ["127.0.0.1"] },
    "closed": { "check": { "type": "http" } }
  } }
EOF
serve_start "$T/serve.json"

# probe BASE MODULE TARGET OUT: GET BASE/probe with the arguments encoded.
probe() {
	curl -s -G --data-urlencode "module=$2" --data-urlencode "target=$3" "$1/probe" > "$4"
}
# val FILE SAMPLE: the value of the sample named exactly SAMPLE (name and labels).
val() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
# tls_version FILE: the version label of probe_tls_version_info.
tls_version() { sed -n 's/^probe_tls_version_info{version="\([^"]*\)"} 1$/\1/p' "$1"; }

# num V: a number in one spelling (blackbox writes 1.5805152e+09)
num() { awk -v v="$1" 'BEGIN { if (v == "") print ""; else printf "%.10g\n", v }'; }
same() { # LABEL FILE-B FILE-V SAMPLE
	assert_eq "$1: $4" "$(num "$(val "$3" "$4")")" "$(num "$(val "$2" "$4")")"
}

i=0
compare() { # MODULE TARGET WANT-SUCCESS [https]
	local b=$T/bb.$i v=$T/vd.$i label="$1 $2"
	i=$((i + 1))
	probe "http://127.0.0.1:$BP" "$1" "$2" "$b"
	probe "http://127.0.0.1:$VP" "$1" "$2" "$v"
	assert_eq "$label: blackbox probe_success" "$(val "$b" probe_success)" "$3"
	same "$label" "$b" "$v" probe_success
	case $1 in http*)
		same "$label" "$b" "$v" probe_http_status_code
		same "$label" "$b" "$v" probe_http_redirects
		same "$label" "$b" "$v" probe_http_ssl
		same "$label" "$b" "$v" probe_http_version
		;;
	esac
	if [ "${4:-}" = https ]; then
		same "$label" "$b" "$v" probe_ssl_earliest_cert_expiry
		assert_eq "$label: probe_tls_version_info" "$(tls_version "$v")" "$(tls_version "$b")"
		assert_match "$label: a TLS version" "$(tls_version "$v")" '^TLS 1\.[23]$'
	fi
	if promtool check metrics < "$v" > "$T/promtool.out" 2>&1; then
		echo "ok: $label: promtool check metrics"
	else
		cat "$T/promtool.out" "$v" >&2
		fail "$label: promtool check metrics"
	fi
}

compare http_2xx "http://127.0.0.1:$NP/ok" 1
compare http_2xx "http://127.0.0.1:$NP/fail" 0
compare http_2xx "http://127.0.0.1:$NP/missing" 0
compare http_2xx "http://127.0.0.1:$NP/redirect" 1
compare http_2xx "127.0.0.1:$NP/ok" 1
compare http_2xx "http://127.0.0.1:$DEAD/" 0
compare http_2xx "https://127.0.0.1:$SP/" 1 https
compare http_2xx "https://127.0.0.1:$EP/" 0
compare http_insecure "https://127.0.0.1:$EP/" 1 https
compare tcp_connect "127.0.0.1:$NP" 1
compare tcp_connect "127.0.0.1:$DEAD" 0

# the names a blackbox dashboard reads are all there
probe "http://127.0.0.1:$VP" http_2xx "https://127.0.0.1:$SP/" "$T/names.v"
for n in probe_success probe_duration_seconds probe_http_status_code probe_http_duration_seconds \
	probe_ssl_earliest_cert_expiry probe_tls_version_info probe_http_ssl probe_http_redirects \
	probe_http_version probe_dns_lookup_time_seconds probe_http_content_length \
	probe_http_uncompressed_body_length probe_failed_due_to_regex probe_ip_protocol; do
	assert_match "dashboard name $n" "$(cat "$T/names.v")" "^# TYPE $n gauge$"
done
assert_eq "http phases" "$(grep -c '^probe_http_duration_seconds{phase="\(resolve\|connect\|tls\|processing\|transfer\)"}' "$T/names.v")" 5
probe "http://127.0.0.1:$VP" http_2xx "http://127.0.0.1:$NP/big" "$T/big.v"
assert_eq "content length" "$(val "$T/big.v" probe_http_content_length)" 36
assert_eq "body length" "$(val "$T/big.v" probe_http_uncompressed_body_length)" 36

# --- refusals ------------------------------------------------------------------------
code() { curl -s -o "$T/code.body" -w '%{http_code}' -G "$@"; }
assert_eq "target outside the allowlist: 403" \
	"$(code --data-urlencode module=http_2xx --data-urlencode target=http://10.1.2.3/ "http://127.0.0.1:$VP/probe")" 403
assert_eq "a name where only addresses are allowed: 403" \
	"$(code --data-urlencode module=http_2xx --data-urlencode "target=http://localhost:$NP/ok" "http://127.0.0.1:$VP/probe")" 403
assert_eq "a module without allowlist: 403" \
	"$(code --data-urlencode module=closed --data-urlencode "target=http://127.0.0.1:$NP/ok" "http://127.0.0.1:$VP/probe")" 403
assert_match "403 says why" "$(cat "$T/code.body")" 'has no allow list'
assert_eq "unknown module: 400" \
	"$(code --data-urlencode module=nope --data-urlencode "target=127.0.0.1" "http://127.0.0.1:$VP/probe")" 400
assert_eq "no target: 400" "$(code --data-urlencode module=http_2xx "http://127.0.0.1:$VP/probe")" 400
assert_eq "not http: 400" \
	"$(code --data-urlencode module=http_2xx --data-urlencode "target=ftp://127.0.0.1/" "http://127.0.0.1:$VP/probe")" 400
assert_eq "env var in a target is not expanded" \
	"$(code --data-urlencode module=http_2xx --data-urlencode "target=http://127.0.0.1:$NP/\${HOME}" "http://127.0.0.1:$VP/probe")" 200
assert_eq "env var in a target: probed literally (404)" "$(val "$T/code.body" probe_http_status_code)" 404

# --- debug=true, and a password in the target ------------------------------------------
curl -s -G --data-urlencode module=http_2xx --data-urlencode debug=true \
	--data-urlencode "target=http://prober:Hunter2-Secret@127.0.0.1:$NP/fail" \
	"http://127.0.0.1:$VP/probe" > "$T/debug.txt"
assert_match "debug: log" "$(cat "$T/debug.txt")" '^Logs for the probe:$'
assert_match "debug: reason" "$(cat "$T/debug.txt")" 'reason="status 503, expected 2xx"'
assert_match "debug: metrics" "$(cat "$T/debug.txt")" '^probe_success 0$'
assert_match "debug: module" "$(cat "$T/debug.txt")" '^Module configuration:$'
assert_no_match "debug: password masked" "$(cat "$T/debug.txt")" 'Hunter2-Secret'
assert_match "debug: masked target shown" "$(cat "$T/debug.txt")" 'prober:\*\*\*@127\.0\.0\.1'

# --- the scrape's deadline -------------------------------------------------------------
t0=$(date +%s.%N)
curl -s -G -H 'X-Prometheus-Scrape-Timeout-Seconds: 1.5' --data-urlencode module=slow \
	--data-urlencode "target=http://127.0.0.1:$FP/hang" "http://127.0.0.1:$VP/probe" > "$T/slow.txt"
t1=$(date +%s.%N)
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
assert_eq "scrape timeout: probe failed" "$(val "$T/slow.txt" probe_success)" 0
assert_le "scrape timeout: answered within the scrape's 1.5s ($took s)" "$took" 1.45
assert_le "scrape timeout: not before header - 0.5s ($took s)" 0.9 "$took"

# many probes at once, each suspended while it runs
pp=""
for k in $(seq 1 30); do
	probe "http://127.0.0.1:$VP" http_2xx "http://127.0.0.1:$NP/ok" "$T/many.$k" &
	pp="$pp $!"
done
for j in $pp; do wait "$j" || true; done
assert_eq "30 concurrent probes: all answered" "$(cat "$T"/many.* | grep -c '^probe_success 1$')" 30

serve_stop

finish
