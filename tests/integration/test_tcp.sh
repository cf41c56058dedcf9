# test_tcp.sh - the "tcp" check against nginx (connect, send a request,
# expect a banner), a peer that speaks first (silent --banner), a peer
# that never answers (silent), a port whose connects never complete
# (silent --full), a refused port and an unknown name; deadlines end at
# their deadline, and no check leaves a socket open: 250 checks with
# --concurrency 50, then the open descriptors of the still-running
# process are compared with a run of one check.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

read -r WEB BANNER SILENT FULL DEAD HOLD <<< "$(ports 6)"

nginx_conf "$T/nginx" "server { listen 127.0.0.1:$WEB; location / { return 200 \"hello\\n\"; } }"
start_nginx "$T/nginx" "$WEB"
"$TOOLS/silent" "$BANNER" --banner "220 verdict-test ESMTP ready
" > "$T/banner.out" 2>&1 &
PIDS="$PIDS $!"
"$TOOLS/silent" "$SILENT" > "$T/silent.out" 2>&1 &
PIDS="$PIDS $!"
"$TOOLS/silent" "$FULL" --full > "$T/full.out" 2>&1 &
PIDS="$PIDS $!"
"$TOOLS/silent" "$HOLD" --full > "$T/hold.out" 2>&1 &
PIDS="$PIDS $!"
wait_port "$BANNER"
wait_port "$SILENT"
# no wait_port for FULL: its connects hang by design; it says "ready"
for _ in $(seq 100); do
	grep -q ready "$T/full.out" && grep -q ready "$T/hold.out" && break
	sleep 0.05
done

cat > "$T/suite.json" <<EOF
{ "name": "tcp", "defaults": { "timeout": "2s", "critical": false }, "checks": [
  { "name": "open", "type": "tcp", "host": "127.0.0.1", "port": $WEB },
  { "name": "by-name", "type": "tcp", "host": "localhost", "port": $WEB },
  { "name": "http", "type": "tcp", "host": "127.0.0.1", "port": $WEB,
    "send": "GET / HTTP/1.0\r\nHost: x\r\n\r\n",
    "expect": { "banner": { "regex": "^HTTP/1\\\\.1 200 .*hello" } } },
  { "name": "http-mismatch", "type": "tcp", "host": "127.0.0.1", "port": $WEB,
    "send": "GET / HTTP/1.0\r\n\r\n", "expect": { "banner": "HTTP/1.1 404" } },
  { "name": "send-only", "type": "tcp", "host": "127.0.0.1", "port": $WEB,
    "send": "GET / HTTP/1.0\r\n\r\n" },
  { "name": "banner", "type": "tcp", "host": "127.0.0.1", "port": $BANNER,
    "expect": { "banner": "220 verdict-test" } },
  { "name": "banner-regex", "type": "tcp", "host": "127.0.0.1", "port": $BANNER,
    "expect": { "banner": { "regex": "^220 [a-z-]+ ESMTP" } } },
  { "name": "echo", "type": "tcp", "host": "127.0.0.1", "port": $BANNER,
    "send": "PING-42\r\n", "expect": { "banner": "PING-42" } },
  { "name": "banner-mismatch", "type": "tcp", "host": "127.0.0.1", "port": $BANNER,
    "timeout": "1s", "expect": { "banner": { "regex": "^SSH-2\\\\.0" } } },
  { "name": "silent", "type": "tcp", "host": "127.0.0.1", "port": $SILENT,
    "timeout": "1s", "expect": { "banner": "220" } },
  { "name": "connect-hangs", "type": "tcp", "host": "127.0.0.1", "port": $FULL, "timeout": "1s" },
  { "name": "refused", "type": "tcp", "host": "127.0.0.1", "port": $DEAD },
  { "name": "refused-by-name", "type": "tcp", "host": "localhost", "port": $DEAD },
  { "name": "nxdomain", "type": "tcp", "host": "no-such..host", "port": 80 }
] }
EOF

run_verdict run --format json "$T/suite.json"
assert_clean_stderr "tcp suite"
[ "$RC" -le 1 ] || { cat "$T/err" >&2; fail "suite ran (exit $RC)"; finish; }
st() { check_field "$1" '.status + " " + .reason_kind'; }
reason() { check_field "$1" .reason; }

assert_eq "open port: pass" "$(st open)" "pass none"
assert_eq "open port: reason" "$(reason open)" "connected to 127.0.0.1:$WEB"
assert_eq "open port: address fact" "$(check_field open .facts.address)" "127.0.0.1:$WEB"
assert_eq "open port: target" "$(check_field open .target)" "127.0.0.1:$WEB"
assert_match "open port: resolve timing" "$(check_field open .timings.resolve)" '^[0-9.e-]+$'
assert_match "open port: connect timing" "$(check_field open .timings.connect)" '^[0-9.e-]+$'
assert_eq "by name (resolver thread): pass" "$(st by-name)" "pass none"
assert_eq "send + regex banner: pass" "$(st http)" "pass none"
assert_match "send + regex banner: reason" "$(reason http)" '^banner matched: "HTTP/1.1 200 OK\\r\\n'
assert_match "send + banner: first byte timing" "$(check_field http .timings.first_byte)" '^[0-9.e-]+$'
assert_eq "banner mismatch at EOF: fail body" "$(st http-mismatch)" "fail body"
assert_match "banner mismatch at EOF: reason" "$(reason http-mismatch)" \
	'^banner mismatch: peer closed the connection; got "HTTP/1.1 200 OK\\r\\n.*", expected to contain "HTTP/1.1 404"$'
assert_match "banner fact" "$(check_field http-mismatch .facts.banner)" '^HTTP/1.1 200 OK\\r\\n'
assert_eq "send without expect: pass" "$(reason send-only)" "connected to 127.0.0.1:$WEB, sent the request"
assert_eq "server speaks first: pass" "$(st banner)" "pass none"
assert_eq "server speaks first, regex: pass" "$(st banner-regex)" "pass none"
assert_eq "send then expect the echo: pass" "$(st echo)" "pass none"
assert_eq "banner said but never matching: fail" "$(st banner-mismatch)" "fail body"
assert_match "banner never matching: reason" "$(reason banner-mismatch)" \
	'^banner mismatch: no match before the deadline; got "220 verdict-test ESMTP ready\\n", expected a match for /\^SSH-2\\.0/$'
assert_le "banner never matching: judged by its 1s deadline" "$(check_field banner-mismatch .duration_seconds)" 2.5
assert_eq "silent peer: timeout" "$(st silent)" "error timeout"
assert_eq "silent peer: reason" "$(reason silent)" "timeout after 1s"
assert_le "silent peer: ends at its 1s deadline" "$(check_field silent .duration_seconds)" 2.5
assert_eq "connect never completes: timeout" "$(st connect-hangs)" "error timeout"
assert_le "connect never completes: ends at its 1s deadline" "$(check_field connect-hangs .duration_seconds)" 2.5
assert_eq "refused: error refused" "$(st refused)" "error refused"
assert_eq "refused: reason" "$(reason refused)" "connection refused (127.0.0.1:$DEAD)"
assert_match "refused by name: every address tried" "$(reason refused-by-name)" \
	"^connection refused \((127\.0\.0\.1|\[::1\]):$DEAD(, [0-9]+ addresses tried)?\)\$"
assert_eq "unknown name: error dns" "$(st nxdomain)" "error dns"
assert_match "unknown name: reason" "$(reason nxdomain)" '^could not resolve no-such..host: '

# --- configuration errors name their place
bad_conf "no port" '{ "name": "x", "type": "tcp", "host": "h" }' 'checks\[0\]\.port: required'
bad_conf "bad regex" '{ "name": "x", "type": "tcp", "host": "h", "port": 1, "expect": { "banner": { "regex": "(" } } }' \
	'checks\[0\]\.expect\.banner\.regex: invalid regular expression: missing closing parenthesis'
bad_conf "banner type" '{ "name": "x", "type": "tcp", "host": "h", "port": 1, "expect": { "banner": 3 } }' \
	'checks\[0\]\.expect\.banner: expected a non-empty string'

# --- no socket left behind. Stage "work" runs many checks (refused,
# banner matched, deadlines hit, names resolved); stage "hold" then keeps
# the process alive on one silent connection while its descriptors are
# counted, and compared with the same run with one check in "work".
fd_suite() { # FILE N
	{
		echo '{ "name": "fds", "defaults": { "critical": false, "timeout": "500ms" }, "checks": ['
		for i in $(seq "$2"); do
			case $((i % 5)) in
			0) echo "{ \"name\": \"w$i\", \"type\": \"tcp\", \"stage\": \"work\", \"host\": \"127.0.0.1\", \"port\": $DEAD },";;
			1) echo "{ \"name\": \"w$i\", \"type\": \"tcp\", \"stage\": \"work\", \"host\": \"localhost\", \"port\": $DEAD },";;
			2) echo "{ \"name\": \"w$i\", \"type\": \"tcp\", \"stage\": \"work\", \"host\": \"127.0.0.1\", \"port\": $BANNER, \"expect\": { \"banner\": \"220\" } },";;
			3) echo "{ \"name\": \"w$i\", \"type\": \"tcp\", \"stage\": \"work\", \"host\": \"127.0.0.1\", \"port\": $FULL },";;
			4) echo "{ \"name\": \"w$i\", \"type\": \"tcp\", \"stage\": \"work\", \"host\": \"127.0.0.1\", \"port\": $SILENT, \"expect\": { \"banner\": \"x\" } },";;
			esac
		done
		echo "{ \"name\": \"hold\", \"type\": \"tcp\", \"stage\": \"hold\", \"timeout\": \"3s\", \"host\": \"127.0.0.1\", \"port\": $HOLD } ] }"
	} > "$1"
}
count_fds() { # SUITE -> prints the open descriptors while "hold" runs
	local pid n=0 i
	"$VERDICT" run --concurrency 50 --format json "$1" > "$T/fd.out" 2> "$T/fd.err" &
	pid=$!
	# the work stage is over once "hold" connects (stages run in order)
	for i in $(seq 100); do
		sleep 0.1
		ss -Htn state syn-sent "dport = :$HOLD" | grep -q . && break
	done
	sleep 0.2
	n=$(ls "/proc/$pid/fd" | wc -l)
	wait "$pid" || true
	echo "$n"
}
fd_suite "$T/one.json" 1
fd_suite "$T/many.json" 250
base=$(count_fds "$T/one.json")
many=$(count_fds "$T/many.json")
assert_eq "250 checks leave no descriptor open (one check: $base)" "$many" "$base"
assert_eq "250 checks: all results" "$(jq '.checks | length' "$T/fd.out")" 251
if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/fd.err"; then
	cat "$T/fd.err" >&2; fail "fd run: sanitizer report"
fi

finish
