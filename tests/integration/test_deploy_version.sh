# test_deploy_version.sh - the gate checks the version that is really
# served. nginx serves releases whose /health reports their version; the
# health suite (a suite FILE, also fit for `verdict run`) expects
# ${VERSION}. A deploy hook that silently changes nothing is not
# promoted (the old version still answers), and its rollback is verified
# against the known-good version (exit 3), even with VERSION exported in
# the environment. ${PREVIOUS_VERSION}, ${DEPLOYMENT_ID} and
# ${ENVIRONMENT} reach the checks with the values of each phase.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PORT=$(free_port)
mkdir -p "$T/ng/tmp" "$T/app" "$T/rel"
for v in v1 v2 v3; do
	mkdir -p "$T/rel/$v"
	echo "{\"status\":\"ok\",\"version\":\"$v\"}" > "$T/rel/$v/health.json"
	echo "<h1>welcome to $v</h1>" > "$T/rel/$v/index.html"
done
# v3 reports its version but fails the smoke test
echo "<h1>maintenance</h1>" > "$T/rel/v3/index.html"
mkdir -p "$T/rel/empty"
ln -sfn "$T/rel/empty" "$T/current"
nginx_conf "$T/ng" "server { listen 127.0.0.1:$PORT; root $T/current;
	location = /health { try_files /health.json =404; default_type application/json; } }"
nginx -p "$T/ng" -c "$T/ng/nginx.conf" -g 'daemon off; user root;' > "$T/ng/stdout.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$PORT" 10

cat > "$T/app/switch.sh" <<EOS
#!/bin/sh
# switch.sh VERSION: serve release VERSION; "noop-*" changes nothing
set -eu
case "\$1" in noop-*) echo "pretending to deploy \$1"; exit 0 ;; esac
ln -sfn "$T/rel/\$1" "$T/current.new"
mv -T "$T/current.new" "$T/current"
nginx -p "$T/ng" -c "$T/ng/nginx.conf" -s reload
echo "serving \$1"
EOS
chmod +x "$T/app/switch.sh"

# the suite: a file of its own, with the gate's placeholders
cat > "$T/app/gate.json" <<EOF
{ "name": "gate", "checks": [
  { "name": "served-version", "type": "http", "stage": "health",
    "url": "http://127.0.0.1:$PORT/health", "retries": 3, "interval": "100ms",
    "expect": { "status": 200, "json": { "status": "ok", "version": "\${VERSION}" } } },
  { "name": "vars", "type": "exec", "stage": "health",
    "argv": ["sh", "-c", "echo \"\$0 \$1 \$2 \$3\" >> $T/app/vars.log",
             "\${VERSION}", "\${PREVIOUS_VERSION:-none}", "\${DEPLOYMENT_ID}", "\${ENVIRONMENT}"] },
  { "name": "home", "type": "http", "stage": "smoke",
    "url": "http://127.0.0.1:$PORT/", "expect": { "body_contains": "welcome" } } ] }
EOF
cat > "$T/app/deploy.json" <<EOF
{ "environment": "staging",
  "hooks": { "deploy": { "argv": ["./switch.sh", "\${VERSION}"] } },
  "health": { "suite": "gate.json", "only": ["health"] },
  "smoke": { "suite": "gate.json", "only": ["smoke"] } }
EOF
CFG="$T/app/deploy.json"
STATEF="$T/app/.verdict/staging.state.json"
served() { curl -s "http://127.0.0.1:$PORT/health" | jq -r .version; }
vars_of() { grep " $1 staging\$" "$T/app/vars.log" | cut -d' ' -f1,2 | tr '\n' ','; }

run_verdict deploy --config "$CFG" --version v1 --format json
assert_eq "v1: promoted" "$RC" 0
assert_clean_stderr "v1"
assert_eq "v1: the gate expected v1" "$(jq_out .gates.health.expected_version)" v1
run_verdict deploy --config "$CFG" --version v2 --format json
assert_eq "v2: promoted" "$RC" 0
ID2=$(jq_out .deployment_id)
assert_eq "v2: checks saw VERSION and PREVIOUS_VERSION" "$(vars_of "$ID2")" "v2 v1,"
assert_eq "v2: served" "$(served)" v2

# --- a hook that changes nothing: v2 still answers, noop-v4 must not pass ----
run_verdict deploy --config "$CFG" --version noop-v4 --format json
assert_eq "noop: not promoted, rolled back (exit 3)" "$RC" 3
assert_match "noop: the reason names the version served" "$(jq_out .reason)" \
	'health failed: served-version: json version: got "v2", expected "noop-v4"'
assert_eq "noop: known-good stays v2" "$(jq -r .known_good.version "$STATEF")" v2
assert_eq "noop: the verify gate expected the known-good v2" "$(jq_out .gates.verify.expected_version)" v2
assert_eq "noop: verified" "$(jq_out .gates.verify.verdict)" pass
ID=$(jq_out .deployment_id)
assert_eq "noop: health saw noop-v4, verify saw v2 (previous: the failed one)" "$(vars_of "$ID")" "noop-v4 v2,v2 noop-v4,"

# --- a real rollback, with VERSION exported: it must not leak ----------------
export VERSION=v3
run_verdict deploy --config "$CFG" --version v3 --format json
assert_eq "v3: smoke fails, rolled back and verified (exit 3)" "$RC" 3
assert_match "v3: reason" "$(jq_out .reason)" 'smoke failed: home: body does not contain "welcome"'
assert_eq "v3: health expected v3" "$(jq_out .gates.health.expected_version)" v3
assert_eq "v3: verify expected v2, not the exported VERSION" "$(jq_out .gates.verify.expected_version)" v2
assert_eq "v3: verify passed on v2" "$(jq_out '.gates.verify.checks[] | select(.name == "served-version") | .status')" pass
assert_eq "v3: v2 served again" "$(served)" v2
assert_eq "v3: current" "$(jq -r '.current.version + " " + .current.status' "$STATEF")" "v2 known_good"
run_verdict status --config "$CFG"
assert_eq "status after the rollback: known-good and healthy (exit 0)" "$RC" 0

# --- verdict rollback verifies the version it rolls back to ---------------------
export VERSION=v2
run_verdict rollback --config "$CFG" --to v1 --format json
assert_eq "rollback --to v1: done (exit 0)" "$RC" 0
assert_eq "rollback: verify expected v1" "$(jq_out .gates.verify.expected_version)" v1
assert_eq "rollback: served" "$(served)" v1
unset VERSION

# --- the same suite file runs alone, VERSION from the environment -----------
export DEPLOYMENT_ID=by-hand ENVIRONMENT=staging
rc=0
VERSION=v1 "$VERDICT" run --only served-version "$T/app/gate.json" > "$T/out" 2> "$T/err" || rc=$?
assert_eq "verdict run, VERSION=v1 exported: pass" "$rc" 0
rc=0
VERSION=v2 "$VERDICT" run --only served-version "$T/app/gate.json" > "$T/out" 2> "$T/err" || rc=$?
assert_eq "verdict run, VERSION=v2 exported: fail (v1 is served)" "$rc" 1

# --- --check validates without a version --------------------------------------
run_verdict deploy --config "$CFG" --check
assert_eq "--check: exit 0" "$RC" 0

finish
