# test_http_hostile.sh - the HTTP checks against targets that try to
# stall, fool or exhaust the prober (issue 8), on loopback: a redirect
# chain whose headers together pass 64 KiB (the budget is per hop), one
# response whose headers pass it, conflicting Content-Length, redirects to
# file:// and gopher://, a redirect loop and a chain over max_redirects, a
# TLS handshake that never completes, credentials on a redirect to another
# origin, and 500 checks with 64 file descriptors.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

start_faultd
read -r OTHER SILENT <<< "$(ports 2)"
"$TOOLS/faultd" "$OTHER" > "$T/other.out" 2>&1 &
PIDS="$PIDS $!"
"$TOOLS/silent" "$SILENT" > "$T/silent.out" 2>&1 &
PIDS="$PIDS $!"
wait_port "$OTHER"
wait_port "$SILENT"
G=http://127.0.0.1:$OTHER

cat > "$T/hostile.json" <<EOF
{ "name": "hostile", "defaults": { "timeout": "10s" }, "checks": [
  { "name": "chain-40", "type": "http", "url": "$F/redirect-chain?n=40&pad=2000",
    "max_redirects": 40, "expect": { "body_contains": "ok" } },
  { "name": "chain-over", "type": "http", "url": "$F/redirect-chain?n=5&pad=10",
    "max_redirects": 4 },
  { "name": "chain-off", "type": "http", "url": "$F/redirect-chain?n=5&pad=10",
    "follow_redirects": false, "expect": { "status": 302 } },
  { "name": "big-headers", "type": "http", "url": "$F/big-headers?kb=80" },
  { "name": "headers-60k", "type": "http", "url": "$F/big-headers?kb=60" },
  { "name": "length-conflict", "type": "http", "url": "$F/length-conflict" },
  { "name": "to-file", "type": "http", "url": "$F/redirect?to=file:///etc/passwd" },
  { "name": "to-gopher", "type": "http", "url": "$F/redirect?to=gopher://127.0.0.1:$OTHER/" },
  { "name": "to-javascript", "type": "http", "url": "$F/redirect?to=javascript:alert(1)" },
  { "name": "to-garbage", "type": "http", "url": "$F/redirect?to=http://%5Bnot-v6" },
  { "name": "loop", "type": "http", "url": "$F/redirect-loop" },
  { "name": "relative", "type": "http", "url": "$F/redirect?to=%2Fredirect%3Fto%3D%252Fok",
    "expect": { "body_contains": "ok" } },
  { "name": "tls-stall", "type": "http", "url": "https://127.0.0.1:$SILENT/", "timeout": "3s" },
  { "name": "same-origin", "type": "http", "url": "$F/redirect?to=/echo",
    "headers": { "Authorization": "Bearer tok-b84d0e6a17" },
    "expect": { "body_contains": "Authorization: Bearer" } },
  { "name": "cross-origin", "type": "http", "url": "$F/redirect?to=$G/echo",
    "headers": { "Authorization": "Bearer tok-7f3a9c2e51", "X-Plain": "visible" },
    "expect": { "body_contains": "X-Plain: visible" } },
  { "name": "cross-origin-auth", "type": "http", "url": "$F/redirect?to=$G/echo",
    "headers": { "Authorization": "Bearer tok-7f3a9c2e51" },
    "expect": { "body_contains": "Authorization" } }
] }
EOF
run_suite "$T/hostile.json" 20
assert_eq "hostile: exit code" "$RC" 1

# the header budget is per hop: 40 x 2 KB passes (curl -L gets a 200 too)
expect chain-40 pass none '^status 200$'
assert_eq "chain-40: redirects" "$(check_field chain-40 .facts.http_redirects)" 40
expect chain-over fail redirect '^too many redirects: more than 4 \(next: http://127\.0\.0\.1:[0-9]+/redirect-chain\?n=0&pad=10\)$'
expect chain-off pass none '^status 302$'
expect big-headers error protocol '^response headers larger than 64 KiB$'
expect headers-60k pass none '^status 200$'
expect length-conflict error protocol '^conflicting Content-Length headers \(2 and 5\)$'
expect to-file fail redirect '^redirect to file:// refused$'
expect to-gopher fail redirect '^redirect to gopher:// refused$'
expect to-javascript fail redirect '^redirect to javascript:// refused$'
expect to-garbage fail redirect '^redirect to an invalid URL refused \(Location: http://\[not-v6\)$'
expect loop fail redirect '^redirect loop: http://127\.0\.0\.1:[0-9]+/redirect-loop redirects to itself$'
expect relative pass none '^status 200$'
assert_eq "relative: two hops" "$(check_field relative .facts.http_redirects)" 2
# TCP connects (the kernel's backlog), the handshake never completes
expect tls-stall error timeout '^timeout after 3s \(TLS handshake\)$'
# credentials stay with the first origin; other headers follow
expect same-origin pass none '^status 200$'
expect cross-origin pass none '^status 200$'
expect cross-origin-auth fail body '^body does not contain "Authorization"$'

# --- 500 checks with 64 descriptors: they queue, none fails to connect
{
	echo '{ "name": "fds", "defaults": { "timeout": "20s" }, "checks": ['
	for i in $(seq 1 500); do
		[ "$i" -gt 1 ] && echo ','
		echo "{ \"name\": \"f$i\", \"type\": \"http\", \"url\": \"$F/delay?ms=20\" }"
	done
	echo '] }'
} > "$T/fds.json"
set +e
(ulimit -n 64 && exec "$VERDICT" run --format json --concurrency 500 "$T/fds.json") > "$T/out" 2> "$T/err"
RC=$?
set -e
assert_clean_stderr "ulimit -n 64"
assert_eq "ulimit -n 64: exit code" "$RC" 0
assert_eq "ulimit -n 64: counts" "$(jq -c .counts < "$T/out")" '{"pass":500,"fail":0,"error":0,"skipped":0}'
assert_eq "ulimit -n 64: no connect errors" \
	"$(jq '[.checks[] | select(.reason_kind == "connect" or .reason_kind == "refused")] | length' < "$T/out")" 0

finish
