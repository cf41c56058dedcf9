# test_dns.sh - the dns check against a real DNS server (dnsmasq) on the
# loopback of a private network and mount namespace (unshare -rnm, as
# root): /etc/resolv.conf is bind-mounted to name that server, so the
# check resolves through the system resolver exactly as every other check
# does, and nothing leaves the namespace.
#  - names with one, several, only IPv6 addresses; expect.addresses and
#    expect.count with the shared operators; family;
#  - a name the server says does not exist fails (an answer to judge);
#  - a lookup asked of a DNS server that is down but not refusing ends
#    the check at its deadline ("resolving the name"), and a check beside
#    it is not held;
#  - bad keys are refused with the place named.
if [ -z "${VD_IN_NETNS:-}" ]; then
	command -v unshare > /dev/null || { echo "test_dns: unshare is missing (util-linux)" >&2; exit 1; }
	exec unshare -rnm env VD_IN_NETNS=1 bash "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

command -v dnsmasq > /dev/null || { echo "test_dns: dnsmasq is missing (tests/deps.sh)" >&2; exit 1; }
ip link set lo up
printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:1\n' > "$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf
# no test name may come from the real /etc/hosts
grep -v '\.test' /etc/hosts > "$T/etc-hosts" || true
mount --bind "$T/etc-hosts" /etc/hosts

cat > "$T/records" <<EOF
127.0.0.1 app.test
127.0.0.2 multi.test
127.0.0.3 multi.test
127.0.0.4 multi.test
::1 six.test
127.0.0.5 dual.test
::5 dual.test
EOF
dnsmasq --keep-in-foreground --no-resolv --no-hosts --addn-hosts="$T/records" \
	--local=/test/ \
	--listen-address=127.0.0.1 --bind-interfaces --port=53 --user= --group= \
	--pid-file= --log-queries --log-facility=- > "$T/dnsmasq.out" 2>&1 &
DNSMASQ=$!
PIDS="$PIDS $DNSMASQ"
n=100
until grep -q 'started' "$T/dnsmasq.out"; do
	n=$((n - 1)); [ $n -gt 0 ] || { cat "$T/dnsmasq.out" >&2; echo "servers did not start" >&2; exit 1; }; sleep 0.05
done

cat > "$T/dns.json" <<'EOF'
{ "name": "dns", "defaults": { "timeout": "5s" }, "checks": [
  { "name": "one", "type": "dns", "host": "app.test",
    "expect": { "addresses": ["127.0.0.1"] } },
  { "name": "contains", "type": "dns", "host": "multi.test",
    "expect": { "addresses": { "contains": "127.0.0.3" }, "count": 3 } },
  { "name": "count-ge", "type": "dns", "host": "multi.test",
    "expect": { "count": { "ge": 2 } } },
  { "name": "count-wrong", "type": "dns", "host": "multi.test",
    "expect": { "count": { "le": 2 } } },
  { "name": "missing-address", "type": "dns", "host": "app.test",
    "expect": { "addresses": { "contains": "10.9.9.9" } } },
  { "name": "six", "type": "dns", "host": "six.test", "family": "ipv6",
    "expect": { "addresses": ["::1"] } },
  { "name": "six-no-v4", "type": "dns", "host": "six.test", "family": "ipv4" },
  { "name": "dual-v4", "type": "dns", "host": "dual.test", "family": "ipv4",
    "expect": { "addresses": ["127.0.0.5"] } },
  { "name": "dual-any", "type": "dns", "host": "dual.test",
    "expect": { "addresses": ["127.0.0.5", "::5"] } },
  { "name": "nxdomain", "type": "dns", "host": "gone.test" }
] }
EOF
run_verdict run --format json "$T/dns.json"
cp "$T/out" "$T/report.json"
assert_eq "dns suite: exit code (some checks fail)" "$RC" 1
assert_clean_stderr "dns suite"
expect one pass none '^app\.test: 127\.0\.0\.1$'
expect contains pass none '^multi\.test: 127\.0\.0\.2, 127\.0\.0\.3, 127\.0\.0\.4$'
expect count-ge pass none '^multi\.test: '
expect count-wrong fail value '^multi\.test count: 3 is not <= 2$'
expect missing-address fail value '^app\.test addresses: \["127\.0\.0\.1"\] does not contain "10\.9\.9\.9"$'
expect six pass none '^six\.test: ::1$'
expect six-no-v4 fail value '^six\.test has no IPv4 address$'
expect dual-v4 pass none '^dual\.test: 127\.0\.0\.5$'
expect dual-any pass none '^dual\.test: 127\.0\.0\.5, ::5$'
expect nxdomain fail value '^could not resolve gone\.test: '
assert_eq "facts: address_count" "$(check_field contains '.facts.address_count')" 3
assert_eq "facts: addresses" "$(check_field contains '.facts.addresses')" "127.0.0.2, 127.0.0.3, 127.0.0.4"
assert_match "the lookups reached dnsmasq" "$(cat "$T/dnsmasq.out")" 'query\[A\] multi\.test from 127\.0\.0\.1'

# --- a DNS server that never answers ---------------------------------------
# dnsmasq is replaced by a UDP socket on port 53 that reads and never
# answers (no ICMP either): the lookup would last resolv.conf's 30 s; the
# check ends at its deadline, and the check beside it is not held.
kill "$DNSMASQ"
wait "$DNSMASQ" 2>/dev/null || true
"$TOOLS/silent" 53 --udp > "$T/dns53.out" 2>&1 &
PIDS="$PIDS $!"
n=100
until grep -q ready "$T/dns53.out"; do
	n=$((n - 1)); [ $n -gt 0 ] || { echo "silent did not start" >&2; exit 1; }; sleep 0.05
done
cat > "$T/stuck.json" <<'EOF'
{ "name": "stuck", "checks": [
  { "name": "stuck", "type": "dns", "host": "app.test", "timeout": "1s" },
  { "name": "numeric", "type": "dns", "host": "127.0.0.1", "timeout": "5s" }
] }
EOF
set +e
timeout 25 "$VERDICT" run --format json "$T/stuck.json" > "$T/out" 2> "$T/err"
RC=$?
set -e
assert_eq "stuck: exit code (before the 30 s lookup could end)" "$RC" 1
assert_clean_stderr "stuck"
expect stuck error timeout '^timeout after 1s \(resolving the name\)$'
expect numeric pass none '^127\.0\.0\.1: 127\.0\.0\.1$'
assert_match "the lookup reached the silent server" "$(cat "$T/dns53.out")" '^query [0-9]+'
ended_before numeric stuck

# --- bad configurations --------------------------------------------------
bad_conf "no host" '{ "name": "d", "type": "dns" }' 'checks\[0\]\.host: required'
bad_conf "host with a port" '{ "name": "d", "type": "dns", "host": "a.test:53" }' 'checks\[0\]\.host: expected a host name'
bad_conf "bad family" '{ "name": "d", "type": "dns", "host": "a.test", "family": "ip4" }' 'checks\[0\]\.family: expected "any", "ipv4" or "ipv6"'
bad_conf "bad operator" '{ "name": "d", "type": "dns", "host": "a.test", "expect": { "count": { "gte": 1 } } }' 'checks\[0\]\.expect\.count'
bad_conf "unknown expect key" '{ "name": "d", "type": "dns", "host": "a.test", "expect": { "address": "1.2.3.4" } }' 'checks\[0\]\.expect\.address: unknown key'
bad_conf "unknown key" '{ "name": "d", "type": "dns", "host": "a.test", "port": 53 }' 'checks\[0\]\.port: unknown key'

finish
