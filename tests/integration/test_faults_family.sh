# test_faults_family.sh - the faults test_faults.sh gives the http check,
# given to each other type that reads a peer: security_headers and cors
# (never answers, slow headers, trickles, resets mid-body, a malformed
# status line, two Content-Length headers, 80 KiB of headers, closes
# without answering), flow (the same faults at its second step, after a
# first that passed), tcp (never answers, trickles, resets, closes), and
# postgres and redis against a peer that answers garbage, trickles garbage,
# resets or closes after their first bytes (tests/tools/rawpeer.py).
# Each must end with its own verdict, kind and words, within its 1s
# deadline (the engine's timer; nothing here measures wall time).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

start_faultd
read -r RG RT RR RC <<< "$(ports 4)"
for m in garbage:$RG trickle:$RT reset:$RR close:$RC; do
	python3 "$here/../tools/rawpeer.py" "${m#*:}" "${m%%:*}" > "$T/raw-${m%%:*}.out" 2>&1 &
	PIDS="$PIDS $!"
	wait_port "${m#*:}"
done
python3 - "$F" "$FP" "$RG" "$RT" "$RR" "$RC" > "$T/f.json" << 'EOF'
import json, sys
F, P = sys.argv[1], int(sys.argv[2])
raw = dict(zip(["garbage", "trickle", "reset", "close"], sys.argv[3:7]))
faults = {"hang": "/hang", "trickle": "/trickle?bytes=100&ms=50",
          "reset": "/reset", "malformed": "/malformed",
          "length": "/length-conflict", "close": "/close",
          "bigheaders": "/big-headers?kb=80",
          "slowheaders": "/slow-headers?ms=5000"}
checks = []
for t in ["security_headers", "cors"]:
    for k, v in faults.items():
        c = {"name": f"{t}-{k}", "type": t, "url": F + v, "timeout": "1s"}
        if t == "cors":
            c["origin"] = "https://app.example.com"
        checks.append(c)
for k, v in faults.items():
    checks.append({"name": f"flow-{k}", "type": "flow", "timeout": "1s",
                   "steps": [{"name": "first", "url": F + "/ok"},
                             {"name": "second", "url": F + v}]})
for k, v in [("hang", "/hang"), ("trickle", "/trickle?bytes=100&ms=50"),
             ("reset", "/reset"), ("close", "/close")]:
    checks.append({"name": f"tcp-{k}", "type": "tcp", "host": "127.0.0.1",
                   "port": P, "timeout": "1s",
                   "send": f"GET {v} HTTP/1.0\r\n\r\n",
                   "expect": {"banner": "never-there"}})
for k, p in raw.items():
    checks.append({"name": f"postgres-{k}", "type": "postgres", "timeout": "1s",
                   "dsn": f"postgres://app:pw@127.0.0.1:{p}/app"})
    checks.append({"name": f"redis-{k}", "type": "redis", "timeout": "1s",
                   "host": "127.0.0.1", "port": int(p)})
print(json.dumps({"name": "family", "checks": checks}))
EOF
run_verdict run --progress none --format json "$T/f.json"
assert_eq "family: exit code" "$RC" 1
assert_clean_stderr family
for t in security_headers cors; do
	expect "$t-hang" error timeout '^timeout after 1s \(waiting for the response\)$'
	expect "$t-slowheaders" error timeout '^timeout after 1s \(reading the response headers\)$'
	expect "$t-trickle" error timeout '^timeout after 1s \(reading the body, [0-9]+ bytes received\)$'
	expect "$t-reset" error protocol '^connection broken after status 200 and [0-9]+ body bytes'
	expect "$t-malformed" error protocol '^malformed response'
	expect "$t-length" error protocol '^conflicting Content-Length headers \(2 and 5\)$'
	expect "$t-close" error protocol '^server closed the connection without answering$'
	expect "$t-bigheaders" error protocol '^response headers larger than 64 KiB$'
done
# a flow names the step that met the fault, with the http reason after it
expect flow-hang error timeout '^step second: timeout after 1s \(waiting for the response\)$'
expect flow-slowheaders error timeout '^step second: timeout after 1s \(reading the response headers\)$'
expect flow-trickle error timeout '^step second: timeout after 1s \(reading the body, [0-9]+ bytes received\)$'
expect flow-reset error protocol '^step second: connection broken after status 200 and [0-9]+ body bytes'
expect flow-malformed error protocol '^step second: malformed response'
expect flow-length error protocol '^step second: conflicting Content-Length headers \(2 and 5\)$'
expect flow-close error protocol '^step second: server closed the connection without answering$'
expect flow-bigheaders error protocol '^step second: response headers larger than 64 KiB$'
expect tcp-hang error timeout '^timeout after 1s$'
expect tcp-trickle fail body '^banner mismatch: no match before the deadline; got "HTTP/1\.1 200 OK'
expect tcp-reset fail body '^banner mismatch: connection reset; got "HTTP/1\.1 200 OK'
expect tcp-close error protocol '^peer closed the connection without sending anything$'
# libpq asks for TLS first: garbage or a trickle is a bad answer to that
expect postgres-garbage error tls '^TLS failed: received invalid response to SSL negotiation'
expect postgres-trickle error tls '^TLS failed: received invalid response to SSL negotiation'
expect postgres-reset error connect '^connection failed: server closed the connection unexpectedly'
expect postgres-close error connect '^connection failed: server closed the connection unexpectedly'
expect redis-garbage error connect '^connection lost: Protocol error, got ".+x80" as reply type byte$'
expect redis-trickle error connect '^connection lost: Protocol error, got ".+x99" as reply type byte$'
expect redis-reset error connect '^connection lost: Connection reset by peer$'
expect redis-close error connect '^connection lost: Server closed the connection$'
# every check has exactly one result, none lost to a fault
assert_eq "family: one result per check" "$(jq '.checks | length' < "$T/out")" 36
finish
