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
	same "$label" "$b" "$v" probe_ip_protocol
	same "$label" "$b" "$v" probe_ip_addr_hash
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
		assert_eq "$label: probe_ssl_last_chain_info" \
			"$(grep '^probe_ssl_last_chain_info{' "$v")" "$(grep '^probe_ssl_last_chain_info{' "$b")"
		assert_match "$label: chain info has a fingerprint" "$(cat "$v")" \
			'^probe_ssl_last_chain_info\{fingerprint_sha256="[0-9a-f]{64}",'
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

# strict host:port for host targets (tcp, tls modules)
for t in "127.0.0.1:80x" "127.0.0.1:+80" "127.0.0.1: 80" "127.0.0.1:" "127.0.0.1:0" \
	"127.0.0.1:65536" "::1:80" "[127.0.0.1]:80" "[::1]x" ":80"; do
	assert_eq "tcp target '$t': 400" \
		"$(code --data-urlencode module=tcp_connect --data-urlencode "target=$t" "http://127.0.0.1:$VP/probe")" 400
done
assert_eq "tcp target '::1:80' says why" \
	"$(code --data-urlencode module=tcp_connect --data-urlencode "target=::1:80" "http://127.0.0.1:$VP/probe"; cat "$T/code.body")" \
	"400Bad target: an IPv6 address needs brackets: [::1]:port"

# malformed requests: a 400 answer, never a dropped connection
raw() { # PORT BYTES(printf format): prints the status line of the answer
	python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin1"))
s.settimeout(10)
data = b""
while b"\r\n" not in data:
    d = s.recv(4096)
    if not d:
        break
    data += d
print(data.split(b"\r\n")[0].decode("latin1") if data else "(closed)")
PY
}
assert_eq "NUL in the request line: 400" \
	"$(raw "$VP" 'GET /probe?module=tcp_connect\x00&target=127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n')" "HTTP/1.1 400 Bad Request"
args=$(awk 'BEGIN { for (i = 0; i < 3000; i++) printf "a%d=1&", i }')
assert_eq "3000 query arguments: 400" \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$VP/probe?${args}module=tcp_connect")" 400
args=$(awk 'BEGIN { for (i = 0; i < 10000; i++) printf "a%d=1&", i }')
assert_eq "10000 query arguments (a request line over 16 KiB): 400" \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$VP/probe?${args}module=tcp_connect")" 400

# X-Prometheus-Scrape-Timeout-Seconds as blackbox_exporter reads it
hdr() { # PORT VALUE: the status of a probe sent with the header
	curl -s -o "$T/hdr.body" -w '%{http_code}' -G -H "X-Prometheus-Scrape-Timeout-Seconds: $2" \
		--data-urlencode module=tcp_connect --data-urlencode "target=127.0.0.1:$NP" \
		--data-urlencode debug=true "http://127.0.0.1:$1/probe"
}
for h in abc 1s 0x; do
	assert_eq "scrape timeout '$h': blackbox answers 500" "$(hdr "$BP" "$h")" 500
	assert_eq "scrape timeout '$h': verdict answers 500" "$(hdr "$VP" "$h")" 500
done
assert_match "unparseable scrape timeout: says so" "$(cat "$T/hdr.body")" 'Failed to parse timeout from Prometheus header'
assert_eq "scrape timeout below the offset: 200" "$(hdr "$VP" 0.3)" 200
assert_match "scrape timeout below the offset: the module's 5s" "$(cat "$T/hdr.body")" 'timeout_seconds=5\.000'
assert_eq "scrape timeout 2s: 200" "$(hdr "$VP" 2)" 200
assert_match "scrape timeout 2s: 1.5s (the 0.5s offset kept)" "$(cat "$T/hdr.body")" 'timeout_seconds=1\.500'

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
