# test_http_netns.sh - name resolution and address policy of the HTTP
# checks, in a private network and mount namespace (unshare -rnm, as
# root): nothing leaves it. Inside, /etc/resolv.conf points at a DNS
# server on the namespace's loopback that never answers (silent --udp;
# a lookup then lasts resolv.conf's 30 s), /etc/hosts names a few test
# hosts, 169.254.169.254 sits on lo and faultd listens there and on ::1.
#  - a stuck lookup ends at its check's deadline, and a loopback check
#    beside it reports at its own deadline: the run ends while the lookup
#    is still pending (an ordering: it cannot end before 30 s); twelve
#    stuck lookups do not keep a good name from resolving;
#  - redirects and names leading to link-local / metadata addresses are
#    refused unless allow_link_local;
#  - /probe applies the module's allow list to every hop's host and to
#    the addresses names resolve to.
if [ -z "${VD_IN_NETNS:-}" ]; then
	command -v unshare > /dev/null || { echo "test_http_netns: unshare is missing (util-linux)" >&2; exit 1; }
	exec unshare -rnm env VD_IN_NETNS=1 bash "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

META=169.254.169.254
ip link set lo up
ip addr add "$META/32" dev lo
printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:1\n' > "$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf
{ cat /etc/hosts; echo "$META meta.test"; echo "127.0.0.1 inner.test"; } > "$T/hosts"
mount --bind "$T/hosts" /etc/hosts

"$TOOLS/silent" 53 --udp > "$T/dns.out" 2>&1 &
PIDS="$PIDS $!"
start_faultd
read -r MP SP <<< "$(ports 2)"
"$TOOLS/faultd" "$MP" "$META" > "$T/meta.out" 2>&1 &
PIDS="$PIDS $!"
"$TOOLS/faultd" "$SP" ::1 > "$T/six.out" 2>&1 &
PIDS="$PIDS $!"
n=100
until grep -q ready "$T/meta.out" && grep -q ready "$T/six.out" && grep -q ready "$T/dns.out"; do
	n=$((n - 1)); [ $n -gt 0 ] || { echo "servers did not start" >&2; exit 1; }; sleep 0.05
done

# --- a stuck lookup beside a loopback check -----------------------------
cat > "$T/dns.json" <<EOF
{ "name": "dns", "checks": [
  { "name": "stuck", "type": "http", "url": "http://stuck.test:$FP/ok", "timeout": "2s" },
  { "name": "stuck-headers", "type": "security_headers", "url": "http://stuck.test/", "timeout": "2s" },
  { "name": "stuck-cors", "type": "cors", "url": "http://stuck.test/", "origin": "https://a.test", "timeout": "2s" },
  { "name": "loopback", "type": "http", "url": "$F/hang", "timeout": "3s" },
$(for i in 1 2 3 4 5 6 7 8 9; do
	echo "{ \"name\": \"stuck-$i\", \"type\": \"http\", \"url\": \"http://stuck-$i.test/\", \"timeout\": \"2s\" },"
done)
  { "name": "by-name", "type": "http", "url": "http://inner.test:$FP/ok", "timeout": "10s" }
] }
EOF
set +e
timeout 25 "$VERDICT" run --format json "$T/dns.json" > "$T/out" 2> "$T/err"
RC=$?
set -e
assert_clean_stderr "slow DNS"
# 124: still running after 25 s, i.e. waiting for the 30 s lookup
assert_eq "slow DNS: the run ended before the lookup could" "$RC" 1
assert_match "slow DNS: the lookup reached the silent server" "$(cat "$T/dns.out")" '^query [0-9]+'
expect stuck error timeout '^timeout after 2s \(resolving the name\)$'
expect stuck-headers error timeout '^timeout after 2s \(resolving the name\)$'
expect stuck-cors error timeout '^timeout after 2s \(resolving the name\)$'
expect loopback error timeout '^timeout after 3s \(waiting for the response\)$'
expect stuck-9 error timeout '^timeout after 2s \(resolving the name\)$'
# twelve stuck lookups on a pool of eight threads: the ones abandoned at
# their deadline make room, so a good name still resolves
expect by-name pass none '^status 200$'
ended_before stuck loopback
ended_before stuck by-name

# --- link-local and metadata addresses (run) ----------------------------
cat > "$T/meta.json" <<EOF
{ "name": "meta", "defaults": { "timeout": "10s" }, "checks": [
  { "name": "redirect-meta", "type": "http", "url": "$F/redirect?to=http://$META:$MP/ok" },
  { "name": "redirect-meta-allowed", "type": "http", "url": "$F/redirect?to=http://$META:$MP/ok",
    "allow_link_local": true },
  { "name": "name-meta", "type": "http", "url": "http://meta.test:$MP/ok" },
  { "name": "literal-meta", "type": "security_headers", "url": "http://$META:$MP/ok" },
  { "name": "redirect-six", "type": "http", "url": "$F/redirect?to=http://%5B::1%5D:$SP/ok" }
] }
EOF
run_suite "$T/meta.json" 20
expect redirect-meta fail redirect "^redirect to http://$META:$MP/ok refused: address $META is a cloud metadata address \(set allow_link_local to allow\)$"
expect redirect-meta-allowed pass none '^status 200$'
expect name-meta error policy "^http://meta.test:$MP/ok refused: meta.test \(address $META\) is a cloud metadata address"
expect literal-meta error policy "refused: address $META is a cloud metadata address"
# loopback is not refused outside /probe
expect redirect-six pass none '^status 200$'

# --- /probe: the allow list on every hop and on resolved addresses -------
cat > "$T/serve.json" <<EOF
{ "modules": {
    "v4": { "check": { "type": "http", "timeout": "10s" }, "allow": ["127.0.0.1"] },
    "both": { "check": { "type": "http", "timeout": "10s" }, "allow": ["127.0.0.1", "::1"] },
    "names": { "check": { "type": "http", "timeout": "10s" }, "allow": ["*.test"] },
    "names-loop": { "check": { "type": "http", "timeout": "10s" }, "allow": ["*.test", "127.0.0.0/8"] },
    "meta": { "check": { "type": "http", "timeout": "10s" }, "allow": ["127.0.0.1", "169.254.0.0/16"] },
    "tcp": { "check": { "type": "tcp", "timeout": "10s" }, "allow": ["*.test"] }
} }
EOF
serve_start "$T/serve.json"
# probe MODULE TARGET NAME: the debug answer in $T/NAME
probe() {
	curl -s -G --data-urlencode "module=$1" --data-urlencode "target=$2" \
		--data-urlencode debug=true "$V/probe" > "$T/$3"
}
success() { grep -q '^probe_success 1' "$T/$1" && echo 1 || echo 0; }
reason() { sed -n 's/.* reason="\([^"]*\)".*/\1/p' "$T/$1" | head -n 1; }

probe v4 "$F/redirect?to=http://%5B::1%5D:$SP/ok" six
assert_eq "/probe: a redirect to [::1] outside the list fails" "$(success six)" 0
assert_match "/probe: why" "$(reason six)" "^redirect to http://\[::1\]:$SP/ok refused: host ::1 is not in the module's allow list$"
probe both "$F/redirect?to=http://%5B::1%5D:$SP/ok" six-ok
assert_eq "/probe: the same redirect, ::1 allowed" "$(success six-ok)" 1
probe names "http://inner.test:$FP/ok" inner
assert_eq "/probe: an allowed name resolving to loopback fails" "$(success inner)" 0
assert_match "/probe: why (name)" "$(reason inner)" "^http://inner.test:$FP/ok refused: inner.test \(address 127.0.0.1\) is a loopback address not in the module's allow list$"
probe names-loop "http://inner.test:$FP/ok" inner-ok
assert_eq "/probe: the same name, 127.0.0.0/8 allowed" "$(success inner-ok)" 1
probe meta "$F/redirect?to=http://$META:$MP/ok" meta
assert_eq "/probe: metadata stays refused without allow_link_local" "$(success meta)" 0
assert_match "/probe: why (metadata)" "$(reason meta)" "cloud metadata address \(set allow_link_local to allow\)$"
probe tcp "inner.test:$FP" tcp
assert_eq "/probe tcp: a name resolving to loopback fails" "$(success tcp)" 0
assert_match "/probe tcp: why" "$(reason tcp)" "^inner.test \(address 127.0.0.1\) is a loopback address not in the module's allow list$"
serve_stop

finish
