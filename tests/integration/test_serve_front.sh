# test_serve_front.sh - `verdict serve`'s HTTP front against hostile and
# careless clients, on a real serve: 600 slowloris clients (one header
# byte a second, reconnecting whenever closed) and 1000 idle ones, while
# /metrics, /healthz and /probe keep answering; a request deadline that a
# trickle of bytes does not extend (408); the per-client limit (a crowd
# from 127.0.0.2 makes room among its own connections, not 127.0.0.1's);
# bcrypt-12 password checks off the loop (a /healthz sent while 24 wrong
# passwords wait for the hashing threads is answered before them), the
# Basic scheme in any case; reload keeping a 1.5 s run in flight while
# POST /-/reload comes every 0.7 s, /-/reload refused unless enabled
# (SIGHUP still reloads), /-/healthy and /-/ready; /metrics gzip-encoded
# when asked (decoded equals plain, promtool passes).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

ulimit -n 8192 2> /dev/null || true
start_faultd

# crowd.py MODE N PORT SECONDS [SOURCE-ADDRESS]: N clients that never
# finish a request. MODE slow: "GET /metrics HTTP/1.1\r\n" then one header
# byte every INTERVAL seconds (env, default 1); idle: nothing. A client the
# server closes connects again (at most 200 a second). Touches $T/crowd.ready
# once the first N are connected; at the end prints
# "connects=A closed=B timeouts408=C".
cat > "$T/crowd.py" <<'PY'
import os, selectors, socket, sys, time
mode, n, port, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
src = sys.argv[5] if len(sys.argv) > 5 else None
ready = sys.argv[6] if len(sys.argv) > 6 else None
interval = float(os.environ.get("INTERVAL", "1"))
sel = selectors.DefaultSelector()
stats = {"connects": 0, "closed": 0, "timeouts408": 0}
header = b"X-Slow: " + b"a" * 4000 + b"\r\n"

def connect():
    s = socket.socket()
    if src:
        s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    stats["connects"] += 1
    st = {"sent": 0, "next": time.monotonic(), "got": b""}
    if mode == "slow":
        s.send(b"GET /metrics HTTP/1.1\r\n")
    sel.register(s, selectors.EVENT_READ, st)

for _ in range(n):
    connect()
if ready:
    open(ready, "w").close()
end = time.monotonic() + secs
budget, budget_t = 200, time.monotonic()
pending = 0
while time.monotonic() < end:
    for key, _ in sel.select(timeout=0.05):
        s, st = key.fileobj, key.data
        try:
            d = s.recv(4096)
        except (ConnectionResetError, BlockingIOError):
            d = b""
        st["got"] += d
        if not d:
            if st["got"].startswith(b"HTTP/1.1 408"):
                stats["timeouts408"] += 1
            sel.unregister(s)
            s.close()
            stats["closed"] += 1
            pending += 1
    now = time.monotonic()
    if mode == "slow":
        for key in list(sel.get_map().values()):
            st = key.data
            if now >= st["next"] and st["sent"] < len(header):
                try:
                    key.fileobj.send(header[st["sent"]:st["sent"] + 1])
                    st["sent"] += 1
                except OSError:
                    pass
                st["next"] = now + interval
    if now - budget_t >= 1:
        budget, budget_t = 200, now
    while pending and budget:
        try:
            connect()
        except OSError:
            break
        pending -= 1
        budget -= 1
print("connects=%d closed=%d timeouts408=%d" % (stats["connects"], stats["closed"], stats["timeouts408"]))
PY

# field OUT NAME: a number from crowd.py's summary line
field() { sed -n "s/.*$2=\([0-9]*\).*/\1/p" "$1"; }
# metric NAME: the value of an unlabelled sample on the current page
metric() { curl -s -m 10 "$V/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
# answers TAG: /metrics, /healthz and /probe each answer 200 (and the
# probe succeeds), each within a generous 10 s
answers() {
	assert_eq "$1: /metrics answers" "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$V/metrics")" 200
	assert_eq "$1: /healthz answers" "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$V/healthz")" 200
	assert_match "$1: /probe answers" \
		"$(curl -s -m 10 "$V/probe?module=tcp&target=127.0.0.1:$FP" || true)" '^probe_success 1$'
}
wait_file() { local n=200; until [ -e "$1" ] || [ $n -le 0 ]; do sleep 0.05; n=$((n - 1)); done; }

# --- 600 slowloris clients ---------------------------------------------------------
cat > "$T/front.json" <<EOF
{ "serve": { "every": "1s", "enable_lifecycle": true, "request_timeout": "2s" },
  "modules": { "tcp": { "check": { "type": "tcp", "timeout": "5s" }, "allow": ["127.0.0.1"] } },
  "checks": [ { "name": "ok", "type": "http", "url": "$F/ok" } ] }
EOF
serve_start "$T/front.json"
python3 "$T/crowd.py" slow 600 "$VP" 8 "" "$T/crowd.ready" > "$T/slow.out" &
CROWD=$!
wait_file "$T/crowd.ready"
sleep 1
answers "600 slowloris clients"
sleep 1
answers "600 slowloris clients, later"
wait "$CROWD"
assert_le "slowloris: the crowd's connections were closed to make room" 100 "$(field "$T/slow.out" closed)"
assert_le "slowloris: evictions counted" 100 "$(metric verdict_serve_connections_evicted_total)"

# a client that sends a byte every 0.3 s is never idle, yet its request
# is cut at request_timeout (2 s) with a 408, long before its 4 KB header
# would be complete
INTERVAL=0.3 python3 "$T/crowd.py" slow 1 "$VP" 4 > "$T/one.out"
assert_le "request deadline: the trickling client got a 408" 1 "$(field "$T/one.out" timeouts408)"
assert_le "request deadline: counted" 1 "$(metric verdict_serve_request_timeouts_total)"

# the per-client limit: 60 idle connections from 127.0.0.1 first, then a
# crowd from 127.0.0.2 that keeps reconnecting: with 16 per client, the
# crowd makes room among its own connections, 127.0.0.1's stay open
cat > "$T/perclient.json" <<EOF
{ "serve": { "max_connections": 64, "max_connections_per_client": 16 },
  "checks": [ { "name": "ok", "type": "http", "url": "$F/ok" } ] }
EOF
serve_stop
serve_start "$T/perclient.json"
python3 "$T/crowd.py" idle 10 "$VP" 6 127.0.0.1 "$T/mine.ready" > "$T/mine.out" &
MINE=$!
wait_file "$T/mine.ready"
python3 "$T/crowd.py" idle 200 "$VP" 3 127.0.0.2 > "$T/other.out"
wait "$MINE"
assert_eq "per client: 127.0.0.1's 10 connections were never closed" "$(field "$T/mine.out" closed)" 0
assert_le "per client: 127.0.0.2's crowd made room among its own" 184 "$(field "$T/other.out" closed)"
serve_stop

# --- 1000 idle clients (no per-client cap: the table itself is full) ---------------
cat > "$T/idle.json" <<EOF
{ "serve": { "max_connections_per_client": 100000, "connection_timeout": "1h" },
  "modules": { "tcp": { "check": { "type": "tcp", "timeout": "5s" }, "allow": ["127.0.0.1"] } },
  "checks": [ { "name": "ok", "type": "http", "url": "$F/ok" } ] }
EOF
serve_start "$T/idle.json"
python3 "$T/crowd.py" idle 1000 "$VP" 6 "" "$T/idle.ready" > "$T/idle.out" &
CROWD=$!
wait_file "$T/idle.ready"
sleep 1
answers "1000 idle clients"
assert_le "1000 idle clients: the table is full (512)" 500 "$(metric verdict_serve_connections)"
wait "$CROWD"
assert_le "idle: the oldest idle connections made room" 488 "$(metric verdict_serve_connections_evicted_total)"
serve_stop

# --- password hashing off the loop ----------------------------------------------------
HASH=$(htpasswd -nbB -C 12 prom 's3cret-Pass' | cut -d: -f2)
cat > "$T/auth.json" <<EOF
{ "serve": { "basic_auth": { "users": { "prom": "${HASH//\$/\$\$}" } } },
  "checks": [ { "name": "ok", "type": "http", "url": "$F/ok", "every": "500ms" } ] }
EOF
serve_start "$T/auth.json"
assert_eq "bcrypt: right password" "$(curl -s -m 10 -o /dev/null -w '%{http_code}' -u prom:s3cret-Pass "$V/metrics")" 200
B64=$(printf 'prom:s3cret-Pass' | base64)
assert_eq "scheme in any case: bAsIc" \
	"$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "Authorization: bAsIc $B64" "$V/metrics")" 200
assert_eq "scheme: Bearer is not Basic" \
	"$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $B64" "$V/metrics")" 401
pending() { curl -s -m 10 -u prom:s3cret-Pass "$V/metrics" | awk '$1 == "verdict_serve_auth_checks_pending" { print $2 }'; }
runs() { curl -s -m 10 -u prom:s3cret-Pass "$V/metrics" | awk '$1 == "verdict_check_runs_total{check=\"ok\",type=\"http\",stage=\"main\",result=\"pass\"}" { print $2 }'; }
: > "$T/order"
aa=""
for k in $(seq 1 24); do
	u=prom
	[ $((k % 4)) = 0 ] && u=nobody # unknown users cost a hash too
	{ c=$(curl -s -m 60 -o /dev/null -w '%{http_code}' -u "$u:wrong-$k" "$V/metrics"); echo "attack $c" >> "$T/order"; } &
	aa="$aa $!"
done
n=100
until [ "$(pending)" -ge 20 ] 2> /dev/null || [ $n -le 0 ]; do sleep 0.05; n=$((n - 1)); done
p=$(pending)
assert_le "bcrypt: wrong passwords wait for the hashing threads ($p)" 20 "$p"
r0=$(runs)
c=$(curl -s -m 60 -o /dev/null -w '%{http_code}' "$V/healthz")
echo "healthz $c" >> "$T/order"
c=$(curl -s -m 60 -o /dev/null -w '%{http_code}' -u prom:s3cret-Pass "$V/metrics")
echo "scrape $c" >> "$T/order"
for j in $aa; do wait "$j" || true; done
after=$(awk '/^healthz/ { h = 1; next } h && /^attack/ { n++ } END { print n + 0 }' "$T/order")
assert_le "bcrypt: /healthz sent during the attack answered before most of it ($after of 24 after it)" 12 "$after"
assert_eq "bcrypt: /healthz 200" "$(grep -c '^healthz 200$' "$T/order")" 1
after=$(awk '/^scrape/ { h = 1; next } h && /^attack/ { n++ } END { print n + 0 }' "$T/order")
assert_le "bcrypt: a cached scrape during the attack answered before most of it ($after after it)" 12 "$after"
assert_eq "bcrypt: the cached scrape got 200" "$(grep -c '^scrape 200$' "$T/order")" 1
assert_eq "bcrypt: every wrong password refused" "$(grep -c '^attack 401$' "$T/order")" 24
assert_le "bcrypt: scheduled runs went on during the attack" "$((r0 + 1))" "$(runs)"
serve_stop
assert_no_match "bcrypt: the hash is never logged" "$(cat "$T/serve.err")" 'YmKa|\$2y\$'

# --- authentication soaked: many logins in one serve, RSS and fds flat ---------------------
# Right, wrong and unknown users and garbled headers, 1,600 requests in
# all (SHA-512 hashes: cheap enough for many); resident memory and
# descriptors are read after 400 of them and again at the end. ASan's
# quarantine would hold every freed block: off for this serve.
HASH6=$(openssl passwd -6 's3cret-Pass')
cat > "$T/authsoak.json" <<EOF
{ "serve": { "basic_auth": { "users": { "prom": "${HASH6//\$/\$\$}" } } },
  "checks": [ { "name": "ok", "type": "http", "url": "$F/ok", "every": "1s" } ] }
EOF
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0:malloc_context_size=0" serve_start "$T/authsoak.json"
logins() { # FIRST COUNT: COUNT requests of every kind, one status a line
	local i
	for i in $(seq "$1" $(($1 + $2 - 1))); do
		case $((i % 4)) in
		0) printf 'url = "%s/metrics"\nuser = "prom:s3cret-Pass"\n' "$V" ;;
		1) printf 'url = "%s/metrics"\nuser = "prom:wrong-%d"\n' "$V" "$i" ;;
		2) printf 'url = "%s/metrics"\nuser = "nobody-%d:x"\n' "$V" "$i" ;;
		3) printf 'url = "%s/metrics"\nheader = "Authorization: Basic %%%%%d"\n' "$V" "$i" ;;
		esac
		printf 'output = /dev/null\nwrite-out = "%%{http_code}\\n"\n'
		# each request its own credentials: options reset at "next"
		if [ "$i" -lt $(($1 + $2 - 1)) ]; then echo next; fi
	done > "$T/logins.cfg"
	curl -s -m 300 -K "$T/logins.cfg"
}
auth_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$VPID/status"; }
# descriptors: the fewest of 5 readings (a closed client's connection may
# linger a moment before serve sees its end)
auth_nfds() {
	local i n least=999999
	for i in 1 2 3 4 5; do
		n=$(find "/proc/$VPID/fd" -mindepth 1 2> /dev/null | wc -l)
		[ "$n" -lt "$least" ] && least=$n
		sleep 0.2
	done
	echo "$least"
}
logins 0 400 > "$T/codes"
r1=$(auth_rss_kb) f1=$(auth_nfds)
logins 400 1200 >> "$T/codes"
r2=$(auth_rss_kb) f2=$(auth_nfds)
echo "auth soak: RSS $r1 -> $r2 KiB, fds $f1 -> $f2"
assert_eq "auth soak: right passwords 200" "$(grep -c '^200$' "$T/codes")" 400
assert_eq "auth soak: the rest refused" "$(grep -c '^401$' "$T/codes")" 1200
assert_le "auth soak: RSS grew less than 1 KiB a login over 1,200" "$((r2 - r1))" 1200
assert_le "auth soak: no descriptor kept" "$f2" "$f1"
serve_stop

# --- reload keeps a run in flight ---------------------------------------------------------
cat > "$T/reload.json" <<EOF
{ "serve": { "enable_lifecycle": true },
  "checks": [ { "name": "slow", "type": "http", "url": "$F/delay?ms=1500", "every": "1s", "timeout": "5s" } ] }
EOF
serve_start "$T/reload.json"
SL='verdict_check_runs_total{check="slow",type="http",stage="main",result="pass"}'
r0=$(metric "$SL")
codes=""
for k in $(seq 1 10); do
	codes="$codes$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "$V/-/reload")"
	sleep 0.7
done
assert_eq "reload every 0.7s: each answered 200" "$codes" "$(printf '200%.0s' $(seq 1 10))"
r1=$(metric "$SL")
assert_le "reload every 0.7s: the 1.5s check kept completing ($r0 -> $r1)" "$((r0 + 2))" "$r1"
assert_eq "reload: no run cancelled (no error)" \
	"$(metric 'verdict_check_runs_total{check="slow",type="http",stage="main",result="error"}')" 0
assert_eq "/-/healthy" "$(curl -s -m 10 "$V/-/healthy")" "verdict is Healthy."
assert_eq "/-/ready" "$(curl -s -m 10 "$V/-/ready")" "verdict is Ready."
assert_eq "POST /-/healthy: 405" "$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "$V/-/healthy")" 405
serve_stop

cat > "$T/nolife.json" <<EOF
{ "checks": [ { "name": "ok", "type": "http", "url": "$F/ok", "every": "1h" } ] }
EOF
serve_start "$T/nolife.json"
assert_eq "lifecycle off: POST /-/reload is 403" "$(curl -s -m 10 -o "$T/403.txt" -w '%{http_code}' -X POST "$V/-/reload")" 403
assert_match "lifecycle off: says how to turn it on" "$(cat "$T/403.txt")" 'serve\.enable_lifecycle'
t0=$(metric verdict_config_last_reload_success_timestamp_seconds)
sleep 1.1
kill -HUP "$VPID"
n=100
until [ "$(metric verdict_config_last_reload_success_timestamp_seconds)" != "$t0" ] || [ $n -le 0 ]; do sleep 0.05; n=$((n - 1)); done
assert_match "lifecycle off: SIGHUP still reloads" "$(cat "$T/serve.err")" 'config reloaded'

# --- gzip ---------------------------------------------------------------------------------
curl -s -m 10 -D "$T/gz.head" -H 'Accept-Encoding: gzip' -o "$T/page.gz" "$V/metrics"
curl -s -m 10 -D "$T/plain.head" -o "$T/page.txt" "$V/metrics"
assert_match "gzip: Content-Encoding" "$(tr -d '\r' < "$T/gz.head")" '^Content-Encoding: gzip$'
assert_match "gzip: Vary" "$(tr -d '\r' < "$T/gz.head")" '^Vary: Accept-Encoding$'
assert_no_match "gzip: not unasked" "$(tr -d '\r' < "$T/plain.head")" 'Content-Encoding'
gunzip -c < "$T/page.gz" > "$T/page.dec"
# the same page but for figures that move between two scrapes
steady() { grep -Ev '^(process_|verdict_serve_|verdict_metrics_render_seconds|verdict_scheduler_)' "$1"; }
assert_eq "gzip: decoded equals plain" "$(steady "$T/page.dec" | md5sum)" "$(steady "$T/page.txt" | md5sum)"
assert_eq "gzip: the same series" "$(sed 's/ [^ ]*$//' "$T/page.dec" | md5sum)" "$(sed 's/ [^ ]*$//' "$T/page.txt" | md5sum)"
assert_le "gzip: smaller" "$(wc -c < "$T/page.gz")" "$(wc -c < "$T/page.txt")"
if promtool check metrics < "$T/page.dec" > "$T/promtool.out" 2>&1; then
	echo "ok: gzip: promtool check metrics on the decoded page"
else
	cat "$T/promtool.out" >&2
	fail "gzip: promtool check metrics on the decoded page"
fi
assert_no_match "gzip;q=0 is a refusal" \
	"$(curl -s -m 10 -D - -o /dev/null -H 'Accept-Encoding: gzip;q=0, identity' "$V/metrics" | tr -d '\r')" 'Content-Encoding'
serve_stop

finish
