# test_staging.sh - suites/staging.json, the replacement of the bash
# staging smoke test, against a local stack the test starts: nginx (the
# backend's and frontend's paths with security and CORS headers, HTTPS
# with a test CA), PostgreSQL 15, Redis 7, and the files a deploy leaves
# (.env.staging, deployment.json, docker-compose.staging.yml). The suite
# must pass; then one thing at a time is broken and the right check must
# fail with a reason a person can act on, secrets never shown.
#
# Edits to the suite: the https URL and CA of the tls check (this stack's
# STAGING_URL is plain http) and, for the fast variant, the health
# stage's retries. The copies live in the deploy directory, beside the
# files they name (relative paths in a suite are taken from its folder).
# test_stack.sh runs the suite unmodified against a real stack.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

SUITE=$(cd "$here/../.." && pwd)/suites/staging.json
S=$T/stack
mkdir -p "$S/www/static/admin/css" "$S/state" "$T/bin"

# --- the stack -----------------------------------------------------------
sh "$here/certs.sh" "$T/certs"
start_postgres pg
start_redis redis
HTTP_PORT=$(free_port)
while :; do TLS_PORT=$(free_port); [ "$TLS_PORT" != "$HTTP_PORT" ] && break; done
while :; do
	EXPIRED_PORT=$(free_port)
	[ "$EXPIRED_PORT" != "$HTTP_PORT" ] && [ "$EXPIRED_PORT" != "$TLS_PORT" ] && break
done
APP_ORIGIN=https://app.staging.test

printf '<!DOCTYPE html>\n<html><head><title>app</title></head><body><div id="root"></div></body></html>\n' > "$S/www/index.html"
printf 'body { margin: 0 }\n' > "$S/www/static/admin/css/base.css"

# Toggles: a file in $S/state breaks one thing without a reload.
nginx_conf "$S" "
	map \$http_origin \$cors_allowed { default \"\"; \"$APP_ORIGIN\" \$http_origin; }
	server {
		listen 127.0.0.1:$HTTP_PORT;
		server_tokens off;
		root $S/www;
		add_header X-Content-Type-Options nosniff always;
		add_header X-Frame-Options DENY always;
		add_header Content-Security-Policy \"default-src 'self'; frame-ancestors 'none'\" always;
		add_header Referrer-Policy strict-origin-when-cross-origin always;
		add_header Strict-Transport-Security \"max-age=31536000; includeSubDomains\" always;
		location = / {
			if (-f $S/state/no-headers) { rewrite ^ /bare/index.html last; }
			try_files /index.html =404;
		}
		location /bare/ {
			# an add_header here: none of the server's is inherited
			alias $S/www/;
			add_header X-Powered-By \"Express\" always;
		}
		location = /api/system/health/ {
			default_type application/json;
			if (-f $S/state/health-down) { return 503 '{\"status\": \"unavailable\"}'; }
			return 200 '{\"status\": \"ok\", \"checks\": {\"database\": \"ok\"}}';
		}
		location = /api/system/readiness/ {
			default_type application/json;
			return 200 '{\"ready\": true}';
		}
		location = /api/auth/login/ {
			default_type application/json;
			if (\$request_method = GET) { return 405; }
			# (nginx does not read a body it answers with return: any
			# JSON login passes here; test_stack.sh logs in for real)
			if (\$http_content_type = application/json) { return 200 '{\"token\": \"tok-1\"}'; }
			return 400;
		}
		location = /api/auth/profile/ {
			default_type application/json;
			if (\$http_authorization = 'Bearer tok-1') { return 200 '{\"username\": \"smoke\", \"roles\": [\"tester\"]}'; }
			if (-f $S/state/profile-public) { return 200 '{\"email\": \"admin@example.com\"}'; }
			return 401;
		}
		location /api/ {
			set \$acao \$cors_allowed;
			if (-f $S/state/cors-reflect) { set \$acao \$http_origin; }
			if (\$request_method = OPTIONS) {
				add_header Access-Control-Allow-Origin \$acao always;
				add_header Access-Control-Allow-Credentials true always;
				add_header Access-Control-Allow-Methods \"GET, POST, PUT, PATCH, DELETE\" always;
				add_header Access-Control-Allow-Headers \"Content-Type, Authorization\" always;
				add_header Vary Origin always;
				return 204;
			}
			return 404;
		}
	}
	server {
		listen 127.0.0.1:$TLS_PORT ssl;
		ssl_certificate $T/certs/good.pem;
		ssl_certificate_key $T/certs/good.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		return 200 'ok';
	}
	server {
		listen 127.0.0.1:$EXPIRED_PORT ssl;
		ssl_certificate $T/certs/expired.pem;
		ssl_certificate_key $T/certs/expired.key;
		return 200 'ok';
	}"
start_nginx "$S" "$HTTP_PORT" "$TLS_PORT" "$EXPIRED_PORT"

DB_URL="postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
RD_URL="redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0"
SECRET="sk-$RANDOM$RANDOM$RANDOM-staging"

# The files a deploy leaves in its directory (the suite's defaults).
write_env() {
	cat > "$S/.env.staging" <<EOF
# staging
SECRET_KEY=$SECRET
DATABASE_URL=$DB_URL
REDIS_URL=$RD_URL
ALLOWED_HOSTS=staging.example.com,127.0.0.1
BACKEND_TAG=abc1234
EOF
}
write_manifest() {
	cat > "$S/deployment.json" <<EOF
{ "deployment_id": "staging-20250101-abc1234", "environment": "staging",
  "commit_sha": "abc1234", "deployed_at": "2025-01-01T12:00:00Z",
  "images": { "backend": "ghcr.io/acme/backend:abc1234",
              "frontend": "ghcr.io/acme/frontend:abc1234" } }
EOF
}
write_compose() {
	cat > "$S/docker-compose.staging.yml" <<'EOF'
version: "3.8"
services:
  backend:
    image: "ghcr.io/acme/backend:${BACKEND_TAG}"
    environment:
      DATABASE_URL: "${DATABASE_URL}"
      REDIS_URL: "${REDIS_URL}"
    security_opt: ["no-new-privileges:true"]
  frontend:
    image: "ghcr.io/acme/frontend:${BACKEND_TAG}"
EOF
}
write_env
write_manifest
write_compose

# `docker compose` (v2) is not packaged in Debian 12; docker-compose (v1,
# Debian's) reads the same files and validates them the same way. This
# stand-in hands `docker compose ARGS` to it.
cat > "$T/bin/docker" <<'EOF'
#!/bin/sh
[ "$1" = compose ] || { echo "docker (test stand-in): only 'compose' is supported" >&2; exit 125; }
shift
exec docker-compose "$@"
EOF
chmod +x "$T/bin/docker"

# The suite with the TLS check on the test's port and CA; the fast
# variant also waits for health once (100ms) instead of 14 times (5s),
# and leaves out compose-config (docker-compose takes a second or two to
# start) except where the compose file is what is broken.
jq --arg ca "$T/certs/ca.pem" --arg url "https://127.0.0.1:$TLS_PORT" \
	'(.checks[] | select(.name == "tls")) |= (.tls = {ca_file: $ca} | .url = $url)' \
	"$SUITE" > "$S/staging.json"
jq '(.checks[] | select(.stage == "health")) |= (.retries = 1 | .interval = "100ms")' \
	"$S/staging.json" > "$S/staging-fast-compose.json"
jq 'del(.checks[] | select(.name == "compose-config"))' \
	"$S/staging-fast-compose.json" > "$S/staging-fast.json"

export STAGING_URL="http://127.0.0.1:$HTTP_PORT" STAGING_HOST=127.0.0.1
export SMOKE_USER=smoke SMOKE_PASSWORD=smoke-pw
export DATABASE_URL="$DB_URL" REDIS_URL="$RD_URL" CORS_ORIGIN="$APP_ORIGIN"
export PATH="$T/bin:$PATH"
unset ENV_FILE MANIFEST COMPOSE_FILE

# run_suite FILE ARGS...: verdict run from the deploy directory.
run_suite() {
	local f=$1
	shift
	set +e
	(cd "$S" && "$VERDICT" run "$@" "$f") > "$T/out" 2> "$T/err"
	RC=$?
	set -e
}

no_secrets() { # what
	assert_no_match "$1: no secret in the output" "$(cat "$T/out" "$T/err")" \
		"$PG_PASSWORD|$REDIS_PASSWORD|$SECRET"
}

# --- the suite as shipped ----------------------------------------------------
# (the tls check takes STAGING_URL, which must then be https)
STAGING_URL="https://127.0.0.1:$TLS_PORT" run_verdict validate "$SUITE"
assert_eq "validate: exit code" "$RC" 0
assert_match "validate: counts" "$(cat "$T/out")" 'ok \(19 checks, 2 stages\)'
(unset STAGING_URL; "$VERDICT" validate "$SUITE") > "$T/out" 2> "$T/err" && RC=0 || RC=$?
assert_eq "validate without STAGING_URL: exit code" "$RC" 2
assert_match "validate without STAGING_URL: message" "$(cat "$T/err")" \
	'staging.json: checks\[0\]\.url: environment variable STAGING_URL is not set'

# The editors' schema accepts the suite and refuses a wrong key.
schema_check() { # file -> "ok" or the first error
	python3 - "$here/../../suites/suite.schema.json" "$1" <<'PY'
import json, sys, jsonschema
v = jsonschema.Draft7Validator(json.load(open(sys.argv[1])))
errs = list(v.iter_errors(json.load(open(sys.argv[2]))))
print("ok" if not errs else "%s: %s" % (list(errs[0].absolute_path), errs[0].message))
PY
}
assert_eq "schema: staging.json" "$(schema_check "$SUITE")" ok
assert_eq "schema: the test's variant" "$(schema_check "$S/staging-fast-compose.json")" ok
jq '.checks[0].retry = 3' "$SUITE" > "$T/typo.json"
assert_match "schema: a typo is refused" "$(schema_check "$T/typo.json")" "'retry' was unexpected"

# --- everything healthy --------------------------------------------------------
run_suite "$S/staging.json" -f json
assert_eq "healthy: exit code" "$RC" 0
assert_eq "healthy: verdict" "$(jq_out .verdict)" pass
assert_eq "healthy: every check passed" \
	"$(jq_out '[.checks[] | select(.status != "pass") | "\(.name): \(.reason)"] | join("; ")')" ""
assert_eq "healthy: 19 checks" "$(jq_out '.checks | length')" 19
assert_eq "healthy: health stage first" \
	"$(jq_out '[.checks[] | select(.stage == "health") | .name] | join(",")')" \
	"backend-health,frontend,readiness"
assert_eq "healthy: tls facts" "$(check_field tls .facts.tls_verify)" true
assert_clean_stderr "healthy"
no_secrets "healthy json"
for fmt in text junit tap markdown; do
	run_suite "$S/staging-fast.json" -v -f "$fmt"
	assert_eq "healthy $fmt: exit code" "$RC" 0
	assert_clean_stderr "healthy $fmt"
	no_secrets "healthy $fmt"
done

# --- one thing broken at a time ------------------------------------------------
# broken NAME CHECK STATUS REASON-REGEX: runs the fast suite ($FAST, or
# the one without compose-config), expects exit 1, CHECK with STATUS and
# REASON, and every other check passed (or, after a failed health stage,
# skipped).
broken() {
	local what=$1 chk=$2 st=$3 re=$4 others
	run_suite "${FAST:-$S/staging-fast.json}" -f json
	assert_eq "$what: exit code" "$RC" 1
	assert_eq "$what: $chk status" "$(check_field "$chk" .status)" "$st"
	assert_match "$what: $chk reason" "$(check_field "$chk" .reason)" "$re"
	others=$(jq -r --arg n "$chk" '[.checks[] | select(.name != $n and .status != "pass" and .status != "skipped") | "\(.name): \(.reason)"] | join("; ")' < "$T/out")
	assert_eq "$what: nothing else failed" "$others" ""
	assert_clean_stderr "$what"
	no_secrets "$what"
}

touch "$S/state/health-down"
broken "health 503" backend-health fail '^status 503, expected 200$'
assert_eq "health 503: tried twice" "$(check_field backend-health .attempts)" 2
assert_eq "health 503: smoke skipped" \
	"$(jq_out '[.checks[] | select(.stage == "smoke") | .status] | unique | join(",")')" skipped
rm "$S/state/health-down"

touch "$S/state/profile-public"
broken "profile public" auth-profile-protected fail '^status 200, expected 401 or 403$'
rm "$S/state/profile-public"

mv "$S/www/static/admin/css/base.css" "$T/base.css"
broken "static files missing" static-files fail '^status 404, expected 200$'
mv "$T/base.css" "$S/www/static/admin/css/base.css"

touch "$S/state/no-headers"
broken "security headers dropped" security-headers fail 'Content-Security-Policy.*X-Powered-By|X-Powered-By.*Content-Security-Policy'
rm "$S/state/no-headers"

touch "$S/state/cors-reflect"
broken "CORS reflects any origin" cors-foreign-origin-refused fail 'evil\.example'
rm "$S/state/cors-reflect"

jq --arg u "https://127.0.0.1:$EXPIRED_PORT" '(.checks[] | select(.name == "tls")) |= (.url = $u)' \
	"$S/staging-fast.json" > "$T/fast.tmp" && mv "$T/fast.tmp" "$S/staging-fast.json"
broken "certificate expired" tls fail 'expired'
jq --arg u "https://127.0.0.1:$TLS_PORT" '(.checks[] | select(.name == "tls")) |= (.url = $u)' \
	"$S/staging-fast.json" > "$T/fast.tmp" && mv "$T/fast.tmp" "$S/staging-fast.json"

DATABASE_URL="postgresql://$PG_USER:wrong-$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB" \
	broken "database password wrong" database error 'auth'

REDIS_URL="redis://:wrong-$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0" \
	broken "redis password wrong" redis error 'WRONGPASS|NOAUTH|auth'

sed -i 's/^SECRET_KEY=.*/SECRET_KEY=changeme/' "$S/.env.staging"
broken "env placeholder" env-file fail '^SECRET_KEY is a placeholder$'
sed -i '/^REDIS_URL=/d' "$S/.env.staging"
broken "env key missing" env-file fail '^SECRET_KEY is a placeholder; REDIS_URL missing$'
write_env

jq 'del(.images.frontend) | .environment = "production"' "$S/deployment.json" > "$T/m.tmp"
mv "$T/m.tmp" "$S/deployment.json"
broken "manifest incomplete" deployment-manifest fail '^images\.frontend missing; environment is "production", expected "staging"$'
write_manifest

sed -i 's/^    image: "ghcr.io\/acme\/frontend/    imagez: "ghcr.io\/acme\/frontend/' "$S/docker-compose.staging.yml"
FAST=$S/staging-fast-compose.json broken "compose file invalid" compose-config fail \
	"^exit 1, expected 0: .*imagez"
write_compose

# Paths come from the environment when given.
cp "$S/.env.staging" "$T/other.env"
echo "SECRET_KEY=<your secret key>" >> "$T/other.env"
ENV_FILE="$T/other.env" broken "ENV_FILE honoured" env-file fail '^SECRET_KEY is a placeholder$'

finish
