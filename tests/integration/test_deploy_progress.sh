# test_deploy_progress.sh - what `verdict deploy` shows while it works:
# through a pipe, plain lines when something happens (each step, the
# gate's stage, each failed attempt with the next one's delay, each
# check's end), none of it on stdout (--format json) or in the report
# file; nothing with -q or --progress none; and on a terminal (tmux) a
# live view in the bottom rows (the deployment and its gate, the attempt
# counter, elapsed time) while the step and hook lines scroll above it,
# erased when the deployment ends.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

start_faultd
mkdir -p "$T/app"
# the health check fails FAIL times per version, then passes
cat > "$T/app/deploy.json" << EOF
{ "environment": "staging", "state_dir": "state",
  "hooks": { "deploy": { "argv": ["sh", "-c", "echo deploying \$0", "\${VERSION}"] } },
  "health": { "name": "health", "checks": [
    { "name": "backend-health", "type": "http",
      "url": "$F/flaky?key=$$-\${VERSION}&fail=\${FAIL:-2}",
      "retries": 9, "interval": "300ms" } ] },
  "smoke": { "name": "smoke", "checks": [
    { "name": "home", "type": "http", "url": "$F/ok" } ] } }
EOF
CFG=$T/app/deploy.json

# --- through a pipe: plain lines, in the order things happened
run_verdict deploy --config "$CFG" --version p1 --format json -o "$T/report.json"
assert_eq "plain: exit code" "$RC" 0
assert_clean_stderr plain
assert_eq "plain: stdout is the JSON report" "$(jq_out .result)" promoted
assert_eq "plain: the gate's lines, in order" \
	"$(grep -E 'step health|health: stage|attempt [0-9]+/10|backend-health pass' "$T/err" |
		sed -E 's/^verdict: *//; s/(3 attempts), [^)]*/\1, D/')" \
	"step health
health: stage main: 1 check
health: backend-health attempt 1/10 failed (status 503, expected 2xx), next in 300ms
health: backend-health attempt 2/10 failed (status 503, expected 2xx), next in 300ms
health: backend-health pass (3 attempts, D)"
assert_match "plain: the hook's output" "$(cat "$T/err")" '\[deploy\] deploying p1'
assert_match "plain: the smoke stage" "$(cat "$T/err")" 'smoke: home pass \(1 attempt'
assert_no_match "plain: nothing of it on stdout" "$(cat "$T/out")" 'attempt 1/10|step health'
assert_no_match "plain: nothing of it in the report file" "$(cat "$T/report.json")" 'attempt 1/10|step health'
assert_no_match "plain: no terminal control bytes" "$(cat "$T/err")" $'\033'

# --- -q and --progress none: nothing on stderr; -q with a mode named: that mode
run_verdict deploy --config "$CFG" --version p2 -q
assert_eq "quiet: exit code" "$RC" 0
assert_eq "quiet: nothing on stderr" "$(cat "$T/err")" ""
run_verdict deploy --config "$CFG" --version p3 --progress none --format json
assert_eq "none: exit code" "$RC" 0
assert_eq "none: nothing on stderr" "$(cat "$T/err")" ""
run_verdict deploy --config "$CFG" --version p4 -q --progress plain
assert_match "quiet and plain: plain lines" "$(cat "$T/err")" 'backend-health attempt 1/10 failed'
run_verdict deploy --config "$CFG" --version p5 --progress sometimes
assert_eq "bad mode: exit code" "$RC" 2
assert_match "bad mode: message" "$(cat "$T/err")" 'deploy: --progress: expected auto, tty, plain or none'
run_verdict rollback --config "$CFG" --progress tty -q --format json
assert_eq "rollback takes it too" "$RC" 0

# --- on a terminal: a live view under the scrolling lines, then erased
tmux_start "cd '$T'; TERM=xterm FAIL=8 '$VERDICT' deploy --config '$CFG' --version t1; echo EXIT=\$?; read x; seq 1 60; sleep 60"
seen=$(tmux_wait '*backend-health: attempt */10, *' 100)
assert_match "tty: the view counts attempts" "$seen" \
	'^  backend-health: attempt [0-9]+/10, (next in [0-9.]+m?s \(status 503, expected 2xx\)|running)'
assert_match "tty: the view names the deployment, its gate and the time" "$seen" \
	'^verdict: deploy t1 to staging: health gate, 0/1 done, [0-9]+\.[0-9]s$'
assert_match "tty: step and hook lines scroll above it" "$seen" '\[deploy\] deploying t1'
assert_eq "tty: the view is in the bottom rows" \
	"$(printf '%s\n' "$seen" | awk '/^verdict: deploy t1 to staging: health gate/ { print NR }')" 35
assert_no_match "tty: no retry lines in the log" "$seen" 'attempt [0-9]+/10 failed'
screen=$(tmux_wait '*EXIT=*' 300)
assert_match "tty: the deployment ended" "$screen" 'EXIT=0'
assert_match "tty: the report is there" "$screen" 'staging: deploy t1: promoted \(exit 0\)'
assert_match "tty: the gate's end stays in the log" "$screen" 'health: backend-health pass \(9 attempts'
assert_no_match "tty: the view was erased" "$screen" 'health gate, |to staging: (before|after) the'
assert_no_match "tty: no attempt lines left" "$screen" 'attempt [0-9]+/10'
# the whole screen scrolls again: what is printed next reaches the last row
tmux_keys Enter
screen=$(tmux_wait '*60*' 50)
# (row 40 holds the cursor; with the region still set, 60 would be on row 33)
assert_eq "tty: the scroll region was given back" "$(printf '%s\n' "$screen" | sed -n 39p)" 60

finish
