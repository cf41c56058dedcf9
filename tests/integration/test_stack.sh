# test_stack.sh - suites/staging.json as shipped, with only environment
# variables set, against the stack it is written for, stood up on
# loopback from Debian's packages: nginx (HTTPS with a private CA, the
# front page as a static file, /static/, /api/ proxied) in front of
# Django + Django REST framework + django-cors-headers under gunicorn,
# a Celery worker on Redis, PostgreSQL 15 and Redis 7. The Django
# project is tests/stack/stackapp. The suite must pass (it logs in with
# SMOKE_USER); then a fault is planted at a time and must be caught: a
# wrong password, Django's SecurityMiddleware removed (the suite once
# missed it), a certificate that does not verify (final at once, not
# retried 15 times), Redis stopped.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

SUITE=$(cd "$here/../.." && pwd)/suites/staging.json
APP=$(cd "$here/../stack" && pwd)
PY=/usr/bin/python3 # Debian's, where python3-django is
S=$T/stack
mkdir -p "$S/www" "$S/static" "$T/bin"

sh "$here/certs.sh" "$T/certs"
start_postgres pg
start_redis redis
G_PORT=$(free_port)
while :; do TLS_PORT=$(free_port); [ "$TLS_PORT" != "$G_PORT" ] && break; done
while :; do
	BAD_PORT=$(free_port)
	[ "$BAD_PORT" != "$G_PORT" ] && [ "$BAD_PORT" != "$TLS_PORT" ] && break
done
APP_ORIGIN=https://app.staging.test
SECRET="sk-$RANDOM$RANDOM$RANDOM-stack"
SMOKE_PW="smoke-Pw-$RANDOM$RANDOM"
DB_URL="postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
RD_URL="redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0"

# --- the backend ------------------------------------------------------------
export DJANGO_SETTINGS_MODULE=stackapp.settings PYTHONPATH="$APP"
export PYTHONDONTWRITEBYTECODE=1 SECRET_KEY="$SECRET" DATABASE_URL="$DB_URL"
export REDIS_URL="$RD_URL" CORS_ORIGIN="$APP_ORIGIN" STATIC_ROOT="$S/static"
export ALLOWED_HOSTS=127.0.0.1,localhost

GUNI_PID=
start_gunicorn() { # [VAR=value...]: environment of this start
	env "$@" gunicorn --chdir "$APP" --bind "127.0.0.1:$G_PORT" --workers 2 \
		--log-level warning stackapp.wsgi > "$S/gunicorn.log" 2>&1 &
	GUNI_PID=$!
	PIDS="$PIDS $GUNI_PID"
	wait_port "$G_PORT" 30
}
stop_gunicorn() {
	kill "$GUNI_PID"
	while kill -0 "$GUNI_PID" 2>/dev/null; do sleep 0.05; done
}
start_gunicorn
# celery's warm shutdown outlasts lib.sh's 0.1 s grace before SIGKILL:
# stop the backend first, and wait for it
stop_backend() {
	kill "$GUNI_PID" "$CELERY_PID" 2>/dev/null || true
	local n=100
	while [ $n -gt 0 ] && { kill -0 "$GUNI_PID" || kill -0 "$CELERY_PID"; } 2>/dev/null; do
		sleep 0.05
		n=$((n - 1))
	done
}
CLEANUPS="stop_backend $CLEANUPS"
(cd "$APP" && exec "$PY" -m celery -A stackapp worker --pool solo \
	--without-gossip --without-mingle --without-heartbeat -l warning) \
	> "$S/celery.log" 2>&1 &
CELERY_PID=$!
PIDS="$PIDS $CELERY_PID"
# while they start: the schema, static files and the smoke test's account
"$PY" -m django migrate -v 0
"$PY" -m django collectstatic --noinput -v 0
"$PY" -m django shell -c "
from django.contrib.auth.models import Group, User
u = User.objects.create_user('smoke', password='$SMOKE_PW')
u.groups.add(Group.objects.create(name='tester'))"

# --- nginx: the front page, static files, the API ---------------------------
printf '<!DOCTYPE html>\n<html><head><title>app</title></head><body><div id="root"></div></body></html>\n' > "$S/www/index.html"
nginx_conf "$S" "
	server {
		listen 127.0.0.1:$TLS_PORT ssl;
		ssl_certificate $T/certs/good.pem;
		ssl_certificate_key $T/certs/good.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		server_tokens off;
		root $S/www;
		location = / {
			add_header X-Content-Type-Options nosniff always;
			add_header X-Frame-Options DENY always;
			add_header Content-Security-Policy \"default-src 'self'\" always;
			add_header Referrer-Policy strict-origin-when-cross-origin always;
			add_header Strict-Transport-Security \"max-age=31536000\" always;
			try_files /index.html =404;
		}
		location /static/ { alias $S/static/; }
		location /api/ {
			proxy_pass http://127.0.0.1:$G_PORT;
			proxy_set_header Host \$host;
			proxy_set_header X-Forwarded-Proto https;
		}
	}
	server {
		listen 127.0.0.1:$BAD_PORT ssl;
		ssl_certificate $T/certs/self.pem;
		ssl_certificate_key $T/certs/self.key;
		location / { return 200 '{\"status\": \"ok\"}'; }
	}"
start_nginx "$S" "$TLS_PORT" "$BAD_PORT"

# --- what a deploy leaves, and a docker stand-in (no daemon here) ------------
cat > "$S/.env.staging" <<EOF2
SECRET_KEY=$SECRET
DATABASE_URL=$DB_URL
REDIS_URL=$RD_URL
ALLOWED_HOSTS=127.0.0.1
EOF2
cat > "$S/deployment.json" <<EOF2
{ "deployment_id": "staging-1", "environment": "staging", "commit_sha": "abc1234",
  "deployed_at": "2026-12-04T12:00:00Z",
  "images": { "backend": "ghcr.io/acme/backend:abc1234", "frontend": "ghcr.io/acme/frontend:abc1234" } }
EOF2
cat > "$S/docker-compose.staging.yml" <<'EOF2'
version: "3.8"
services:
  backend:
    image: "ghcr.io/acme/backend:abc1234"
    environment: { DATABASE_URL: "${DATABASE_URL}", REDIS_URL: "${REDIS_URL}" }
EOF2
# `docker compose` (v2) is not in Debian 12: this stand-in hands it to
# Debian's docker-compose (v1), which validates the same files.
cat > "$T/bin/docker" <<'EOF2'
#!/bin/sh
[ "$1" = compose ] || exit 125
shift
[ "$*" = version ] && { echo "Docker Compose version (test stand-in)"; exit 0; }
exec docker-compose "$@"
EOF2
chmod +x "$T/bin/docker"

# --- verdict's side: environment variables only -----------------------------
export STAGING_URL="https://127.0.0.1:$TLS_PORT"
export STAGING_CA_FILE="$T/certs/ca.pem"
export SMOKE_USER=smoke SMOKE_PASSWORD="$SMOKE_PW"
export ENV_FILE="$S/.env.staging" MANIFEST="$S/deployment.json"
export COMPOSE_FILE="$S/docker-compose.staging.yml" PATH="$T/bin:$PATH"
# the worker needs a few seconds: wait for it as a deploy does, faster
export HEALTH_RETRIES=60 HEALTH_INTERVAL=500ms

# stack_run ARGS...: the shipped suite, from another directory.
stack_run() {
	set +e
	(cd / && "$VERDICT" run -f json "$@" "$SUITE") > "$T/out" 2> "$T/err"
	RC=$?
	set -e
	# for the log: where the time went
	jq -r '"  run: \(.duration_seconds)s; slowest: " + ([.checks[] | "\(.name) \(.duration_seconds * 1000 | floor)ms"] | sort_by(split(" ")[1] | rtrimstr("ms") | tonumber) | reverse | .[0:4] | join(", "))' \
		< "$T/out" >&2 || true
}
no_secrets() {
	assert_no_match "$1: no secret in the output" "$(cat "$T/out" "$T/err")" \
		"$PG_PASSWORD|$REDIS_PASSWORD|$SECRET|$SMOKE_PW"
}
not_passed() {
	jq -r '[.checks[] | select(.status != "pass") | "\(.name): \(.status) \(.reason)"] | join("; ")' < "$T/out"
}

echo "[${SECONDS}s] healthy" >&2
# --- healthy: the suite passes as shipped -----------------------------------
stack_run
assert_eq "healthy: exit code" "$RC" 0
assert_eq "healthy: every check passed" "$(not_passed)" ""
assert_eq "healthy: health said every component is ok" \
	"$(curl -s --cacert "$T/certs/ca.pem" "$STAGING_URL/api/system/health/" | jq -c .checks)" \
	'{"database":"ok","redis":"ok","celery":"ok"}'
assert_eq "healthy: the API sends Django's headers" \
	"$(check_field security-headers-api .status)" pass
assert_clean_stderr "healthy"
no_secrets "healthy"

# --- the login flow: a wrong password fails at its login step ---------------
SMOKE_PASSWORD="wrong-$SMOKE_PW" stack_run --only auth
assert_eq "wrong password: exit code" "$RC" 1
assert_eq "wrong password: auth-flow" "$(check_field auth-flow .status)" fail
assert_match "wrong password: the reason names the step" \
	"$(check_field auth-flow .reason)" '^step login: status 401, expected 200'
assert_eq "wrong password: the protected profile still refuses" \
	"$(check_field auth-profile-protected .status)" pass
no_secrets "wrong password"

echo "[${SECONDS}s] Django's SecurityMiddleware removed" >&2
# --- Django's SecurityMiddleware removed: the API's headers are gone --------
stop_gunicorn
start_gunicorn STACK_NO_SECURITY_MIDDLEWARE=1
stack_run
assert_eq "no SecurityMiddleware: exit code" "$RC" 1
assert_eq "no SecurityMiddleware: only the API's headers failed" "$(not_passed)" \
	"security-headers-api: fail $(check_field security-headers-api .reason)"
assert_match "no SecurityMiddleware: reason" "$(check_field security-headers-api .reason)" \
	'missing Strict-Transport-Security.*missing X-Content-Type-Options.*missing Referrer-Policy'
assert_eq "no SecurityMiddleware: the front page alone would have passed" \
	"$(check_field security-headers .status)" pass
no_secrets "no SecurityMiddleware"
stop_gunicorn
start_gunicorn

echo "[${SECONDS}s] a certificate that does not verify" >&2
# --- a certificate that does not verify: final at once ----------------------
# HEALTH_RETRIES and HEALTH_INTERVAL as shipped (14 x 5s): a retried
# certificate failure would take 70 s; it must end after one attempt.
(
	unset HEALTH_RETRIES HEALTH_INTERVAL
	STAGING_URL="https://127.0.0.1:$BAD_PORT" stack_run --only health
	printf '%s\n' "$RC" > "$T/rc"
)
RC=$(cat "$T/rc")
assert_eq "bad certificate: exit code" "$RC" 1
for c in backend-health frontend readiness; do
	assert_eq "bad certificate: $c status" "$(check_field "$c" .status)" error
	assert_eq "bad certificate: $c kind" "$(check_field "$c" .reason_kind)" tls
	assert_eq "bad certificate: $c not retried" "$(check_field "$c" .attempts)" 1
done
assert_match "bad certificate: reason" "$(check_field backend-health .reason)" 'certificate'

echo "[${SECONDS}s] Redis stopped" >&2
# --- Redis stopped: health fails, says so, and is retried (it can heal) -----
kill "$REDIS_PID"
while (echo > "/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; do sleep 0.05; done
HEALTH_RETRIES=1 HEALTH_INTERVAL=100ms stack_run
assert_eq "redis down: exit code" "$RC" 1
assert_eq "redis down: backend-health" "$(check_field backend-health .status)" fail
assert_eq "redis down: reason" "$(check_field backend-health .reason)" "status 503, expected 200"
assert_eq "redis down: a 5xx is retried" "$(check_field backend-health .attempts)" 2
assert_eq "redis down: smoke skipped" \
	"$(jq -r '[.checks[] | select(.stage == "smoke") | .status] | unique | join(",")' < "$T/out")" skipped
assert_match "redis down: the health answer names Redis" \
	"$(curl -s --cacert "$T/certs/ca.pem" "$STAGING_URL/api/system/health/" | jq -r .checks.redis)" \
	'^error: .*(Connection refused|connecting)'
no_secrets "redis down"

echo "[${SECONDS}s] done" >&2
finish
