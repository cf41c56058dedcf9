# test_exec.sh - the exec check: exit codes, output matches, command not
# found, cwd and env, secrets in output masked, a command killed by a
# signal, the output cap (10 MiB through a 64 KiB buffer), clean signal
# state (SIGPIPE at its default, nothing blocked) and descriptors in the
# child, retries, max_body refused (defaults.max_body left alone), 300
# commands at once each with its output;
# and deadlines: `sleep 60`
# with a 1s timeout ends in under 3s with its whole process group gone,
# including a grandchild that ignores SIGTERM and holds the output pipe,
# and a background process left by a command that exited is killed too.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# Unique markers in command lines, for pgrep -f: sleep takes fractions.
MK=$$$RANDOM
S1="60.${MK}1" S2="60.${MK}2" S3="60.${MK}3" S4="60.${MK}4"
TOKEN="tok-Secret-$RANDOM$RANDOM"
mkdir -p "$T/work"
echo 0 > "$T/counter"

cat > "$T/exec.json" <<EOF
{ "name": "exec", "checks": [
  { "name": "true", "type": "exec", "argv": ["true"] },
  { "name": "exit-3", "type": "exec",
    "argv": ["sh", "-c", "echo progress; echo 'fatal: migration 0042 failed' >&2; echo 'last words' >&2; exit 3"] },
  { "name": "exit-3-wanted", "type": "exec", "argv": ["sh", "-c", "exit 3"],
    "expect": { "exit_code": [0, 3] } },
  { "name": "output-match", "type": "exec",
    "argv": ["printf", "service: ok\\\\nversion: 1.2.3\\\\n"],
    "expect": { "output_contains": ["service: ok"], "output_regex": "^version: [0-9]+\\\\.[0-9]+\\\\.[0-9]+$" } },
  { "name": "output-missing", "type": "exec", "argv": ["echo", "all good"],
    "expect": { "output_contains": "migrations applied" } },
  { "name": "regex-mismatch", "type": "exec", "argv": ["echo", "version: x"],
    "expect": { "output_regex": "^version: [0-9]" } },
  { "name": "not-found", "type": "exec", "argv": ["no-such-command-$MK", "--flag"] },
  { "name": "no-such-path", "type": "exec", "argv": ["./no-such-script-$MK"] },
  { "name": "cwd", "type": "exec", "argv": ["pwd"], "cwd": "$T/work",
    "expect": { "output_regex": "^$T/work$" } },
  { "name": "bad-cwd", "type": "exec", "argv": ["pwd"], "cwd": "$T/missing-dir" },
  { "name": "env", "type": "exec",
    "argv": ["sh", "-c", "test \"\$\$APP_MODE\" = staging && test -n \"\$\$HOME\""],
    "env": { "APP_MODE": "staging" } },
  { "name": "secret-masked", "type": "exec",
    "argv": ["sh", "-c", "echo \"auth failed for \$\$API_TOKEN\" >&2; exit 1"],
    "env": { "API_TOKEN": "$TOKEN" } },
  { "name": "signal", "type": "exec", "argv": ["sh", "-c", "kill -9 \$\$\$\$"] },
  { "name": "big-output", "type": "exec", "argv": ["sh", "-c", "yes | head -c 10M"],
    "timeout": "20s" },
  { "name": "big-output-cap", "type": "exec", "argv": ["sh", "-c", "yes | head -c 100K; echo END"],
    "max_output": "1KiB", "expect": { "output_contains": "END" } },
  { "name": "child-fds", "type": "exec",
    "argv": ["sh", "-c", "printf fds:; ls /proc/self/fd | tr '\\\\n' ' '; echo END"],
    "expect": { "output_contains": "fds:0 1 2 3 END" } },
  { "name": "child-sigmask", "type": "exec",
    "argv": ["grep", "^SigBlk:", "/proc/self/status"],
    "expect": { "output_regex": "^SigBlk:[[:space:]]+0+$" } },
  { "name": "sigpipe-default", "type": "exec",
    "argv": ["sh", "-c", "(yes; echo \"yes status \$\$?\" >&2) | head -c 1 >/dev/null"],
    "expect": { "output_contains": "yes status 141" } },
  { "name": "retry", "type": "exec", "retries": 3, "interval": "100ms",
    "argv": ["sh", "-c", "n=\$\$(cat $T/counter); echo \$\$((n + 1)) > $T/counter; test \$\$n -ge 1"] },
  { "name": "background-left", "type": "exec",
    "argv": ["sh", "-c", "sleep $S3 & echo started"],
    "expect": { "output_regex": "^started$" } }
]}
EOF

expect_check() { # name status reason-regex
	assert_eq "$1: status" "$(check_field "$1" .status)" "$2"
	assert_match "$1: reason" "$(check_field "$1" .reason)" "$3"
}

run_verdict run -f json "$T/exec.json"
assert_eq "exit code" "$RC" 1
assert_clean_stderr "exec run"
expect_check true pass '^exit 0$'
assert_eq "true: exit_code fact" "$(check_field true .facts.exit_code)" 0
expect_check exit-3 fail '^exit 3, expected 0: last words$'
assert_eq "exit-3: reason_kind" "$(check_field exit-3 .reason_kind)" value
assert_eq "exit-3: exit_code fact" "$(check_field exit-3 .facts.exit_code)" 3
expect_check exit-3-wanted pass '^exit 3$'
expect_check output-match pass '^exit 0$'
expect_check output-missing fail '^output does not contain "migrations applied"$'
expect_check regex-mismatch fail '^output does not match /\^version: \[0-9\]/$'
expect_check not-found error "^command not found: no-such-command-$MK\$"
expect_check no-such-path error "^no such file: ./no-such-script-$MK\$"
expect_check cwd pass '^exit 0$'
expect_check bad-cwd error "^cwd $T/missing-dir: No such file or directory\$"
expect_check env pass '^exit 0$'
expect_check secret-masked fail '^exit 1, expected 0: auth failed for \*\*\*$'
assert_no_match "token never printed" "$(cat "$T/out" "$T/err")" "$TOKEN"
expect_check signal fail '^killed by signal 9 \(SIGKILL\)$'
expect_check big-output pass '^exit 0, output truncated at max_output$'
assert_eq "big-output: bytes read" "$(check_field big-output .facts.output_bytes)" 10485760
assert_eq "big-output: truncated" "$(check_field big-output .facts.output_truncated)" true
expect_check big-output-cap fail '^output does not contain "END" \(output truncated at max_output\)$'
expect_check child-fds pass '^exit 0$'
expect_check child-sigmask pass '^exit 0$'
expect_check sigpipe-default pass '^exit 0$'
expect_check retry pass '^exit 0$'
assert_eq "retry: attempts" "$(check_field retry .attempts)" 2
expect_check background-left pass '^exit 0$'
assert_eq "background-left: pipe held open" "$(check_field background-left .facts.output_open_after_exit)" true
assert_eq "no process left behind (background)" "$(pgrep -f "sleep $S3" || true)" ""

# Many commands at once (a busy loop): each one's output is read, none
# judged before what it wrote was taken. (The drain wait used to start on
# the loop's stale clock and end before the pipe was read: on a loaded
# machine, half of such a run failed with "output does not contain".)
{
	printf '{ "name": "many", "checks": [\n'
	for i in $(seq 300); do
		[ "$i" = 1 ] || printf ',\n'
		printf '{ "name": "m%d", "type": "exec", "timeout": "60s", "argv": ["sh", "-c", "echo ok-%d"], "expect": { "output_contains": "ok-%d" } }' "$i" "$i" "$i"
	done
	printf '\n]}\n'
} > "$T/many.json"
run_verdict run -f json "$T/many.json"
assert_eq "many: exit code" "$RC" 0
assert_eq "many: every output read" "$(jq '[.checks[] | select(.status == "pass")] | length' "$T/out")" 300

# Deadlines: sleep 60 with a 1s timeout; a grandchild that ignores
# SIGTERM and holds the output pipe; both end in under 3s, nothing left.
cat > "$T/slow.json" <<EOF
{ "name": "slow", "checks": [
  { "name": "sleep", "type": "exec", "timeout": "1s",
    "argv": ["sh", "-c", "echo waiting for the lock; sleep $S1"] },
  { "name": "grandchild", "type": "exec", "timeout": "1s",
    "argv": ["sh", "-c", "(trap '' TERM; sleep $S2) & sleep $S4"] }
]}
EOF
start=$(date +%s.%N)
run_verdict run -f json "$T/slow.json"
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
assert_eq "slow: exit code" "$RC" 1
assert_le "slow: ends in under 3s" "$took" 3
assert_clean_stderr "slow run"
expect_check sleep error '^timeout after 1s \(process group killed; last output: waiting for the lock\)$'
assert_eq "sleep: reason_kind" "$(check_field sleep .reason_kind)" timeout
assert_le "sleep: duration" "$(check_field sleep .duration_seconds)" 2
expect_check grandchild error '^timeout after 1s \(process group killed\)$'
for s in "$S1" "$S2" "$S4"; do
	assert_eq "nothing left: sleep $s" "$(pgrep -f "sleep $s" || true)" ""
done

# Bad configuration is refused with the place named.
bad_conf "argv missing" '{"name": "x", "type": "exec"}' 'checks\[0\]\.argv: required'
bad_conf "argv a string" '{"name": "x", "type": "exec", "argv": "ls -l"}' 'checks\[0\]\.argv: expected a list of strings; for a shell command write \["sh", "-c", "\.\.\."\]'
bad_conf "argv empty" '{"name": "x", "type": "exec", "argv": []}' 'checks\[0\]\.argv: must not be empty'
bad_conf "exit code range" '{"name": "x", "type": "exec", "argv": ["true"], "expect": {"exit_code": 256}}' 'checks\[0\]\.expect\.exit_code: expected an integer \(0-255\)'
bad_conf "bad regex" '{"name": "x", "type": "exec", "argv": ["true"], "expect": {"output_regex": "("}}' 'checks\[0\]\.expect\.output_regex: invalid regular expression'
bad_conf "env not strings" '{"name": "x", "type": "exec", "argv": ["true"], "env": {"A": 1}}' 'checks\[0\]\.env\.A: expected a string'
bad_conf "max_output zero" '{"name": "x", "type": "exec", "argv": ["true"], "max_output": 0}' 'checks\[0\]\.max_output: must be at least 1 byte'
bad_conf "max_body on exec" '{"name": "x", "type": "exec", "argv": ["true"], "max_body": "1MiB"}' 'checks\[0\]\.max_body: an exec check reads output, not a body: use max_output'
# a max_body in defaults is for the checks that read a body: exec takes
# no part of it, and its own max_output holds
cat > "$T/defaults.json" <<EOF
{ "name": "d", "defaults": { "max_body": "10" }, "checks": [
  { "name": "cap", "type": "exec", "argv": ["sh", "-c", "yes | head -c 100; echo END"],
    "expect": { "output_contains": "END" } } ] }
EOF
run_verdict run -f json "$T/defaults.json"
assert_eq "defaults.max_body: exec runs" "$RC" 0
expect_check cap pass '^exit 0$'
assert_eq "defaults.max_body: exec output not cut" "$(check_field cap .facts.output_truncated)" false

# --- SIGTERM and SIGINT stop a run: exit 128 + signal, no report, and the
# commands' process groups are killed
S5="60.${MK}5"
cat > "$T/stop.json" <<EOF
{ "name": "stop", "checks": [
  { "name": "long", "type": "exec", "argv": ["sleep", "$S5"], "timeout": "30s" } ] }
EOF
for sig in TERM INT; do
	set +e
	"$VERDICT" run "$T/stop.json" > "$T/out" 2> "$T/err" &
	vpid=$!
	for i in $(seq 100); do pgrep -f "sleep $S5" > /dev/null && break; sleep 0.05; done
	kill -s "$sig" "$vpid"
	wait "$vpid"
	RC=$?
	set -e
	want=$((128 + $(kill -l "$sig")))
	assert_eq "SIG$sig: exit code" "$RC" "$want"
	assert_match "SIG$sig: says so" "$(cat "$T/err")" "stopped by .*; no report"
	assert_eq "SIG$sig: no report" "$(cat "$T/out")" ""
	sleep 0.2
	assert_eq "SIG$sig: the command's group is killed" "$(pgrep -f "sleep $S5" || true)" ""
	assert_clean_stderr "SIG$sig"
done

finish
