# test_flow_netns.sh - a flow's cookie jar and the Secure rule, in a
# private network namespace (unshare -rn, as root): nothing leaves it.
# The app (tests/tools/flowapp.py) listens on 127.0.0.1 and on
# 10.203.0.1, an address on the namespace's own loopback that is not a
# loopback address: a Secure cookie set over plain http is sent back on
# 127.0.0.1 (a loopback origin counts as secure, as browsers do) and
# never to the http origin 10.203.0.1; an ordinary cookie goes to both.
if [ -z "${VD_IN_NETNS:-}" ]; then
	command -v unshare > /dev/null || { echo "test_flow_netns: unshare is missing (util-linux)" >&2; exit 1; }
	exec unshare -rn env VD_IN_NETNS=1 bash "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

OTHER=10.203.0.1
ip link set lo up
ip addr add "$OTHER/32" dev lo
AP=$(free_port)
python3 "$here/../tools/flowapp.py" 0.0.0.0 "$AP" "$T/tokens" > "$T/app.out" 2>&1 &
PIDS="$PIDS $!"
wait_port "$AP"

flow() { # name base
	cat <<EOF
  { "name": "$1", "type": "flow", "critical": false, "steps": [
      { "name": "set", "url": "$2/secure/set" },
      { "name": "plain", "url": "$2/session/login/" },
      { "name": "check", "url": "$2/secure/check", "expect": { "json": { "got_secure": true } } },
      { "name": "names", "url": "$2/cookies", "expect": { "json": { "names": { "contains": "csrftoken" } } } } ] }
EOF
}
cat > "$T/netns.json" <<EOF
{ "name": "netns", "checks": [
$(flow loopback "http://127.0.0.1:$AP"),
$(flow other-http "http://$OTHER:$AP")
] }
EOF
run_suite "$T/netns.json" 20
expect loopback pass '^4 steps passed'
expect other-http fail body '^step check: json got_secure: got false, expected true$'
# the ordinary cookie did go to the non-loopback origin: the jar works there
sed -i 's/"got_secure": true/"got_secure": false/' "$T/netns.json"
run_suite "$T/netns.json" 20
expect other-http pass '^4 steps passed'
expect loopback fail body '^step check: json got_secure: got true, expected false$'
finish
