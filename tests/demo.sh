#!/bin/sh
# demo.sh - `make demo`: starts faultd (the test server, built at
# $BUILD/tools/faultd) on a free loopback port, runs suites/demo.json with
# ./verdict against it, prints the report and stops faultd. Exits with
# verdict's exit code (0: the demo suite passes, with one warning).
set -u
cd "$(dirname "$0")/.."
build=${BUILD:-build}
faultd=$build/tools/faultd
for f in "$faultd" ./verdict; do
	if [ ! -x "$f" ]; then
		echo "demo: $f is missing; run 'make demo'" >&2
		exit 2
	fi
done

tmp=$(mktemp -d /tmp/verdict-demo.XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# port 0: faultd picks a free port and prints "ready PORT"
"$faultd" 0 > "$tmp/faultd.out" 2> "$tmp/faultd.err" &
pid=$!
n=0
while ! grep -q '^ready' "$tmp/faultd.out" 2>/dev/null; do
	n=$((n + 1))
	if [ $n -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "demo: faultd did not start:" >&2
		cat "$tmp/faultd.err" >&2
		exit 1
	fi
	sleep 0.05
done
port=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$tmp/faultd.out")

echo "demo: faultd on 127.0.0.1:$port; running: ./verdict run suites/demo.json"
echo
DEMO_URL=http://127.0.0.1:$port ./verdict run suites/demo.json
rc=$?
echo
case $rc in
0) echo "demo: exit code 0 (every critical check passed; warnings allowed)" ;;
*) echo "demo: exit code $rc" ;;
esac
exit $rc
