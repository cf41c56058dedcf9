# test_deploy_crash.sh - `kill -9` of verdict at every step boundary of a
# deployment: in the deploy hook before and after its change (an orphaned
# hook process is left behind), during the health gate, in the promote
# hook (the gate had passed), in the rollback hook, and while a
# notification is on the wire (before the result, and after it). After
# each: `verdict status` reports the interrupted deployment (exit 8) and
# the lock is free; the known-good version is never lost and never
# advanced by itself; the next deploy records the interrupted one, kills
# its orphaned hook, and every notification event reaches the recorder
# once - except the one cut on the wire, which is delivered again (at
# least once, documented).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

RPORT=$(free_port)
MK="$$$RANDOM"
export GITHUB_TOKEN="ghp_Secret$RANDOM" GITHUB_REPOSITORY=acme/app
REC="$T/requests.jsonl"
"$TOOLS/recorder" -p "$RPORT" -o "$REC" \
	-r "POST /repos/acme/app/deployments=201:{\"id\":{seq}}" \
	-r "POST /repos/acme/app/deployments/*=201:{}" \
	-d "/slow=1500" 2> "$T/recorder.err" &
PIDS="$PIDS $!"
wait_port "$RPORT" 10

mkdir -p "$T/app"
cat > "$T/app/hook.sh" <<EOF
#!/bin/sh
# hook.sh deploy|promote|rollback VERSION PREVIOUS: kills verdict (its
# parent) where the version's name says so
what=\$1 v=\$2 prev=\$3
case "\$what:\$v" in
deploy:c1*) kill -9 \$PPID; exit 0 ;;
deploy:c2*) echo "\$v" > current; kill -9 \$PPID; exec sleep 30.${MK} ;;
promote:c3*) kill -9 \$PPID; exit 0 ;;
esac
case "\$what:\$prev" in rollback:c4*) kill -9 \$PPID; exit 0 ;; esac
[ "\$what" = promote ] && exit 0
echo "\$v" > current
echo "\$what \$v done"
EOF
chmod +x "$T/app/hook.sh"

write_cfg() { # FILE EXTRA-NOTIFIER-JSON
	cat > "$1" <<EOF
{ "environment": "staging",
  "hooks": {
    "deploy": { "argv": ["./hook.sh", "deploy", "\${VERSION}", "\${PREVIOUS_VERSION}"] },
    "promote": { "argv": ["./hook.sh", "promote", "\${VERSION}", "\${PREVIOUS_VERSION}"] },
    "rollback": { "argv": ["./hook.sh", "rollback", "\${VERSION}", "\${PREVIOUS_VERSION}"] } },
  "health": { "checks": [ { "name": "up", "type": "exec", "retries": 100, "interval": "100ms",
    "argv": ["sh", "-c", "test -s current && ! grep -q slow current"], "cwd": "$T/app" } ] },
  "smoke": { "checks": [ { "name": "good", "type": "exec", "argv": ["grep", "-q", "good", "$T/app/current"] } ] },
  "notify": { "retries": 0, "timeout": "10s",
    "github": { "base_url": "http://127.0.0.1:$RPORT" },
    "webhook": [ { "url": "http://127.0.0.1:$RPORT/hook" } $2 ] } }
EOF
}
CFG="$T/app/deploy.json"
write_cfg "$CFG" ""
write_cfg "$T/app/slow-notify.json" ", { \"url\": \"http://127.0.0.1:$RPORT/slow\" }"
HIST="$T/app/.verdict/staging.history.jsonl"
STATEF="$T/app/.verdict/staging.state.json"

last_id() { jq -r 'select(.event == "deployment") | .deployment_id' "$HIST" | tail -1; }
# events the webhook got for deployment ID, in order
hook_events() {
	jq -r --arg id "$1" 'select(.path == "/hook") | .body | fromjson | select(.deployment_id == $id) | .event' "$REC" | tr '\n' ' '
}
# GitHub statuses of deployment ID (through the id GitHub gave it)
gh_states() {
	local seq
	seq=$(jq -r --arg id "$1" 'select(.path == "/repos/acme/app/deployments") | select(.body | fromjson | .payload.deployment_id == $id) | .seq' "$REC")
	[ -n "$seq" ] || { echo "no-deployment"; return; }
	jq -r --arg p "/repos/acme/app/deployments/$((1000 + seq))/statuses" 'select(.path == $p) | .body | fromjson | .state' "$REC" | tr '\n' ' '
}

N=0
KG=""
good() { # NAME [CONFIG]: deploys a good version, which must record the
	# interrupted one
	N=$((N + 1))
	run_verdict deploy --config "${2:-$CFG}" --version "good$N" --format json
	assert_eq "$1: next deploy good$N: exit 0" "$RC" 0
	assert_clean_stderr "$1: next deploy"
	KG="good$N"
}

# after_crash NAME ID STEP: what must hold after verdict died in STEP
after_crash() {
	local name=$1 id=$2 step=$3
	run_verdict status --config "$CFG"
	assert_eq "$name: status exit 8" "$RC" 8
	assert_match "$name: status names it" "$(cat "$T/out")" "INTERRUPTED: $id deploy of [^ ]+ stopped during step $step"
	run_verdict status --config "$CFG" --format json
	assert_eq "$name: lock free" "$(jq_out .locked)" false
	assert_eq "$name: known-good kept" "$(jq_out '.known_good.version // "none"')" "${KG:-none}"
	assert_eq "$name: state file valid" "$(jq -r .environment "$STATEF")" staging
}

# after_recovery NAME ID EVENTS GHSTATES: checks made after the next deploy
after_recovery() {
	local name=$1 id=$2
	assert_eq "$name: recovered by the next deploy" "$(jq_out '.recovered[0].deployment_id + " " + .recovered[0].result')" "$id interrupted"
	assert_eq "$name: recorded interrupted" "$(jq -r --arg id "$id" 'select(.deployment_id == $id and .event == "result") | .result + " " + (.exit_code|tostring)' "$HIST")" "interrupted 8"
	assert_eq "$name: webhook events, each once" "$(hook_events "$id")" "$3"
	assert_eq "$name: GitHub statuses" "$(gh_states "$id")" "$4"
}

good first
assert_eq "first: known-good" "$(jq -r .known_good.version "$STATEF")" good1

# --- 1. in the deploy hook, before it changed anything --------------------
run_verdict deploy --config "$CFG" --version c1good
assert_eq "c1: verdict killed" "$RC" 137
id=$(last_id)
after_crash c1 "$id" deploy
good c1
after_recovery c1 "$id" "started interrupted " "in_progress error "

# --- 2. in the deploy hook, after its change; the hook lives on ------------
run_verdict deploy --config "$CFG" --version c2good
assert_eq "c2: verdict killed" "$RC" 137
id=$(last_id)
assert_eq "c2: orphaned hook still running" "$(pgrep -fc "30.$MK" || true)" 1
after_crash c2 "$id" deploy
good c2
assert_match "c2: orphan killed" "$(cat "$T/err")" "killed the orphaned deploy hook of deployment $id"
sleep 0.2
assert_eq "c2: no orphan left" "$(pgrep -fc "30.$MK" || true)" 0
after_recovery c2 "$id" "started interrupted " "in_progress error "

# --- 3. during the health gate (killed from outside) -------------------------
"$VERDICT" deploy --config "$CFG" --version slowgood > /dev/null 2>&1 &
pid=$!
for i in $(seq 200); do
	tail -1 "$HIST" 2>/dev/null | grep -q '"step":"health"' && break
	sleep 0.05
done
kill -9 "$pid"
wait "$pid" || true
id=$(last_id)
after_crash c3-health "$id" health
assert_eq "c3-health: current is the unverified one" "$(jq -r '.current.version + " " + .current.status' "$STATEF")" "slowgood unverified"
good c3-health
after_recovery c3-health "$id" "started interrupted " "in_progress error "

# --- 4. in the promote hook: the gate passed, promotion never happens by itself
run_verdict deploy --config "$CFG" --version c3good
assert_eq "c4-promote: verdict killed" "$RC" 137
id=$(last_id)
after_crash c4-promote "$id" promote
good c4-promote
after_recovery c4-promote "$id" "started interrupted " "in_progress error "
assert_eq "c4-promote: never promoted" "$(jq -r --arg id "$id" 'select(.deployment_id == $id and .result == "promoted")' "$HIST" | wc -l)" 0

# --- 5. in the rollback hook ---------------------------------------------------
run_verdict deploy --config "$CFG" --version c4bad
assert_eq "c5-rollback: verdict killed" "$RC" 137
id=$(last_id)
after_crash c5-rollback "$id" rollback
good c5-rollback
after_recovery c5-rollback "$id" "started interrupted " "in_progress error "

# --- 6. while the "started" notification is on the wire ------------------------
slow_started() { jq -r 'select(.path == "/slow") | .body | fromjson | select(.event == "started") | .deployment_id' "$REC" 2>/dev/null | wc -l; }
before=$(slow_started)
"$VERDICT" deploy --config "$T/app/slow-notify.json" --version c6good > /dev/null 2>&1 &
pid=$!
for i in $(seq 200); do
	tail -1 "$HIST" | grep -q '"notifier":"webhook#2","what":"started","step":0,"state":"sending"' && break
	sleep 0.05
done
# "sending" is recorded before the request leaves: wait until the
# recorder has it (it holds the answer back), so the cut is mid-request.
for i in $(seq 200); do
	[ "$(slow_started)" -gt "$before" ] && break
	sleep 0.05
done
kill -9 "$pid"
wait "$pid" || true
id=$(last_id)
after_crash c6-notify "$id" record
assert_eq "c6-notify: nothing deployed" "$(cat "$T/app/current")" "$KG"
good c6-notify "$T/app/slow-notify.json"
after_recovery c6-notify "$id" "started interrupted " "in_progress error "
assert_eq "c6-notify: the cut request went out again (at least once)" \
	"$(jq -r --arg id "$id" 'select(.path == "/slow") | .body | fromjson | select(.deployment_id == $id) | .event' "$REC" | tr '\n' ' ')" \
	"started started interrupted "
assert_eq "c6-notify: marked as resent" "$(jq_out '[.notifications[] | select(.resent_after_crash)] | length')" 1

# --- 7. after the result, while its notification is on the wire -----------------
"$VERDICT" deploy --config "$T/app/slow-notify.json" --version c7good > /dev/null 2>&1 &
pid=$!
for i in $(seq 300); do
	tail -1 "$HIST" | grep -q '"notifier":"webhook#2","what":"promoted","step":0,"state":"sending"' && break
	sleep 0.05
done
kill -9 "$pid"
wait "$pid" || true
id=$(last_id)
run_verdict status --config "$CFG" --format json
assert_eq "c7: status: promoted, notifying" "$(jq_out '.in_progress.result + " " + .in_progress.state')" "promoted interrupted"
assert_eq "c7: the promotion stands" "$(jq_out .known_good.version)" c7good
KG=c7good
good c7 "$T/app/slow-notify.json"
assert_eq "c7: finished, not re-judged" "$(jq_out '.recovered[0].result')" promoted
assert_eq "c7: webhook events once" "$(hook_events "$id")" "started promoted "
assert_eq "c7: GitHub statuses once (inactive: replaced by good$N)" "$(gh_states "$id")" "in_progress success inactive "
assert_eq "c7: the promoted result recorded once" "$(jq -r --arg id "$id" 'select(.deployment_id == $id and .event == "result") | .result' "$HIST")" promoted

# --- a kill -9 after every durable write --------------------------------------
# VERDICT_TEST_CRASH_AFTER_WRITE=N makes verdict SIGKILL itself right after
# its Nth write (a state save or a history line): N = 1, 2, ... until a
# deploy runs through. Each kill falls between two writes - the result's
# state write and its history line included - and after each one
# `status` and `history` must tell one story; the next deploy then
# records it and the story still holds.

# (one notifier, to keep the walk short: each write is a kill point)
sed 's|"github": { "base_url": "http://127.0.0.1:[0-9]*" },||' "$CFG" > "$T/app/walk.json"
WCFG="$T/app/walk.json"

# one_story NAME: status and history agree; sets STORY to the crashed
# record's final result to come ("-" when nothing is in progress)
one_story() {
	local name=$1 st
	run_verdict status --config "$WCFG" --format json
	cp "$T/out" "$T/status.json"
	st=$RC
	run_verdict history --config "$WCFG" --format json
	cp "$T/out" "$T/history.json"
	assert_eq "$name: history exit 0" "$RC" 0
	assert_eq "$name: lock free" "$(jq -r .locked "$T/status.json")" false
	assert_eq "$name: every deployment has a result" "$(jq '[.[] | select(.result == null)] | length' "$T/history.json")" 0
	assert_eq "$name: no deployment has two results" \
		"$(jq -r 'select(.event == "result") | .deployment_id' "$HIST" | sort | uniq -d | wc -l)" 0
	assert_eq "$name: every line parses" "$(jq -c . "$HIST" 2>/dev/null | wc -l)" "$(wc -l < "$HIST")"
	assert_eq "$name: known-good is the last promoted in the history" \
		"$(jq -r '.known_good.version // "none"' "$T/status.json")" \
		"$(jq -r '[.[] | select(.result == "promoted" or .result == "rollback_done")] | last | .version // "none"' "$T/history.json")"
	if [ "$(jq -r '.in_progress != null' "$T/status.json")" = true ]; then
		assert_eq "$name: status exit 8" "$st" 8
		assert_eq "$name: history ends with the one in progress" \
			"$(jq -r 'last | .deployment_id' "$T/history.json")" "$(jq -r .in_progress.deployment_id "$T/status.json")"
		if [ "$(jq -r '.in_progress.result // ""' "$T/status.json")" != "" ]; then
			assert_eq "$name: history has the result the state has" \
				"$(jq -r 'last | .result + " " + (.recorded // true | tostring)' "$T/history.json")" \
				"$(jq -r .in_progress.result "$T/status.json") true"
			STORY=$(jq -r .in_progress.result "$T/status.json")
		else
			assert_eq "$name: history shows it interrupted, not yet recorded" \
				"$(jq -r 'last | .result + " " + (.recorded | tostring)' "$T/history.json")" "interrupted false"
			STORY=interrupted
		fi
	else
		assert_eq "$name: history ends with the last result of the state" \
			"$(jq -r 'last | .deployment_id + " " + .result' "$T/history.json")" \
			"$(jq -r '.last.deployment_id + " " + .last.result' "$T/status.json")"
		STORY=-
	fi
}

crash_walk() { # KIND (good|bad): kill after every write of one deploy
	local kind=$1 n=0 rc id story
	while :; do
		n=$((n + 1))
		rc=0
		VERDICT_TEST_CRASH_AFTER_WRITE=$n "$VERDICT" deploy --config "$WCFG" \
			--version "w$n$kind" > "$T/walk.out" 2> "$T/walk.err" || rc=$?
		[ "$rc" -eq 137 ] || break
		id=$(jq -r .in_progress.deployment_id "$STATEF")
		[ "$id" != null ] || id=$(jq -r .last.deployment_id "$STATEF")
		one_story "$kind write $n"
		story=$STORY
		# killed between the result's state write and its history line
		if [ "$(jq -r '.in_progress.result // ""' "$STATEF")" != "" ] &&
			[ -z "$(jq -r --arg id "$id" 'select(.deployment_id == $id and .event == "result") | .result' "$HIST")" ]; then
			BETWEEN=$((BETWEEN + 1))
		fi
		good "$kind write $n" "$WCFG"
		if [ "$story" != - ]; then
			assert_eq "$kind write $n: recorded as the story said, once" \
				"$(jq -r --arg id "$id" 'select(.deployment_id == $id and .event == "result") | .result' "$HIST")" \
				"$story"
			assert_eq "$kind write $n: its deployment line is there" \
				"$(jq -r --arg id "$id" 'select(.deployment_id == $id and .event == "deployment") | .event' "$HIST")" \
				deployment
		fi
	done
	assert_eq "walk $kind: the last deploy ran through" "$rc" "$([ "$kind" = good ] && echo 0 || echo 3)"
	assert_le "walk $kind: at least 20 kill points" 20 "$n"
	assert_eq "walk $kind: one kill fell between the result's state write and its history line" "$BETWEEN" 1
	BETWEEN=0
	WALKED=$((WALKED + n - 1))
}
WALKED=0 BETWEEN=0
crash_walk good
crash_walk bad
echo "kill points walked: $WALKED"

# --- a kill -9 after every write of the recovery itself -----------------------
# A deployment killed in its deploy step (after write 6: its step line);
# the next deploy is killed after its Nth write, inside the recovery of
# the first, until a run gets through the recovery. Each time: one story,
# and the interrupted one is recorded once.
n=0
while [ "$n" -lt 30 ]; do
	n=$((n + 1))
	VERDICT_TEST_CRASH_AFTER_WRITE=6 "$VERDICT" deploy --config "$WCFG" \
		--version "r${n}good" > /dev/null 2>&1 || true
	id=$(jq -r .in_progress.deployment_id "$STATEF")
	assert_eq "recovery write $n: an interrupted deployment to recover" "$(jq -r .in_progress.step "$STATEF")" deploy
	rc=0
	VERDICT_TEST_CRASH_AFTER_WRITE=$n "$VERDICT" deploy --config "$WCFG" \
		--version "r${n}next" > "$T/walk.out" 2> "$T/walk.err" || rc=$?
	assert_eq "recovery write $n: killed" "$rc" 137
	one_story "recovery write $n"
	past=$(jq -r --arg id "$id" '.in_progress.deployment_id // "" | . != $id' "$STATEF")
	good "recovery write $n" "$WCFG"
	assert_eq "recovery write $n: recorded interrupted, once" \
		"$(jq -r --arg id "$id" 'select(.deployment_id == $id and .event == "result") | .result' "$HIST")" interrupted
	[ "$past" = true ] && break
done
assert_le "recovery: killed at 4 or more of its writes" 4 "$n"
assert_le "recovery: got through before 30" "$n" 29

# --- the whole history is still readable, and every event went out once --------
run_verdict history --config "$CFG" --format json
assert_eq "history: every deployment finished" "$(jq_out '[.[] | select(.result == null)] | length')" 0
assert_eq "webhook: no event twice" "$(jq -r 'select(.path == "/hook") | .body | fromjson | .event_id' "$REC" | sort | uniq -d | wc -l)" 0
assert_eq "no verdict left running" "$(pgrep -fc "slow-notify.json" || true)" 0

finish
