#!/bin/sh
# image.sh - `make check-image`: builds the Dockerfile with podman
# (--isolation=chroot: crun cannot use these machines' cgroups;
# --format docker: OCI images have no HEALTHCHECK) over a
# local debian:bookworm-slim made from the debootstrap root of
# chroot_lib.sh (`podman import`; no registry is reachable), checks the
# image's user, entrypoint, command and healthcheck, then exports its file
# system and runs in it, with chroot --userspec as the image's user:
# `verdict --version`, `verdict validate` of a config mounted where the
# README says, the image's command (`verdict serve`) on a loopback port,
# the HEALTHCHECK command against it, and `verdict run` of a suite against
# it. Needs root, podman and Debian's mirror.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/chroot_lib.sh"
ship_need_root
command -v podman > /dev/null || ship_die "needs podman (apt-get install podman)"
image=${IMAGE:-localhost/verdict:test}
ctr=""
root=""
cleanup() {
	set +e
	[ -n "$ctr" ] && podman rm -f "$ctr" > /dev/null 2>&1
	if [ -n "$root" ]; then
		# what still runs in the exported root (a serve this script started)
		for p in /proc/[0-9]*; do
			if [ "$(readlink "$p/root" 2> /dev/null)" = "$root" ]; then
				kill "${p#/proc/}" 2> /dev/null
			fi
		done
		ship_umount "$root"
		grep -q " $root/" /proc/mounts || rm -rf "$root"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

base=docker.io/library/debian:bookworm-slim
if ! podman image exists "$base"; then
	b=$(ship_base)
	echo "image: podman import of $b as $base"
	tar -C "$b" --exclude=./.complete -c . |
		podman import --change 'CMD ["bash"]' - "$base" > /dev/null
fi
echo "image: podman build --isolation=chroot -t $image (log: $SHIP_CACHE/image-build.log)"
if ! podman build --isolation=chroot --format docker --pull=never -t "$image" "$top" \
	> "$SHIP_CACHE/image-build.log" 2>&1; then
	tail -n 30 "$SHIP_CACHE/image-build.log" >&2
	ship_die "podman build failed"
fi

fails=0
ok() { echo "image: ok: $1"; }
bad() {
	echo "image: FAILED: $1" >&2
	fails=$((fails + 1))
}
want() { # want NAME GOT WANTED
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi
}
cfg() { podman image inspect --format "$1" "$image"; }
want "runs as the user verdict" "$(cfg '{{.Config.User}}')" verdict
want "entrypoint" "$(cfg '{{json .Config.Entrypoint}}')" '["verdict"]'
want "command: serve the mounted config" "$(cfg '{{json .Config.Cmd}}')" \
	'["serve","--listen",":9799","/etc/verdict/serve.json"]'
want "healthcheck" "$(cfg '{{json .Config.Healthcheck.Test}}')" \
	'["CMD","verdict","run","-q","/usr/share/verdict/healthcheck.json"]'
echo "image: size $(cfg '{{.Size}}') bytes"

root=$(mktemp -d "$SHIP_CACHE/image.XXXXXX")
chmod 0755 "$root" # it is /: the user must be able to enter it
ctr=$(podman create "$image")
podman export "$ctr" | tar -C "$root" -x
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount -t sysfs sysfs "$root/sys"

# no compiler, no -dev packages in the runtime
if [ -e "$root/usr/bin/gcc" ] || ls "$root"/usr/include/*.h > /dev/null 2>&1; then
	bad "the runtime has build tools or headers"
else
	ok "no compiler or headers in the runtime"
fi
as_user() { chroot --userspec=verdict:verdict "$root" /usr/bin/env -i \
	PATH=/usr/bin:/bin HOME=/nonexistent "$@"; }
if v=$(as_user verdict --version); then ok "verdict --version as verdict: $v"; else bad "verdict --version"; fi
want "verdict's uid is not 0" "$(as_user id -u | sed 's/^0$/root/')" "$(chroot "$root" id -u verdict)"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# the config, where a -v ...:/etc/verdict/serve.json:ro mount puts it
cat > "$root/etc/verdict/serve.json" << EOF
{ "name": "image", "serve": { "every": "1s" },
  "checks": [ { "name": "self", "type": "tcp", "host": "127.0.0.1", "port": $port } ] }
EOF
if as_user verdict serve --check-config /etc/verdict/serve.json > /dev/null 2>&1; then
	ok "verdict serve --check-config of the mounted /etc/verdict/serve.json"
else bad "the mounted config does not validate"; fi
cat > "$root/tmp/suite.json" << EOF
{ "name": "image", "checks": [
  { "name": "up", "type": "http", "url": "http://127.0.0.1:$port/healthz",
    "retries": 40, "interval": "250ms", "stage": "up" },
  { "name": "metrics", "type": "http", "url": "http://127.0.0.1:$port/metrics",
    "retries": 40, "interval": "250ms",
    "expect": { "body_contains": "verdict_check_success{check=\"self\",type=\"tcp\"" } },
  { "name": "port", "type": "tcp", "host": "127.0.0.1", "port": $port } ] }
EOF
if as_user verdict validate /tmp/suite.json > /dev/null; then
	ok "verdict validate of a suite"
else bad "verdict validate"; fi

# the image's command, as the user; the container's :9799 is $port here.
# metrics waits (retries) until serve has run its scheduled check once.
# (chroot execs env, env execs verdict: $! is verdict serve itself)
chroot --userspec=verdict:verdict "$root" /usr/bin/env -i PATH=/usr/bin:/bin \
	HOME=/nonexistent verdict serve --listen "127.0.0.1:$port" \
	/etc/verdict/serve.json > "$SHIP_CACHE/image-serve.log" 2>&1 &
spid=$!
if as_user verdict run /tmp/suite.json > "$SHIP_CACHE/image-run.log" 2>&1; then
	ok "verdict run against verdict serve, inside the image"
else
	bad "verdict run: $(cat "$SHIP_CACHE/image-run.log")"
fi
if as_user env VERDICT_HEALTHZ="http://127.0.0.1:$port/healthz" \
	verdict run -q /usr/share/verdict/healthcheck.json > /dev/null 2>&1; then
	ok "the HEALTHCHECK command passes against serve"
else bad "the HEALTHCHECK command failed"; fi
kill "$spid"
wait "$spid" 2> /dev/null || true
if as_user env VERDICT_HEALTHZ="http://127.0.0.1:$port/healthz" \
	verdict run -q /usr/share/verdict/healthcheck.json > /dev/null 2>&1; then
	bad "the HEALTHCHECK command passes with serve stopped"
else ok "the HEALTHCHECK command fails with serve stopped"; fi

# the documented compose service is a valid compose file
if command -v docker-compose > /dev/null; then
	if POSTGRES_PASSWORD=x REDIS_PASSWORD=x docker-compose \
		-f "$top/examples/docker-compose.verdict.yml" config -q; then
		ok "examples/docker-compose.verdict.yml: docker-compose config"
	else bad "examples/docker-compose.verdict.yml does not validate"; fi
fi

if [ $fails -ne 0 ]; then
	echo "image: $fails check(s) failed" >&2
	exit 1
fi
echo "image: ok: $image builds and runs verdict as a non-root user"
