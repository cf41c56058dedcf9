# test_deploy.sh - `verdict deploy` end to end against a real nginx: the
# deploy hook switches the docroot symlink between releases and reloads
# nginx; the gate promotes the good releases, rolls back one that fails
# the smoke suite and one that never becomes healthy, and verifies each
# rollback. State, history and status are checked after every run. Also:
# `verdict rollback --to`, names refused before they reach argv or files,
# config errors, two deploys at once (one refused at once with the
# owner's details), a hanging hook killed at its deadline with its whole
# process group, secrets kept out of every output and record, the report
# (JSON and $GITHUB_STEP_SUMMARY), and file modes.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PORT=$(free_port)
MK="$$$RANDOM"
export DEPLOY_SECRET="dep-Secret-$RANDOM$RANDOM"
mkdir -p "$T/ng/tmp" "$T/app" "$T/rel"

# releases: v1, v2 good; v3 healthy but its smoke test fails; v4 never
# healthy (no /health: a 404, which only "retry_on": "any" retries)
for v in v1 v2 v3 v4; do
	mkdir -p "$T/rel/$v"
	echo "{\"status\":\"ok\",\"version\":\"$v\"}" > "$T/rel/$v/health.json"
	echo "<h1>welcome to $v</h1>" > "$T/rel/$v/index.html"
done
echo "<h1>maintenance</h1>" > "$T/rel/v3/index.html"
rm "$T/rel/v4/health.json"
mkdir -p "$T/rel/empty"
ln -sfn "$T/rel/empty" "$T/current"

nginx_conf "$T/ng" "server { listen 127.0.0.1:$PORT; root $T/current;
	location = /health { try_files /health.json =404; default_type application/json; } }"
# master_process on: `nginx -s reload` is unsafe in single-process mode
nginx -p "$T/ng" -c "$T/ng/nginx.conf" -g 'daemon off; user root;' > "$T/ng/stdout.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$PORT" 10

cat > "$T/app/switch.sh" <<EOF
#!/bin/sh
# switch.sh VERSION: serve release VERSION (docroot symlink + reload)
set -eu
[ -d "$T/rel/\$1" ] || { echo "no release \$1" >&2; exit 1; }
ln -sfn "$T/rel/\$1" "$T/current.new"
mv -T "$T/current.new" "$T/current"
nginx -p "$T/ng" -c "$T/ng/nginx.conf" -s reload
echo "serving \$1 (was \${VERDICT_PREVIOUS_VERSION:-nothing}) secret=\$DEPLOY_SECRET"
EOF
chmod +x "$T/app/switch.sh"

cat > "$T/app/deploy.json" <<EOF
{
  // the deploy config of a test "staging"
  "environment": "staging",
  "state_dir": "state",
  "hooks": {
    "deploy": { "argv": ["./switch.sh", "\${VERSION}"], "timeout": "20s" },
    "promote": { "argv": ["sh", "-c", "echo \$0 > promoted.txt", "\${VERSION}"] }
  },
  "health": { "name": "health", "checks": [
    { "name": "health", "type": "http", "url": "http://127.0.0.1:$PORT/health",
      "retries": 8, "interval": "100ms", "timeout": "2s", "retry_on": "any",
      "expect": { "status": 200, "json": { "status": "ok" } } } ] },
  "smoke": { "name": "smoke", "checks": [
    { "name": "home", "type": "http", "url": "http://127.0.0.1:$PORT/",
      "expect": { "body_contains": "welcome" } } ] }
}
EOF
CFG="$T/app/deploy.json"
STATE="$T/app/state"

deploy() { run_verdict deploy --config "$CFG" --version "$@"; }
state() { jq -r "$1" < "$STATE/staging.state.json"; }
served() { curl -s "http://127.0.0.1:$PORT/" | tr -d '\n'; }

# --- v1, v2: promoted ---------------------------------------------------
# no USER, LOGNAME or GITHUB_ACTOR (a container, a unit): the actor is the
# uid's login name, never null
set +e
env -u USER -u LOGNAME -u GITHUB_ACTOR "$VERDICT" deploy --config "$CFG" \
	--version v1 > "$T/out" 2> "$T/err"
RC=$?
set -e
assert_eq "v1: exit 0 (promoted)" "$RC" 0
assert_clean_stderr "v1"
assert_match "v1: stdout" "$(cat "$T/out")" "staging: deploy v1: promoted \(exit 0\)"
assert_match "v1: hook output echoed" "$(cat "$T/err")" "\[deploy\] serving v1 \(was nothing\)"
assert_eq "v1: nginx serves v1" "$(served)" "<h1>welcome to v1</h1>"
assert_eq "v1: known-good" "$(state .known_good.version)" v1
assert_eq "v1: current" "$(state '.current.version + " " + .current.status')" "v1 known_good"
assert_eq "v1: nothing in progress" "$(state .in_progress)" null
assert_eq "v1: promote hook ran" "$(cat "$T/app/promoted.txt")" v1

GITHUB_STEP_SUMMARY="$T/summary.md" deploy v2 --format json --report "$T/report.json"
assert_eq "v2: exit 0" "$RC" 0
assert_eq "v2: nginx serves v2" "$(served)" "<h1>welcome to v2</h1>"
assert_eq "v2: known-good" "$(state .known_good.version)" v2
assert_eq "v2: report result" "$(jq_out .result)" promoted
assert_eq "v2: report previous" "$(jq_out .previous_version)" v1
assert_eq "v2: report steps" "$(jq_out '[.steps[].step] | join(",")')" "deploy,health,smoke,promote"
assert_eq "v2: report health check" "$(jq_out '.gates.health.checks[0].status')" pass
assert_eq "v2: report smoke check" "$(jq_out '.gates.smoke.checks[0].name')" home
assert_eq "v2: report file = stdout" "$(jq -r .deployment_id "$T/report.json")" "$(jq_out .deployment_id)"
assert_match "v2: hook output recorded" "$(jq_out '.hooks[0].output')" "serving v2 \(was v1\)"
assert_match "v2: step summary" "$(cat "$T/summary.md")" "### verdict deploy: staging v2 — promoted"

# --- v3: healthy, smoke fails -> rolled back to v2, verified --------------
deploy v3
assert_eq "v3: exit 3 (rolled back)" "$RC" 3
assert_clean_stderr "v3"
assert_match "v3: reason" "$(cat "$T/out")" 'smoke failed: home: body does not contain "welcome"'
assert_eq "v3: nginx serves v2 again" "$(served)" "<h1>welcome to v2</h1>"
assert_eq "v3: known-good stays v2" "$(state .known_good.version)" v2
assert_eq "v3: current" "$(state '.current.version + " " + .current.status')" "v2 known_good"
assert_eq "v3: last result" "$(state .last.result)" rolled_back
assert_match "v3: verified" "$(cat "$T/err")" "step verify"
assert_eq "v3: promote hook not run" "$(cat "$T/app/promoted.txt")" v2

# --- v4: never healthy -> rolled back ------------------------------------
deploy v4 --format json
assert_eq "v4: exit 3" "$RC" 3
assert_eq "v4: health gave up after its retries" "$(jq_out '.gates.health.checks[0].attempts')" 9
assert_eq "v4: smoke skipped (not run)" "$(jq_out '.gates.smoke')" null
assert_eq "v4: verify passed" "$(jq_out '.gates.verify.verdict')" pass
assert_eq "v4: steps" "$(jq_out '[.steps[].step] | join(",")')" "deploy,health,rollback,verify"
assert_eq "v4: nginx serves v2" "$(served)" "<h1>welcome to v2</h1>"
assert_eq "v4: known-good v2" "$(state .known_good.version)" v2

# --- a missing release: the deploy hook fails -> rolled back -------------
deploy v9
assert_eq "v9: exit 3" "$RC" 3
assert_match "v9: reason" "$(cat "$T/out")" "deploy hook: exit 1"

# --- history and status ----------------------------------------------------
run_verdict history --config "$CFG" --format json
assert_eq "history: exit 0" "$RC" 0
assert_eq "history: v1's actor, from the uid" "$(jq_out '.[0].actor')" "$(id -un)"
assert_eq "history: versions" "$(jq_out '[.[].version] | join(",")')" "v1,v2,v3,v4,v9"
assert_eq "history: results" "$(jq_out '[.[].result] | join(",")')" \
	"promoted,promoted,rolled_back,rolled_back,rolled_back"
assert_eq "history: previous" "$(jq_out 'map(.previous_version // "-") | join(",")')" "-,v1,v2,v2,v2"
run_verdict history --config "$CFG" --limit 2
assert_eq "history text: 3 lines" "$(wc -l < "$T/out")" 3
assert_match "history text" "$(tail -1 "$T/out")" "v9 +v2 +rolled_back +3"
run_verdict status --config "$CFG"
assert_eq "status: exit 0" "$RC" 0
assert_match "status: known-good" "$(cat "$T/out")" "known-good:  v2"
run_verdict status --config "$CFG" --format json
assert_eq "status json: locked" "$(jq_out .locked)" false
assert_eq "status json: in progress" "$(jq_out .in_progress)" null
lines=$(wc -l < "$STATE/staging.history.jsonl")
assert_eq "history lines parse" "$(jq -c . "$STATE/staging.history.jsonl" | wc -l)" "$lines"

# --- rollback --to v1, then back to the known-good one ---------------------
run_verdict rollback --config "$CFG" --to v1
assert_eq "rollback --to v1: exit 0" "$RC" 0
assert_eq "rollback: nginx serves v1" "$(served)" "<h1>welcome to v1</h1>"
assert_eq "rollback: known-good v1" "$(state .known_good.version)" v1
assert_eq "rollback: result" "$(state .last.result)" rollback_done
run_verdict rollback --config "$CFG" --to v3
assert_eq "rollback to a never-promoted version: exit 2" "$RC" 2
assert_match "rollback v3: why" "$(cat "$T/err")" "v3 was never promoted"
assert_eq "rollback v3: nginx still v1" "$(served)" "<h1>welcome to v1</h1>"

# --- names are checked before anything happens ----------------------------
before=$(wc -l < "$STATE/staging.history.jsonl")
for bad in "-rf" "../v1" "v1/../../x" "a b" ".hidden" "v1;id" "$(printf 'v\001')" ""; do
	deploy "$bad"
	assert_eq "bad version '$bad': exit 2" "$RC" 2
done
assert_match "bad version: message" "$(cat "$T/err")" "invalid version"
sed 's/"environment": "staging"/"environment": "..\/etc"/' "$CFG" > "$T/app/bad-env.json"
run_verdict deploy --config "$T/app/bad-env.json" --version v1
assert_eq "bad environment: exit 2" "$RC" 2
assert_match "bad environment: place" "$(cat "$T/err")" "bad-env.json: environment: invalid name"
assert_eq "nothing recorded for refused names" "$(wc -l < "$STATE/staging.history.jsonl")" "$before"
assert_eq "no file outside the state dir" "$(ls "$T" | grep -c etc || true)" 0

# --- config errors name the place -------------------------------------------
printf '{ "environment": "x", "hooks": { "deploy": { "argv": [] } }, "health": "h.json" }' > "$T/app/c1.json"
run_verdict deploy --config "$T/app/c1.json" --version v1
assert_eq "empty argv: exit 2" "$RC" 2
assert_match "empty argv: place" "$(cat "$T/err")" "c1.json: hooks.deploy.argv: required"
printf '{ "environment": "x", "hooks": { "deploy": { "argv": ["true"], "timout": "1s" } }, "health": { "checks": [] } }' > "$T/app/c2.json"
run_verdict deploy --config "$T/app/c2.json" --version v1
assert_match "unknown key: place" "$(cat "$T/err")" "c2.json: hooks.deploy.timout: unknown key"
printf '{ "environment": "x", "hooks": { "deploy": { "argv": ["true"] } }, "health": { "checks": [ { "name": "a", "type": "http", "url": "ftp://x" } ] } }' > "$T/app/c3.json"
run_verdict deploy --config "$T/app/c3.json" --version v1
assert_eq "bad inline suite: exit 2" "$RC" 2
assert_match "bad inline suite: place" "$(cat "$T/err")" "c3.json: health: checks\[0\]\.url"
run_verdict deploy --config "$CFG"
assert_eq "no --version: exit 2" "$RC" 2

# --- two deploys at once: the second is refused at once ---------------------
sed -e 's|"argv": \["./switch.sh", "${VERSION}"\]|"argv": ["sh", "-c", "touch '"$T"'/hook-started; while [ ! -e '"$T"'/go ]; do sleep 0.05; done; ./switch.sh $0", "${VERSION}"]|' \
	"$CFG" > "$T/app/slow.json"
"$VERDICT" deploy --config "$T/app/slow.json" --version v2 > "$T/slow.out" 2> "$T/slow.err" &
slow=$!
for i in $(seq 100); do [ -e "$T/hook-started" ] && break; sleep 0.05; done
# The first deploy holds the lock until $T/go exists; were the second to
# wait for the lock, a watchdog releases the first after 20s, so the test
# ends and the ordering below fails.
(trap 'kill "$s"; exit 0' TERM; sleep 20 & s=$!; wait "$s"; touch "$T/go") &
watchdog=$!
deploy v1
assert_eq "second deploy: exit 6 (locked)" "$RC" 6
assert_eq "second deploy refused while the first still ran" \
	"$(kill -0 "$slow" 2>/dev/null && [ ! -e "$T/go" ] && echo running)" running
kill "$watchdog" 2>/dev/null || true
wait "$watchdog" 2>/dev/null || true
slow_id=$(jq -r 'select(.event == "deployment") | .deployment_id' "$STATE/staging.history.jsonl" | tail -1)
assert_match "locked: owner's details" "$(cat "$T/err")" "environment staging is locked by deployment $slow_id of version v2 \(deploy, pid $slow on"
run_verdict status --config "$CFG" --format json
assert_eq "status while running: locked" "$(jq_out .locked)" true
assert_eq "status while running: state" "$(jq_out .in_progress.state)" running
assert_eq "status while running: step" "$(jq_out .in_progress.step)" deploy
assert_eq "status while running: exit 6 (a deployment is running)" "$RC" 6
touch "$T/go"
wait "$slow"; slow_rc=$?
assert_eq "first deploy went on: exit 0" "$slow_rc" 0
assert_eq "first deploy: v2 served" "$(served)" "<h1>welcome to v2</h1>"

# --- a hanging hook is killed at its deadline with its children -------------
cat > "$T/app/hang.json" <<EOF
{ "environment": "staging", "state_dir": "state",
  "hooks": {
    "deploy": { "argv": ["sh", "-c", "sh -c 'trap \"\" TERM; sleep 300.${MK}1; : $MK-child' & sleep 300.${MK}2; : $MK-main"],
                "timeout": "1s", "kill_grace": "300ms" },
    "rollback": { "argv": ["./switch.sh", "\${VERSION}"] } },
  "health": { "checks": [ { "name": "health", "type": "http", "url": "http://127.0.0.1:$PORT/health" } ] } }
EOF
start=$(date +%s%N)
run_verdict deploy --config "$T/app/hang.json" --version v1 --format json
took=$(( ($(date +%s%N) - start) / 1000000 ))
assert_eq "hanging hook: exit 3 (rolled back)" "$RC" 3
assert_le "hanging hook: ended soon after its 1s deadline (ms)" "$took" 6000
assert_eq "hanging hook: timed out" "$(jq_out '.hooks[0].timed_out')" true
assert_match "hanging hook: reason" "$(jq_out .reason)" "deploy hook: timed out after 1s"
sleep 0.2
assert_eq "hanging hook: no process left" "$(pgrep -fc "$MK" || true)" 0
assert_eq "after the hanging hook: v2 served" "$(served)" "<h1>welcome to v2</h1>"

# --- SIGTERM (a cancelled CI job): hook group stopped, recorded, lock freed ------
sed -e 's|"argv": \["./switch.sh", "${VERSION}"\]|"argv": ["sh", "-c", "touch '"$T"'/term-started; sleep 300.'"$MK"'3; : $0", "${VERSION}"]|' \
	"$CFG" > "$T/app/term.json"
"$VERDICT" deploy --config "$T/app/term.json" --version v1 > "$T/term.out" 2> "$T/term.err" &
pid=$!
for i in $(seq 100); do [ -e "$T/term-started" ] && break; sleep 0.05; done
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
assert_eq "SIGTERM: exit 8 (interrupted)" "$rc" 8
assert_match "SIGTERM: reason" "$(cat "$T/term.out")" "INTERRUPTED"
assert_eq "SIGTERM: hook group gone" "$(pgrep -fc "300.${MK}3" || true)" 0
assert_eq "SIGTERM: recorded" "$(state '.last.result + " " + (.last.exit_code|tostring)')" "interrupted 8"
assert_eq "SIGTERM: known-good kept" "$(state .known_good.version)" v2
run_verdict status --config "$CFG" --format json
assert_eq "SIGTERM: nothing left in progress" "$(jq_out .in_progress)" null
assert_eq "SIGTERM: lock free" "$(jq_out .locked)" false
assert_eq "SIGTERM: status exit 8 (what runs is unknown)" "$RC" 8
assert_eq "SIGTERM: status says why" "$(jq_out .verdict)" "what runs is unknown (a deployment was interrupted)"

# --- secrets and file modes ----------------------------------------------------
assert_eq "secret: not in the history" "$(grep -c "$DEPLOY_SECRET" "$STATE/staging.history.jsonl" || true)" 0
assert_eq "secret: masked in the history" "$(grep -c 'secret=\*\*\*' "$STATE/staging.history.jsonl")" "$(grep -c 'secret=' "$STATE/staging.history.jsonl")"
assert_eq "secret: not in stderr" "$(grep -c "$DEPLOY_SECRET" "$T/err" "$T/slow.err" | grep -vc ':0$' || true)" 0
assert_eq "state dir 0700" "$(stat -c %a "$STATE")" 700
assert_eq "state files 0600" "$(stat -c %a "$STATE/staging.state.json" "$STATE/staging.history.jsonl" "$STATE/staging.lock" | sort -u)" 600
assert_eq "no temp file left" "$(ls "$STATE" | grep -c tmp || true)" 0

finish
