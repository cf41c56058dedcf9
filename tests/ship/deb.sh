#!/bin/sh
# deb.sh - `make check-deb`: the package of `make deb`, installed with
# `apt-get install ./verdict_*.deb` into a fresh Debian 12 minbase chroot
# (apt resolves its Depends from Debian's mirror), then used there:
# `verdict --version`, the files it ships, the verdict group, and
# `verdict run` of a suite (http and tcp checks) against `verdict serve`
# started from the package on a loopback port. Needs root and the mirror.
# Depends on tests/ship/chroot_lib.sh; builds the package when missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/chroot_lib.sh"
ship_need_root
trap ship_cleanup EXIT
trap 'exit 130' INT TERM

cd "$top"
deb=$(ls verdict_*_amd64.deb 2> /dev/null | tail -n 1)
if [ -z "$deb" ]; then
	make -s deb
	deb=$(ls verdict_*_amd64.deb | tail -n 1)
fi
echo "deb: installing $deb into a fresh bookworm chroot"
ship_root_copy deb
root=$SHIP_ROOT
cp "$deb" "$root/tmp/"
fails=0
check() { # check NAME COMMAND: COMMAND in the chroot must succeed
	n=$1
	shift
	if out=$(ship_in "$root" "$*" < /dev/null 2>&1); then
		echo "deb: ok: $n"
	else
		echo "deb: FAILED: $n:" >&2
		echo "$out" | tail -n 20 >&2
		fails=$((fails + 1))
	fi
}
check "apt-get install ./$(basename "$deb")" \
	"cd /tmp && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ./$(basename "$deb") > /tmp/apt.log 2>&1 || { tail -20 /tmp/apt.log; exit 1; }"
check "verdict --version" "verdict --version | grep '^verdict [0-9]'"
check "the files it ships" "for f in /usr/share/man/man1/verdict.1.gz /usr/share/man/man1/verdict-serve.1.gz \
	/usr/share/man/man1/verdict-deploy.1.gz /usr/share/man/man5/verdict-suite.5.gz \
	/usr/share/bash-completion/completions/verdict /usr/share/zsh/vendor-completions/_verdict \
	/usr/share/fish/vendor_completions.d/verdict.fish /usr/share/verdict/suite.schema.json \
	/usr/share/doc/verdict/examples/serve.json /usr/share/doc/verdict/serve.md \
	/lib/systemd/system/verdict.service; do test -s \$f || { echo missing \$f; exit 1; }; done"
check "the unit runs the packaged binary" "grep -q '^ExecStart=/usr/bin/verdict serve' /lib/systemd/system/verdict.service"
check "the verdict group exists" "getent group verdict"
check "verdict validate of a shipped suite" "verdict validate /usr/share/doc/verdict/examples/demo.json"

# a free loopback port (the chroot shares this network namespace)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$root/tmp/serve.json" << EOF2
{ "name": "pkg", "serve": { "listen": "127.0.0.1:$port", "every": "1s" },
  "checks": [ { "name": "self", "type": "tcp", "host": "127.0.0.1", "port": $port } ] }
EOF2
cat > "$root/tmp/suite.json" << EOF2
{ "name": "pkg", "checks": [
  { "name": "healthz", "type": "http", "url": "http://127.0.0.1:$port/healthz",
    "retries": 20, "interval": "250ms", "stage": "up",
    "expect": { "status": 200, "body_contains": "ok" } },
  { "name": "metrics", "type": "http", "url": "http://127.0.0.1:$port/metrics",
    "expect": { "body_contains": "verdict_build_info" } },
  { "name": "port", "type": "tcp", "host": "127.0.0.1", "port": $port } ] }
EOF2
chroot "$root" /usr/bin/verdict serve /tmp/serve.json > "$SHIP_CACHE/deb-serve.log" 2>&1 &
check "verdict run against verdict serve on 127.0.0.1:$port" \
	"verdict run -v /tmp/suite.json"
# and a check that must fail: nothing listens on port 1
check "verdict run exits 1 when a check fails" \
	"printf '{\"name\":\"x\",\"checks\":[{\"name\":\"closed\",\"type\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":1}]}' > /tmp/f.json;
	verdict run /tmp/f.json; [ \$? -eq 1 ]"
check "apt-get remove verdict" "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q verdict > /dev/null 2>&1 && ! test -e /usr/bin/verdict"

if [ $fails -ne 0 ]; then
	echo "deb: $fails check(s) failed" >&2
	exit 1
fi
echo "deb: ok: $deb installs and runs on a fresh Debian 12"
