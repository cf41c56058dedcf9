# test_deploy_notify.sh - notifications of `verdict deploy`, asserted
# request by request at a recording HTTP server (tests/tools/recorder.c)
# standing in for Telegram, Slack, GitHub and a webhook: the exact paths
# and JSON bodies, GitHub statuses in_progress -> success / failure and
# inactive for the replaced deployment, retries with backoff after a 500,
# a dead endpoint reported without changing the verdict, and the tokens
# (one of them in Telegram's URL path) in no output, record or report.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

RPORT=$(free_port)
DEAD=$(free_port)
export TELEGRAM_BOT_TOKEN="123456:tg-Secret-$RANDOM$RANDOM"
export GITHUB_TOKEN="ghp_Secret$RANDOM$RANDOM"
export HOOK_KEY="hk-Secret-$RANDOM$RANDOM"
export GITHUB_ACTOR=tester GITHUB_RUN_ID=777 GITHUB_SERVER_URL=https://github.example
export GITHUB_REPOSITORY=acme/app GITHUB_SHA=abc123
REC="$T/requests.jsonl"

"$TOOLS/recorder" -p "$RPORT" -o "$REC" \
	-r "POST /repos/acme/app/deployments=201:{\"id\":{seq}}" \
	-r "POST /repos/acme/app/deployments/*=201:{}" \
	-F "/hooks/slack=1" 2> "$T/recorder.err" &
PIDS="$PIDS $!"
wait_port "$RPORT" 10

mkdir -p "$T/app"
cat > "$T/app/deploy.json" <<EOF
{ "environment": "staging",
  "environment_url": "https://staging.example",
  "hooks": { "deploy": { "argv": ["sh", "-c", "echo \$0 > current", "\${VERSION}"] } },
  "health": { "checks": [ { "name": "up", "type": "exec", "argv": ["test", "-s", "$T/app/current"] } ] },
  "smoke": { "checks": [ { "name": "good", "type": "exec", "argv": ["grep", "-q", "good", "$T/app/current"] } ] },
  "notify": {
    "retries": 2, "interval": "100ms", "timeout": "2s",
    "telegram": { "base_url": "http://127.0.0.1:$RPORT", "chat_id": -100123 },
    "slack": { "url": "http://127.0.0.1:$RPORT/hooks/slack" },
    "github": { "base_url": "http://127.0.0.1:$RPORT" },
    "webhook": [
      { "url": "http://127.0.0.1:$RPORT/hook", "headers": { "X-Api-Key": "\${HOOK_KEY}" } },
      { "url": "http://127.0.0.1:$DEAD/gone" } ] } }
EOF
CFG="$T/app/deploy.json"

# req N FILTER: jq on the Nth request (1-based) of the last deploy
req() { sed -n "$1p" "$T/last.jsonl" | jq -r "$2"; }
deploy() {
	local before
	before=$(wc -l < "$REC" 2>/dev/null || echo 0)
	run_verdict deploy --config "$CFG" --version "$1" --format json
	tail -n +"$((before + 1))" "$REC" > "$T/last.jsonl"
}

# --- good1: promoted, nothing to replace -----------------------------------
deploy good1
assert_eq "good1: exit 0" "$RC" 0
assert_clean_stderr "good1"
ID1=$(jq_out .deployment_id)
assert_eq "good1: request count" "$(wc -l < "$T/last.jsonl")" 10
assert_eq "1: telegram path" "$(req 1 '.method + " " + .path')" "POST /bot$TELEGRAM_BOT_TOKEN/sendMessage"
assert_eq "1: telegram body" "$(req 1 '.body')" \
	"{\"chat_id\":-100123,\"text\":\"[staging] deploying good1 (known-good none) (deployment $ID1, by tester)\",\"disable_web_page_preview\":true}"
assert_eq "1: content type" "$(req 1 '.headers["content-type"]')" "application/json"
assert_eq "2: slack (answered 500)" "$(req 2 '.path')" "/hooks/slack"
assert_eq "3: slack retried, same body" "$(req 3 '.body')" "$(req 2 '.body')"
assert_eq "3: slack body" "$(req 3 '.body')" \
	"{\"text\":\"[staging] deploying good1 (known-good none) (deployment $ID1, by tester)\"}"
assert_eq "4: github create" "$(req 4 '.method + " " + .path')" "POST /repos/acme/app/deployments"
assert_eq "4: github auth" "$(req 4 '.headers.authorization')" "Bearer $GITHUB_TOKEN"
assert_eq "4: github accept" "$(req 4 '.headers.accept')" "application/vnd.github+json"
assert_eq "4: github body" "$(req 4 '.body | fromjson | [.ref, .environment, .auto_merge, (.required_contexts|length), .payload.version, .payload.deployment_id] | map(tostring) | join(" ")')" \
	"abc123 staging false 0 good1 $ID1"
GH1=$(( 1000 + $(req 4 .seq) ))
assert_eq "5: in_progress on the new deployment" "$(req 5 '.path')" "/repos/acme/app/deployments/$GH1/statuses"
assert_eq "5: in_progress body" "$(req 5 '.body | fromjson | [.state, .environment, .environment_url, .log_url] | join(" ")')" \
	"in_progress staging https://staging.example https://github.example/acme/app/actions/runs/777"
assert_eq "6: webhook" "$(req 6 '.path')" "/hook"
assert_eq "6: webhook header" "$(req 6 '.headers["x-api-key"]')" "$HOOK_KEY"
assert_eq "6: webhook body" "$(req 6 '.body | fromjson | [.event_id, .event, .environment, .version, (.previous_version|tostring), .actor, .ci.github_run_id] | join(" ")')" \
	"$ID1:started started staging good1 null tester 777"
assert_eq "7: telegram promoted" "$(req 7 '.body | fromjson | .text')" \
	"[staging] good1 promoted: healthy and smoke-tested (replaces none) (deployment $ID1, by tester) https://github.example/acme/app/actions/runs/777"
assert_eq "8: slack promoted" "$(req 8 '.path')" "/hooks/slack"
assert_eq "9: github success" "$(req 9 '.path + " " + (.body | fromjson | .state)')" "/repos/acme/app/deployments/$GH1/statuses success"
assert_eq "10: webhook promoted" "$(req 10 '.body | fromjson | .event + " " + (.exit_code|tostring)')" "promoted 0"
assert_eq "dead webhook: reported; promoted waits behind started in the outbox" "$(jq_out '[.notifications[] | select(.notifier == "webhook#2") | .state] | join(",")')" "failed,queued"
assert_match "dead webhook: why" "$(jq_out '.notifications[] | select(.notifier == "webhook#2") | .error' | head -1)" "onnect"
assert_eq "sent notifications" "$(jq_out '[.notifications[] | select(.state == "sent")] | length')" 9
assert_eq "known-good keeps GitHub's deployment id" "$(jq -r '.known_good.notify_data.github' "$T/app/.verdict/staging.state.json")" "$GH1"

# --- good2: promoted, good1's GitHub deployment goes inactive ----------------
deploy good2
assert_eq "good2: exit 0" "$RC" 0
GH2=$(( 1000 + $(jq -r 'select(.path == "/repos/acme/app/deployments") | .seq' "$T/last.jsonl") ))
assert_eq "good2: statuses in order" "$(jq -r 'select(.path | test("statuses")) | (.path | split("/")[5]) + ":" + (.body | fromjson | .state)' "$T/last.jsonl" | tr '\n' ' ')" \
	"$GH2:in_progress $GH2:success $GH1:inactive "
assert_eq "good2: no retry needed now" "$(grep -c '/hooks/slack' "$T/last.jsonl")" 2

# --- bad3: smoke fails, rolled back: failure, nothing inactive -------------------
deploy bad3
assert_eq "bad3: exit 3" "$RC" 3
GH3=$(( 1000 + $(jq -r 'select(.path == "/repos/acme/app/deployments") | .seq' "$T/last.jsonl") ))
assert_eq "bad3: statuses" "$(jq -r 'select(.path | test("statuses")) | (.path | split("/")[5]) + ":" + (.body | fromjson | .state)' "$T/last.jsonl" | tr '\n' ' ')" \
	"$GH3:in_progress $GH3:failure "
assert_eq "bad3: telegram" "$(jq -r 'select(.path | test("sendMessage")) | .body | fromjson | .text' "$T/last.jsonl" | tail -1)" \
	"[staging] bad3 failed the gate and was rolled back to good2: smoke failed: good: exit 1, expected 0 (deployment $(jq_out .deployment_id), by tester) https://github.example/acme/app/actions/runs/777"
assert_eq "bad3: webhook" "$(jq -r 'select(.path == "/hook") | .body | fromjson | .event + " " + (.exit_code|tostring) + " " + .previous_version' "$T/last.jsonl" | tail -1)" \
	"rolled_back 3 good2"

# --- inconclusive: a smoke check that could not run at all ------------------------
sed 's|"argv": \["grep", "-q", "good", "[^"]*"\]|"argv": ["no-such-command-'$$'"]|' "$CFG" > "$T/app/inconc.json"
CFG_SAVE=$CFG
CFG="$T/app/inconc.json"
deploy good5
assert_eq "inconclusive: exit 5" "$RC" 5
assert_match "inconclusive: reason" "$(jq_out .reason)" "the gate could not judge: good: command not found"
assert_eq "inconclusive: held, not rolled back" "$(jq_out '[.steps[].step] | join(",")')" "deploy,health,smoke"
assert_eq "inconclusive: known-good stays" "$(jq_out .known_good_version)" good2
assert_eq "inconclusive: runs unverified" "$(jq_out '.current.version + " " + .current.status')" "good5 unverified"
GH5=$(( 1000 + $(jq -r 'select(.path == "/repos/acme/app/deployments") | .seq' "$T/last.jsonl") ))
assert_eq "inconclusive: GitHub error" "$(jq -r 'select(.path | test("statuses")) | (.path | split("/")[5]) + ":" + (.body | fromjson | .state)' "$T/last.jsonl" | tr '\n' ' ')" \
	"$GH5:in_progress $GH5:error "
sed 's|"environment": "staging",|"environment": "staging", "on_inconclusive": "rollback",|' "$T/app/inconc.json" > "$T/app/inconc-rb.json"
CFG="$T/app/inconc-rb.json"
deploy good6
assert_eq "inconclusive, on_inconclusive rollback: exit 3" "$RC" 3
assert_eq "inconclusive, rolled back: steps" "$(jq_out '[.steps[].step] | join(",")')" "deploy,health,smoke,rollback,verify"
assert_eq "inconclusive, rolled back to good2" "$(jq_out '.current.version + " " + .current.status')" "good2 known_good"
CFG=$CFG_SAVE

# --- every event once: per deployment, event and notifier ---------------------
assert_eq "no duplicate webhook event" "$(jq -r 'select(.path == "/hook") | .body | fromjson | .event_id' "$REC" | sort | uniq -d | wc -l)" 0

# --- the outbox: what failed is kept and sent again by the next run ------------
# A webhook that answers 500 to its first two requests, no retries: the
# first deploy's "started" fails and its "promoted" waits behind it in the
# outbox; the second deploy tries again (fails: request 2), the third
# delivers both, in order, with their event_id unchanged.
OPORT=$(free_port)
OREC="$T/outbox.jsonl"
"$TOOLS/recorder" -p "$OPORT" -o "$OREC" -F "/ob=2" 2> "$T/recorder2.err" &
PIDS="$PIDS $!"
wait_port "$OPORT" 10
mkdir -p "$T/ob"
cat > "$T/ob/deploy.json" <<EOF
{ "environment": "ob",
  "hooks": { "deploy": { "argv": ["sh", "-c", "echo \$0 > current", "\${VERSION}"] } },
  "health": { "checks": [ { "name": "up", "type": "exec", "argv": ["test", "-s", "$T/ob/current"] } ] },
  "notify": { "retries": 0, "webhook": { "url": "http://127.0.0.1:$OPORT/ob" } } }
EOF
ob_events() { jq -r --arg id "$1" '.body | fromjson | select(.deployment_id == $id) | .event_id' "$OREC" | tr '\n' ' '; }
run_verdict deploy --config "$T/ob/deploy.json" --version ob1 --format json
assert_eq "outbox: the deploy's verdict is not changed (exit 0)" "$RC" 0
OB1=$(jq_out .deployment_id)
assert_match "outbox: said" "$(cat "$T/err")" "kept in the outbox: the next deploy or rollback sends it again"
assert_eq "outbox: one request went out (started, 500)" "$(ob_events "$OB1")" "$OB1:started "
run_verdict status --config "$T/ob/deploy.json" --format json
assert_eq "outbox: status counts 2 waiting" "$(jq_out .outbox)" 2
assert_eq "outbox: status still exit 0 (the environment is fine)" "$RC" 0
run_verdict deploy --config "$T/ob/deploy.json" --version ob2 --format json
assert_eq "outbox: second deploy exit 0" "$RC" 0
OB2=$(jq_out .deployment_id)
assert_eq "outbox: tried again first, failed again, order kept" "$(ob_events "$OB1")" "$OB1:started $OB1:started "
assert_eq "outbox: the second deploy's own events went out" "$(ob_events "$OB2")" "$OB2:started $OB2:promoted "
assert_eq "outbox: report says so" "$(jq_out '[.notifications[] | select(.from_outbox) | .state] | join(",")')" failed
run_verdict deploy --config "$T/ob/deploy.json" --version ob3 --format json
assert_eq "outbox: third deploy exit 0" "$RC" 0
assert_eq "outbox: delivered, in order, same event ids" "$(ob_events "$OB1")" "$OB1:started $OB1:started $OB1:started $OB1:promoted "
assert_eq "outbox: report" "$(jq_out '[.notifications[] | select(.from_outbox) | .event + ":" + .state] | join(",")')" "started:sent,promoted:sent"
run_verdict status --config "$T/ob/deploy.json" --format json
assert_eq "outbox: empty now" "$(jq_out .outbox)" 0
assert_eq "outbox: history counts the deliveries of ob1" \
	"$("$VERDICT" history --config "$T/ob/deploy.json" --format json | jq -r --arg id "$OB1" '.[] | select(.deployment_id == $id) | "\(.notifications_sent) \(.notifications_failed)"')" "2 2"

# --- an endless answer: the body is capped while it is read, not waited out ---
# (a client that keeps reading past its cap would time out after 60 s and
# keep the notification in the outbox)
FPORT=$(free_port)
"$TOOLS/faultd" "$FPORT" > "$T/faultd.out" 2>&1 &
PIDS="$PIDS $!"
wait_port "$FPORT" 10
mkdir -p "$T/capped"
cat > "$T/capped/deploy.json" <<EOF
{ "environment": "capped", "state_dir": "$T/capped/state",
  "hooks": { "deploy": { "argv": ["true"] } },
  "health": { "checks": [ { "name": "up", "type": "exec", "argv": ["true"] } ] },
  "notify": { "retries": 0, "timeout": "60s",
    "webhook": [ { "url": "http://127.0.0.1:$FPORT/endless" } ] } }
EOF
run_verdict deploy --config "$T/capped/deploy.json" --version v1 --format json
assert_eq "endless answer: exit 0" "$RC" 0
assert_eq "endless answer: both events sent" "$(jq_out '[.notifications[] | .event + ":" + .state + ":" + (.http_status|tostring)] | join(" ")')" \
	"started:sent:200 promoted:sent:200"
assert_eq "endless answer: nothing in the outbox" "$(jq -r '.outbox // [] | length' "$T/capped/state/capped.state.json")" 0

# --- a stop signal while the result is notified: the notification still ----
# goes out (the signal reaches the deployer through verdict.c's watchers)
SPORT=$(free_port)
"$TOOLS/recorder" -p "$SPORT" -o "$T/slow.jsonl" -d "/slow=1500" 2> "$T/slowrec.err" &
PIDS="$PIDS $!"
wait_port "$SPORT" 10
mkdir -p "$T/sig"
cat > "$T/sig/deploy.json" <<EOF
{ "environment": "sig", "state_dir": "$T/sig/state",
  "hooks": { "deploy": { "argv": ["true"] } },
  "health": { "checks": [ { "name": "up", "type": "exec", "argv": ["true"] } ] },
  "notify": { "retries": 0, "timeout": "30s",
    "webhook": [ { "url": "http://127.0.0.1:$SPORT/slow" } ] } }
EOF
"$VERDICT" deploy --config "$T/sig/deploy.json" --version v1 > "$T/sig.out" 2> "$T/sig.err" &
pid=$!
n=0
while ! grep -q "result: promoted" "$T/sig.err" 2>/dev/null && [ $n -lt 600 ]; do
	sleep 0.05
	n=$((n + 1))
done
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
assert_eq "SIGTERM while notifying the result: exit 0 (promoted)" "$rc" 0
assert_eq "SIGTERM while notifying: recorded sent" \
	"$(jq -r 'select(.event == "notify" and .what == "promoted") | .state' "$T/sig/state/sig.history.jsonl" | tr '\n' ' ')" "sending sent "
assert_eq "SIGTERM while notifying: both events arrived" \
	"$(jq -r '.body | fromjson | .event' "$T/slow.jsonl" | tr '\n' ' ')" "started promoted "

# --- tokens stay out of outputs and records ---------------------------------------
for f in "$T/out" "$T/err" "$T/app/.verdict/staging.history.jsonl" "$T/app/.verdict/staging.state.json"; do
	for s in "$TELEGRAM_BOT_TOKEN" "$GITHUB_TOKEN" "$HOOK_KEY" "tg-Secret"; do
		assert_eq "no secret in $(basename "$f")" "$(grep -c -- "$s" "$f" || true)" 0
	done
done

# --- a broken notifier config is a config error --------------------------------
sed 's/"chat_id": -100123/"chat_id": "not a chat"/' "$CFG" > "$T/app/bad.json"
run_verdict deploy --config "$T/app/bad.json" --version good4
assert_eq "bad chat id: exit 2" "$RC" 2
assert_match "bad chat id: place" "$(cat "$T/err")" "bad.json: notify.telegram.chat_id"
rc=0
env -u TELEGRAM_BOT_TOKEN "$VERDICT" deploy --config "$CFG" --version good4 > "$T/out" 2> "$T/err" || rc=$?
assert_eq "missing token: exit 2" "$rc" 2
assert_match "missing token: names the variable" "$(cat "$T/err")" "TELEGRAM_BOT_TOKEN"

finish
