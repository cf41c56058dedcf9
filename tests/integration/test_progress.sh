# test_progress.sh - what `verdict run` shows while it works: plain lines
# on stderr through a pipe (a stage starting, each failed attempt with the
# next one's delay, each check's end), nothing of it on stdout or in a
# report file, none with -q or --progress none; and on a terminal (tmux) a
# live view with the attempt counter, erased before the report.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

start_faultd
KEY=$$-$RANDOM
cat > "$T/p.json" << EOF
{ "name": "p", "checks": [
  { "name": "backend-health", "type": "http", "url": "$F/flaky?key=$KEY&fail=2",
    "retries": 5, "interval": "300ms", "stage": "health" },
  { "name": "frontend", "type": "http", "url": "$F/ok", "stage": "smoke" },
  { "name": "down", "type": "http", "url": "http://127.0.0.1:9/", "stage": "smoke", "critical": false }
] }
EOF

# --- through a pipe: plain lines, in the order things happened
run_verdict run --format json -o "$T/report.json" "$T/p.json"
assert_eq "plain: exit code" "$RC" 0
assert_clean_stderr plain
lines=$(grep -c '^\[ *[0-9.]*s\] ' "$T/err")
assert_eq "plain: one line per event (2 stages, 2 retries, 3 ends)" "$lines" 7
assert_match "plain: the stage" "$(sed -n 1p "$T/err")" '^\[ *0\.[0-9]s\] stage health: 1 check$'
assert_match "plain: first retry" "$(sed -n 2p "$T/err")" \
	'^\[ *[0-9.]+s\] backend-health: attempt 1/6 fail \(status 503, expected 2xx\); next in 300ms$'
assert_match "plain: second retry" "$(sed -n 3p "$T/err")" 'backend-health: attempt 2/6 fail'
assert_match "plain: the end" "$(sed -n 4p "$T/err")" \
	'backend-health: pass after 3 attempts, [0-9.]+m?s \(status 200\)$'
assert_match "plain: next stage after it" "$(sed -n 5p "$T/err")" 'stage smoke: 2 checks$'
assert_match "plain: a warning says so" "$(cat "$T/err")" 'down: error \(not critical\) after 1 attempt'
assert_eq "stdout is the JSON report only" "$(jq -r .verdict < "$T/out")" pass
assert_no_match "no progress in the report file" "$(cat "$T/report.json")" 'attempt 1/6'

# --- -q and --progress none: nothing on stderr
KEY=$$-$RANDOM
sed -i "s/key=[^&]*&/key=$KEY\&/" "$T/p.json"
run_verdict run -q "$T/p.json"
assert_eq "quiet: exit code" "$RC" 0
assert_eq "quiet: no progress" "$(cat "$T/err")" ""
run_verdict run --progress none --format json "$T/p.json"
assert_eq "none: no progress" "$(cat "$T/err")" ""
run_verdict run --progress sometimes "$T/p.json"
assert_eq "bad mode: exit code" "$RC" 2
assert_match "bad mode: message" "$(cat "$T/err")" '--progress: expected auto, tty, plain or none'

# --- on a terminal: a live view, erased before the report
KEY=$$-$RANDOM
sed -i "s/key=[^&]*&/key=$KEY\&/; s/fail=2/fail=8/; s/\"retries\": 5/\"retries\": 9/" "$T/p.json"
tmux_start "TERM=xterm '$VERDICT' run '$T/p.json'; echo EXIT=\$?; sleep 60"
seen=$(tmux_wait '*backend-health: attempt */10, *' 100)
assert_match "tty: the view counts attempts" "$seen" 'backend-health: attempt [0-9]+/10, (next in|running)'
assert_match "tty: the view has a header" "$seen" 'verdict: 0/3 done, 1 running, '
screen=$(tmux_wait '*EXIT=*' 100)
assert_match "tty: the run ended" "$screen" 'EXIT=0'
assert_match "tty: the report is there" "$screen" 'PASS   backend-health'
assert_no_match "tty: the view was erased" "$screen" 'verdict: [0-9]+/3 done'
assert_no_match "tty: no attempt lines left" "$screen" 'attempt [0-9]+/10'

finish
