# test_files.sh - the env_file and json_file checks on files the test
# writes: a good .env (comments, export, quotes, multi-line values), a
# missing key, empty values, placeholders (built in and configured),
# forbidden keys, malformed lines, missing / unreadable / non-regular /
# too large files; a good manifest, invalid JSON with line and column,
# missing paths, wrong values. No value of an env file may appear in any
# output, in any report format.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# Every value carries this marker: it must never be printed.
M="VALMARK$RANDOM$RANDOM"
D=$T/files
mkdir -p "$D"

cat > "$D/good.env" <<EOF
# staging settings
SECRET_KEY=k-$M-1
export DATABASE_URL="postgres://app:p-$M@db:5432/app"
REDIS_URL='redis://:r-$M@redis:6379/0'
ALLOWED_HOSTS=staging.example.com   # trailing comment
MULTI="first $M
second $M"
  INDENTED = i-$M
EMPTY_OPTIONAL=
EOF

cat > "$D/bad.env" <<EOF
SECRET_KEY=your-secret-key-here
DATABASE_URL=
API_TOKEN=sk-xxxxxxxxxxxxxxxx
SMTP_PASSWORD="<your smtp password>"
DEBUG=true
this is not an assignment
PAYMENT_KEY=ChangeMe-$M
WEBHOOK_SECRET=dummy-$M
EOF

cat > "$D/quoted.env" <<EOF
A="  "
B=''
C="unterminated $M
EOF

printf '{\n  "deployment_id": "d-42",\n  "commit_sha": "abc123",\n  "environment": "staging",\n  "images": {"backend": "ghcr.io/x/backend:abc123", "frontend": "ghcr.io/x/frontend:abc123"},\n  "services": [{"name": "backend"}, {"name": "frontend"}],\n  "replicas": 2\n}\n' > "$D/manifest.json"
printf '{\n  "deployment_id": "d-42",\n  "environment": ,\n}\n' > "$D/broken.json"
printf '{"deployment_id": "d-42"} trailing' > "$D/trailing.json"
: > "$D/empty.json"
mkdir -p "$D/adir"
head -c 4096 /dev/zero | tr '\0' 'A' | sed 's/^/X=/' > "$D/big.env"

cat > "$T/files.json" <<EOF
{ "name": "files", "checks": [
  { "name": "env-good", "type": "env_file", "path": "$D/good.env",
    "require": ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "MULTI", "INDENTED"] },
  { "name": "env-missing-key", "type": "env_file", "path": "$D/good.env",
    "require": ["SECRET_KEY", "SENTRY_DSN"] },
  { "name": "env-bad", "type": "env_file", "path": "$D/bad.env",
    "require": ["SECRET_KEY", "DATABASE_URL", "SMTP_PASSWORD"],
    "forbid": ["DEBUG"], "placeholders": ["dummy*"] },
  { "name": "env-required-only", "type": "env_file", "path": "$D/bad.env",
    "require": ["DEBUG"], "check_all": false },
  { "name": "env-quoted", "type": "env_file", "path": "$D/quoted.env",
    "require": ["A", "B"] },
  { "name": "env-absent", "type": "env_file", "path": "$D/nope.env" },
  { "name": "env-dir", "type": "env_file", "path": "$D/adir" },
  { "name": "env-big", "type": "env_file", "path": "$D/big.env", "max_body": "1KiB" },
  { "name": "json-good", "type": "json_file", "path": "$D/manifest.json",
    "require": ["deployment_id", "images.backend", "services.1.name"],
    "equals": { "environment": "staging", "replicas": 2, "services.0.name": "backend" } },
  { "name": "json-missing", "type": "json_file", "path": "$D/manifest.json",
    "require": ["deployment_id", "images.worker", "services.5", "deployed_at"],
    "equals": { "environment": "production", "replicas": 3 } },
  { "name": "json-broken", "type": "json_file", "path": "$D/broken.json" },
  { "name": "json-trailing", "type": "json_file", "path": "$D/trailing.json" },
  { "name": "json-empty", "type": "json_file", "path": "$D/empty.json" },
  { "name": "json-absent", "type": "json_file", "path": "$D/nope.json" }
]}
EOF

expect_check() { # name status reason-regex
	assert_eq "$1: status" "$(check_field "$1" .status)" "$2"
	assert_match "$1: reason" "$(check_field "$1" .reason)" "$3"
}

run_verdict run -f json "$T/files.json"
assert_eq "exit code" "$RC" 1
assert_clean_stderr "files run"

expect_check env-good pass '^7 keys, 6 required present$'
expect_check env-missing-key fail '^SENTRY_DSN missing$'
expect_check env-bad fail '^line 6: not KEY=VALUE; SECRET_KEY is a placeholder; DATABASE_URL empty; SMTP_PASSWORD is a placeholder; DEBUG is set \(forbidden\); API_TOKEN is a placeholder; PAYMENT_KEY is a placeholder; WEBHOOK_SECRET is a placeholder$'
assert_eq "env-bad: reason_kind" "$(check_field env-bad .reason_kind)" policy
assert_eq "env-bad: findings fact" "$(check_field env-bad .facts.findings_count)" 8
# check_all false: placeholders in keys not required are not findings
# (DEBUG is required here, and set); a malformed line always is.
expect_check env-required-only fail '^line 6: not KEY=VALUE$'
expect_check env-quoted fail '^line 3: unterminated quote; A empty; B empty$'
expect_check env-absent fail 'nope.env: no such file$'
expect_check env-dir fail 'adir: not a regular file$'
expect_check env-big fail 'big.env: larger than max_body \(1024 bytes\)$'
expect_check json-good pass '^valid JSON, 3 paths present, 3 values as expected$'
expect_check json-missing fail '^images.worker missing; services.5 missing; deployed_at missing; environment is "staging", expected "production"; replicas is 2, expected 3$'
expect_check json-broken fail 'broken.json: not valid JSON: line 3, column 18$'
expect_check json-trailing fail 'trailing.json: not valid JSON: line 1, column 27$'
expect_check json-empty fail 'empty.json: empty file, expected JSON$'
expect_check json-absent fail 'nope.json: no such file$'

# No value, in any format, on stdout or stderr.
for fmt in text json junit tap markdown; do
	run_verdict run -v -f "$fmt" "$T/files.json"
	assert_no_match "no env value in $fmt output" "$(cat "$T/out" "$T/err")" "$M"
	assert_clean_stderr "format $fmt"
done

# Unreadable: a file verdict may not read. root reads everything, so as
# root verdict runs as nobody for this case.
install -m 0600 "$D/good.env" "$D/secret.env"
cat > "$D/unreadable.json" <<EOF
{ "checks": [ { "name": "env-unreadable", "type": "env_file", "path": "$D/secret.env" } ] }
EOF
if [ "$(id -u)" = 0 ]; then
	chmod 0711 "$T" "$D"
	chmod 0644 "$D/unreadable.json"
	chown root: "$D/secret.env"
	# the build tree may not be reachable for nobody: run a copy
	install -m 0755 "$VERDICT" "$D/verdict"
	set +e
	(cd "$D" && setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$D/verdict" run -f json "$D/unreadable.json") > "$T/out" 2> "$T/err"
	RC=$?
	set -e
else
	chmod 0000 "$D/secret.env"
	run_verdict run -f json "$D/unreadable.json"
fi
assert_eq "unreadable: exit code" "$RC" 1
expect_check env-unreadable error 'secret.env: cannot read: Permission denied$'
assert_eq "unreadable: reason_kind" "$(check_field env-unreadable .reason_kind)" internal
assert_clean_stderr "unreadable"

# Bad configuration is refused with the place named, before any probing.
bad_conf "no path" '{"name": "e", "type": "env_file"}' 'checks\[0\]\.path: required'
bad_conf "bad key name" '{"name": "e", "type": "env_file", "path": "x", "require": ["A B"]}' 'checks\[0\]\.require: "A B" is not a variable name'
bad_conf "require not strings" '{"name": "e", "type": "env_file", "path": "x", "require": [1]}' 'checks\[0\]\.require\[0\]: expected a string'
bad_conf "unknown key" '{"name": "e", "type": "env_file", "path": "x", "requires": ["A"]}' 'checks\[0\]\.requires: unknown key'
bad_conf "bad dotted path" '{"name": "j", "type": "json_file", "path": "x", "require": ["a..b"]}' 'checks\[0\]\.require: "a\.\.b" is not a dotted path'
bad_conf "equals not object" '{"name": "j", "type": "json_file", "path": "x", "equals": [1]}' 'checks\[0\]\.equals: expected an object'

finish
