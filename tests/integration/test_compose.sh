# test_compose.sh - the compose-config check of suites/staging.json (as
# shipped) with Compose v2 (`docker compose`, a stand-in printing what
# v2 prints: no Docker daemon or plugin here) and with v1 (Debian's real
# docker-compose, behind a `docker` that has no compose plugin): the
# suite uses whichever is there, and a failure's reason is the error
# itself, not v1's closing link to the docs.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

SUITE=$(cd "$here/../.." && pwd)/suites/staging.json
mkdir -p "$T/v1" "$T/v2" "$T/none" "$T/d"
V1=$(command -v docker-compose)

# Docker with the v2 plugin: `compose version` works; `config` on the
# planted file fails as v2 does (one line, exit 15).
cat > "$T/v2/docker" <<'EOF2'
#!/bin/sh
[ "$1" = compose ] || exit 125
shift
case "$*" in
version) echo "Docker Compose version v2.24.5"; exit 0 ;;
*config*)
	echo "compose v2 $*" >> "$CALLS"
	if grep -q imagez "$COMPOSE_FILE"; then
		echo "validating $COMPOSE_FILE: services.frontend additional properties 'imagez' not allowed" >&2
		exit 15
	fi
	exit 0 ;;
esac
exit 1
EOF2
# Docker without it, as Debian 12's docker.io: v1 is docker-compose.
cat > "$T/v1/docker" <<'EOF2'
#!/bin/sh
echo "docker: '$1' is not a docker command." >&2
echo "See 'docker --help'" >&2
exit 1
EOF2
cat > "$T/v1/docker-compose" <<EOF2
#!/bin/sh
echo "compose v1 \$*" >> "\$CALLS"
exec $V1 "\$@"
EOF2
chmod +x "$T/v2/docker" "$T/v1/docker" "$T/v1/docker-compose"
# Neither: only what the suite's shell line needs.
for c in sh sed tr; do ln -s "$(command -v "$c")" "$T/none/$c"; done

export STAGING_URL=https://127.0.0.1:9 CORS_ORIGIN=https://a.test
export DATABASE_URL=postgresql://u@127.0.0.1:9/d REDIS_URL=redis://127.0.0.1:9
export SMOKE_USER=u SMOKE_PASSWORD=p
export COMPOSE_FILE="$T/d/docker-compose.staging.yml" ENV_FILE="$T/d/.env.staging"
export CALLS="$T/calls"
printf 'TAG=abc\n' > "$ENV_FILE"
good() { printf 'version: "3.8"\nservices:\n  frontend:\n    image: "acme/frontend:${TAG}"\n' > "$COMPOSE_FILE"; }

compose_run() { # PATH-DIR
	: > "$CALLS"
	set +e
	local path="$T/$1:/usr/bin:/bin"
	[ "$1" = none ] && path=$T/none
	PATH=$path "$VERDICT" run -f json --only compose-config "$SUITE" \
		> "$T/out" 2> "$T/err"
	RC=$?
	set -e
}

for v in v1 v2; do
	good
	compose_run "$v"
	assert_eq "$v: valid file: exit code" "$RC" 0
	assert_eq "$v: valid file: compose-config" "$(check_field compose-config .status)" pass
	assert_match "$v: the $v command ran" "$(cat "$CALLS")" "^compose $v -f $COMPOSE_FILE --env-file $ENV_FILE config -q\$"
	assert_clean_stderr "$v: valid file"
done

# v2's error is one line, given as it is.
printf 'version: "3.8"\nservices:\n  frontend:\n    imagez: x\n' > "$COMPOSE_FILE"
compose_run v2
assert_eq "v2: invalid: exit code" "$RC" 1
assert_eq "v2: invalid: reason" "$(check_field compose-config .reason)" \
	"exit 15, expected 0: validating $COMPOSE_FILE: services.frontend additional properties 'imagez' not allowed"

# v1 prints a heading, the error, then hint paragraphs ending in a link:
# the reason is the heading and the error.
compose_run v1
assert_eq "v1: invalid: exit code" "$RC" 1
assert_match "v1: invalid: reason" "$(check_field compose-config .reason)" \
	"^exit 1, expected 0: The Compose file '.*docker-compose.staging.yml' is invalid because: Unsupported config option for services.frontend: 'imagez'"
printf 'version: "3.8"\nfrontend:\n  image: x\n' > "$COMPOSE_FILE"
compose_run v1
assert_match "v1: wrong layout: the error, not the link" "$(check_field compose-config .reason)" \
	"is invalid because: 'frontend' does not match any of the regexes: '\\^x-' ?\$"
assert_no_match "v1: wrong layout: no link" "$(check_field compose-config .reason)" 'https://|For more'

# Neither: the shell says which command is missing.
good
compose_run none
assert_eq "none: exit code" "$RC" 1
assert_match "none: reason" "$(check_field compose-config .reason)" '^exit 127, expected 0: .*docker-compose: not found'

finish
