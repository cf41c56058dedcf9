# test_paths.sh - relative paths in a suite are taken from the suite
# file's folder, whatever the current directory: env_file and json_file
# paths, tls.ca_file (an HTTPS check against nginx with the test CA), an
# exec check's folder, and the same for a suite file a deploy config
# names. Absolute paths are left as they are.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

D=$T/deploy
mkdir -p "$D/certs" "$D/sub" "$T/elsewhere" "$T/ng"
sh "$here/certs.sh" "$T/certs"
cp "$T/certs/ca.pem" "$D/certs/ca.pem"
PORT=$(free_port)
nginx_conf "$T/ng" "
	server {
		listen 127.0.0.1:$PORT ssl;
		ssl_certificate $T/certs/good.pem;
		ssl_certificate_key $T/certs/good.key;
		location / { return 200 'ok'; }
	}"
start_nginx "$T/ng" "$PORT"

printf 'SECRET_KEY=s3cr3t-%s\n' "$RANDOM" > "$D/.env.staging"
printf '{ "deployment_id": "d-1" }\n' > "$D/deployment.json"
printf 'ABSOLUTE=yes\n' > "$T/abs.env"
cat > "$D/suite.json" <<EOF2
{ "checks": [
  { "name": "env", "type": "env_file", "path": ".env.staging", "require": ["SECRET_KEY"] },
  { "name": "manifest", "type": "json_file", "path": "deployment.json", "require": ["deployment_id"] },
  { "name": "up", "type": "json_file", "path": "sub/../deployment.json" },
  { "name": "absolute", "type": "env_file", "path": "$T/abs.env" },
  { "name": "https", "type": "http", "url": "https://127.0.0.1:$PORT/",
    "tls": { "ca_file": "certs/ca.pem" } },
  { "name": "folder", "type": "exec", "argv": ["sh", "-c", "test -f .env.staging && pwd"],
    "expect": { "output_regex": "/deploy\$" } },
  { "name": "own-cwd", "type": "exec", "cwd": "sub", "argv": ["sh", "-c", "pwd"],
    "expect": { "output_regex": "/deploy/sub\$" } }
] }
EOF2

for dir in / "$T/elsewhere" "$D"; do
	set +e
	(cd "$dir" && "$VERDICT" run -f json "$D/suite.json") > "$T/out" 2> "$T/err"
	RC=$?
	set -e
	assert_eq "from $dir: exit code" "$RC" 0
	assert_eq "from $dir: every check passed" \
		"$(jq -r '[.checks[] | select(.status != "pass") | "\(.name): \(.reason)"] | join("; ")' < "$T/out")" ""
	assert_eq "from $dir: the env file's path" "$(check_field env .target)" "$D/.env.staging"
	assert_eq "from $dir: an absolute path as it is" "$(check_field absolute .target)" "$T/abs.env"
	assert_clean_stderr "from $dir"
done

# A relative suite path: the folder as given.
set +e
(cd "$T" && "$VERDICT" run -f json deploy/suite.json) > "$T/out" 2> "$T/err"
RC=$?
set -e
assert_eq "relative suite path: exit code" "$RC" 0
assert_eq "relative suite path: the env file's path" "$(check_field env .target)" "deploy/.env.staging"

# A file missing from the suite's folder is reported with its full path,
# even when the current directory has one of that name.
cp "$D/.env.staging" "$T/elsewhere/.env.staging"
rm "$D/.env.staging"
set +e
(cd "$T/elsewhere" && "$VERDICT" run -f json --only env "$D/suite.json") > "$T/out" 2> "$T/err"
RC=$?
set -e
assert_eq "missing beside the suite: exit code" "$RC" 1
assert_match "missing beside the suite: reason" "$(check_field env .reason)" "$D/.env.staging"

# A deploy config naming a suite file in a subfolder: the suite's paths
# are the suite's folder's.
cp "$D/deployment.json" "$D/sub/deployment.json"
cat > "$D/sub/gate.json" <<'EOF2'
{ "checks": [ { "name": "manifest", "type": "json_file", "path": "deployment.json",
                "require": ["deployment_id"] } ] }
EOF2
rm "$D/deployment.json"
cat > "$D/deploy.json" <<'EOF2'
{ "environment": "paths", "state_dir": "state",
  "hooks": { "deploy": { "argv": ["true"] } },
  "health": { "suite": "sub/gate.json" } }
EOF2
set +e
(cd / && "$VERDICT" deploy --config "$D/deploy.json" --version v1 --format json) > "$T/out" 2> "$T/err"
RC=$?
set -e
assert_eq "deploy: promoted" "$RC" 0
assert_eq "deploy: the gate read sub/deployment.json" \
	"$(jq -r '.gates.health.checks[0].status' < "$T/out")" pass

finish
