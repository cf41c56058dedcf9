# test_patterns.sh - patterns from suite files against hostile subjects:
# a body, a header, a command's output, a TCP banner and a Redis reply
# built so that a backtracking matcher never ends (the evil pattern and
# 1 KiB of "[" then "zx": the "x" it needs is there, out of reach). Each must end in `error` with reason kind `limit` and a
# reason naming the matcher's limit, while a slow check of the same run
# still finishes within its own deadline (the loop was not held); a
# pattern that would take glibc's regcomp seconds and gigabytes is
# refused at load at once.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

start_faultd
start_redis cache
EVIL='^(\\[*)*\\1\\1\\1x' # ^(\[*)*\1\1\1x, escaped for JSON
BRACKETS=$(printf '%1024s' '' | tr ' ' '[')zx
BQ=$(printf '%s' "$BRACKETS" | sed 's/\[/%5B/g')
redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning \
	SET brackets "$BRACKETS" > /dev/null
export REDIS_PASSWORD
LIMIT='hit the (match step|backtracking depth|backtracking memory|JIT stack) limit'

cat > "$T/evil.json" << EOF
{ "name": "evil", "checks": [
  { "name": "body", "type": "http", "url": "$F/json?body=$BQ", "max_body": "2KiB",
    "timeout": "20s", "expect": { "body_regex": "$EVIL" } },
  { "name": "header", "type": "http", "url": "$F/headers?X-Evil=$BQ", "timeout": "20s",
    "expect": { "headers": { "X-Evil": { "regex": "$EVIL" } } } },
  { "name": "output", "type": "exec", "timeout": "20s",
    "argv": ["sh", "-c", "printf '%1024s' '' | tr ' ' '['; echo zx"],
    "expect": { "output_regex": "$EVIL" } },
  { "name": "banner", "type": "tcp", "host": "127.0.0.1", "port": $FP, "timeout": "20s",
    "send": "GET /json?body=$BQ HTTP/1.0\\r\\n\\r\\n",
    "expect": { "banner": { "regex": "(\\\\[*)*\\\\1\\\\1\\\\1x" } } },
  { "name": "reply", "type": "redis", "timeout": "20s",
    "url": "redis://:\${REDIS_PASSWORD}@127.0.0.1:$REDIS_PORT/0",
    "command": ["GET", "brackets"], "expect": { "reply": { "regex": "$EVIL" } } },
  { "name": "fine", "type": "http", "url": "$F/json?body=abc123", "timeout": "20s",
    "expect": { "body_regex": "^[a-z]+[0-9]{3}\$" } },
  { "name": "slow", "type": "http", "url": "$F/delay?ms=1500", "timeout": "3s" }
] }
EOF
run_verdict run --format json "$T/evil.json"
assert_eq "evil: exit code" "$RC" 1
for c in body header output reply; do
	expect "$c" error limit "$LIMIT"
done
expect banner error limit "banner: matching .* $LIMIT"
expect fine pass '^status 200'
expect slow pass '^status 200'

# The same evil body alone with a 2s timeout: with glibc's matcher this
# run never ended and ignored SIGTERM; it must end with its verdict.
cat > "$T/term.json" << EOF
{ "name": "term", "checks": [
  { "name": "body", "type": "http", "url": "$F/json?body=$BQ", "timeout": "2s",
    "expect": { "body_regex": "$EVIL" } } ] }
EOF
run_verdict run --format json "$T/term.json"
assert_eq "term: exit code" "$RC" 1
expect body error limit "$LIMIT"

# Stacked quantifiers made glibc's regcomp take 15 s and 3 GB; PCRE2
# refuses them as a syntax error, naming the place.
cat > "$T/stacked.json" << 'EOF'
{ "name": "stacked", "checks": [
  { "name": "x", "type": "http", "url": "http://127.0.0.1:9/",
    "expect": { "body_regex": "a++++++++++++++++++++++++++++++" } } ] }
EOF
run_verdict validate "$T/stacked.json"
assert_eq "stacked: exit code" "$RC" 2
assert_match "stacked: message" "$(cat "$T/err")" \
	'stacked\.json: checks\[0\]\.expect\.body_regex: invalid regular expression: quantifier does not follow a repeatable item at offset 3'
# nested counted repetition: past PCRE2's compiled-size limit
cat > "$T/counted.json" << 'EOF'
{ "name": "counted", "checks": [
  { "name": "x", "type": "exec", "argv": ["true"],
    "expect": { "output_regex": "((a{1,1000}){1,1000}){1,1000}" } } ] }
EOF
run_verdict validate "$T/counted.json"
assert_eq "counted: exit code" "$RC" 2
assert_match "counted: message" "$(cat "$T/err")" \
	'checks\[0\]\.expect\.output_regex: invalid regular expression: regular expression is too large'

finish
