# test_deploy_records.sh - the records of `verdict deploy` under duress,
# and what status says: status exit codes for every state an environment
# can be in; a torn last history line cut under the lock; a file size
# limit (ulimit -f) and a full disk (a small tmpfs in a mount namespace)
# give exit 1, a message and nothing half-written; a read-only (0555)
# state directory is refused, never chmodded; `deploy --check` finds hook
# programs; refused input is echoed escaped (no forged "::error::" line);
# a secret split across reads of hook output is still masked.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

export HOOK_SECRET="dep-Secret-FIRSTHALF$RANDOM-SECONDHALF$RANDOM"
mkdir -p "$T/app"
# the hook: VERSION decides what it does; the health check passes when
# "current" holds a version without "sick", the smoke check when it has
# no "bad"
cat > "$T/app/hook.sh" <<'EOF'
#!/bin/sh
v=$1
case "$v" in
hang*) touch started; while [ ! -e go ]; do sleep 0.05; done ;;
split*)
	# 4090 bytes, then a secret across the 4096-byte echo cut and
	# across two reads of the pipe; then a short line split the same way
	head -c 4090 /dev/zero | tr '\0' a
	printf '%s' "$(printf '%s' "$HOOK_SECRET" | cut -c1-15)"
	sleep 0.3
	printf '%s\n' "$(printf '%s' "$HOOK_SECRET" | cut -c16-)"
	printf 'token=%s' "$(printf '%s' "$HOOK_SECRET" | cut -c1-20)"
	sleep 0.3
	printf '%s done\n' "$(printf '%s' "$HOOK_SECRET" | cut -c21-)" ;;
esac
echo "$v" > current
EOF
chmod +x "$T/app/hook.sh"
cat > "$T/app/deploy.json" <<EOF
{ "environment": "staging",
  "hooks": { "deploy": { "argv": ["./hook.sh", "\${VERSION}"] } },
  "health": { "checks": [ { "name": "up", "type": "exec",
    "argv": ["sh", "-c", "test -s $T/app/current && ! grep -q sick $T/app/current"] } ] },
  "smoke": { "checks": [ { "name": "good", "type": "exec",
    "argv": ["sh", "-c", "! grep -q bad $T/app/current"] } ] } }
EOF
CFG="$T/app/deploy.json"
SD="$T/app/.verdict"
HIST="$SD/staging.history.jsonl"
STATEF="$SD/staging.state.json"
status_rc() { run_verdict status --config "$CFG" --format json; echo "$RC $(jq_out .verdict)"; }
lines_parse() { [ "$(jq -c . "$HIST" 2>/dev/null | wc -l)" = "$(wc -l < "$HIST")" ] && tail -c1 "$HIST" | od -An -c | grep -q '\\n' && echo yes; }

# --- status exit codes ---------------------------------------------------------
assert_eq "status: nothing deployed yet: 9" "$(status_rc)" "9 nothing known-good yet"
run_verdict deploy --config "$CFG" --version sick1
assert_eq "first deploy never healthy: rollback_failed (4)" "$RC" 4
assert_eq "status: failed, no known-good: 4" "$(status_rc)" "4 not healthy: a human is needed"
run_verdict deploy --config "$CFG" --version v1
assert_eq "v1 promoted" "$RC" 0
assert_eq "status: known-good: 0" "$(status_rc)" "0 known-good and healthy"
# a smoke check that cannot run at all: the gate cannot judge
sed 's|"argv": \["sh", "-c", "! grep -q bad [^"]*"\]|"argv": ["no-such-command-'$$'"]|' "$CFG" > "$T/app/nojudge.json"
run_verdict deploy --config "$T/app/nojudge.json" --version nojudge2
assert_eq "nojudge2: inconclusive (5)" "$RC" 5
assert_eq "status: unverified: 5" "$(status_rc)" "5 running a version the gate could not judge"
run_verdict deploy --config "$CFG" --version v2
assert_eq "v2 promoted" "$RC" 0
assert_eq "status: 0 again" "$(status_rc)" "0 known-good and healthy"
"$VERDICT" deploy --config "$CFG" --version hang3 > "$T/hang.out" 2> "$T/hang.err" &
pid=$!
for i in $(seq 200); do [ -e "$T/app/started" ] && break; sleep 0.05; done
assert_eq "status: a deployment is running: 6" "$(status_rc)" "6 a deployment is running"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
rm -f "$T/app/started"
assert_eq "status: interrupted: 8" "$(status_rc)" "8 a deployment was interrupted: the next deploy or rollback records it"
run_verdict history --config "$CFG" --format json
assert_eq "history: the killed one shows interrupted, not yet recorded" "$(jq_out 'last | .version + " " + .result + " " + (.recorded | tostring)')" "hang3 interrupted false"
touch "$T/app/go"
run_verdict deploy --config "$CFG" --version v4
assert_eq "v4 promoted, recording hang3" "$RC" 0
run_verdict history --config "$CFG" --format json
assert_eq "history: hang3 recorded interrupted" "$(jq_out '.[] | select(.version == "hang3") | .result + " " + (.recorded // true | tostring)')" "interrupted true"
# an unhealthy rollback: v4 known-good, but the rollback lands on a sick app
sed 's|"deploy": { "argv": \["./hook.sh", "${VERSION}"\] }|"deploy": { "argv": ["./hook.sh", "${VERSION}"] }, "rollback": { "argv": ["./hook.sh", "sick-${VERSION}"] }|' "$CFG" > "$T/app/sickrb.json"
run_verdict deploy --config "$T/app/sickrb.json" --version bad5
assert_eq "bad5: the rollback is unhealthy (4)" "$RC" 4
assert_eq "status: unhealthy: 4" "$(status_rc)" "4 not healthy: a human is needed"
run_verdict deploy --config "$CFG" --version v6
assert_eq "v6 promoted" "$RC" 0

# --- a torn last history line is cut under the lock ------------------------------
lines=$(wc -l < "$HIST")
printf '{"ts":"2025-01-01T00:00:00.000Z","deployment_id":"torn","event":"st' >> "$HIST"
run_verdict history --config "$CFG" --format json
assert_eq "torn: history still reads (read-only, nothing cut)" "$RC" 0
assert_eq "torn: history does not cut it (no lock)" "$(tail -c 3 "$HIST")" '"st'
run_verdict deploy --config "$CFG" --version v7
assert_eq "torn: next deploy exit 0" "$RC" 0
assert_match "torn: said so" "$(cat "$T/err")" "history: cut a torn last line \(67 bytes"
assert_eq "torn: every line parses" "$(lines_parse)" yes
assert_eq "torn: no trace of the torn bytes" "$(grep -c '"torn"' "$HIST" || true)" 0

# --- a file size limit (ulimit -f): exit 1, a message, nothing half-written ------
size=$(stat -c %s "$HIST")
# pad the history so that the limit falls 10 bytes after its end: the
# next line can only be written in part
blocks=$(( (size + 1023) / 1024 + 1 ))
pad=$(( blocks * 1024 - 10 - size - 28 ))
printf '{"event":"filler","pad":"%s"}\n' "$(head -c "$pad" /dev/zero | tr '\0' p)" >> "$HIST"
assert_eq "ulimit: padded to the limit minus 10" "$(stat -c %s "$HIST")" "$(( blocks * 1024 - 10 ))"
before=$(md5sum < "$HIST")
st_before=$(md5sum < "$STATEF")
rc=0
(ulimit -f "$blocks"; exec "$VERDICT" deploy --config "$CFG" --version v8) > "$T/out" 2> "$T/err" || rc=$?
assert_eq "ulimit: exit 1 (not killed by SIGXFSZ)" "$rc" 1
assert_match "ulimit: message" "$(cat "$T/err")" "verdict: deploy: .*staging.history.jsonl: File too large"
assert_eq "ulimit: the history is as it was" "$(md5sum < "$HIST")" "$before"
assert_eq "ulimit: the state is as it was (the record was taken back)" "$(jq -r '.in_progress' "$STATEF")" null
assert_eq "ulimit: current untouched" "$(cat "$T/app/current")" v7
assert_eq "ulimit: status: fine (0)" "$(status_rc)" "0 known-good and healthy"
# a limit hit mid-way (after the deploy hook ran): the deployment stays in
# progress, whole lines only; the next deploy records it interrupted
pad=$(( blocks * 1024 + 1500 - $(stat -c %s "$HIST") - 28 ))
printf '{"event":"filler","pad":"%s"}\n' "$(head -c "$pad" /dev/zero | tr '\0' p)" >> "$HIST"
rc=0
(ulimit -f "$((blocks + 2))"; exec "$VERDICT" deploy --config "$CFG" --version v9) > "$T/out" 2> "$T/err" || rc=$?
assert_eq "ulimit mid-way: exit 1" "$rc" 1
assert_match "ulimit mid-way: message" "$(cat "$T/err")" "File too large; the deployment stays in progress"
assert_eq "ulimit mid-way: whole lines only" "$(lines_parse)" yes
assert_eq "ulimit mid-way: status 8" "$(status_rc | cut -d' ' -f1)" 8
run_verdict deploy --config "$CFG" --version v10
assert_eq "after the limit: next deploy exit 0" "$RC" 0
assert_eq "after the limit: v9 recorded interrupted" "$(jq -r 'select(.event == "result" and .version == "v9") | .result' "$HIST")" interrupted

# --- a full disk: a 64 KiB tmpfs in a mount namespace -------------------------------
cat > "$T/enospc.sh" <<EOF
set -u
mount -t tmpfs -o size=64k tmpfs "$T/small" || exit 99
sed 's|"environment": "staging",|"environment": "staging", "state_dir": "$T/small/sd",|' "$CFG" > "$T/app/small.json"
"$VERDICT" deploy --config "$T/app/small.json" --version s1 > /dev/null 2>&1 || echo "first: \$?"
dd if=/dev/zero of="$T/small/fill" bs=1k count=200 2> /dev/null
md5sum < "$T/small/sd/staging.history.jsonl" > "$T/enospc.before"
"$VERDICT" deploy --config "$T/app/small.json" --version s2 > "$T/enospc.out" 2> "$T/enospc.err"
echo \$? > "$T/enospc.rc"
md5sum < "$T/small/sd/staging.history.jsonl" > "$T/enospc.after"
jq -r .in_progress "$T/small/sd/staging.state.json" > "$T/enospc.ip"
ls "$T/small/sd" > "$T/enospc.ls"
EOF
mkdir -p "$T/small"
unshare -m sh "$T/enospc.sh"
assert_eq "ENOSPC: exit 1" "$(cat "$T/enospc.rc")" 1
assert_match "ENOSPC: message" "$(cat "$T/enospc.err")" "No space left on device"
assert_eq "ENOSPC: history untouched" "$(cat "$T/enospc.after")" "$(cat "$T/enospc.before")"
assert_eq "ENOSPC: nothing in progress" "$(cat "$T/enospc.ip")" null
assert_eq "ENOSPC: no temp file left" "$(grep -c tmp "$T/enospc.ls" || true)" 0

# --- a read-only state directory is refused, not chmodded --------------------------
chmod 0555 "$SD"
before=$(md5sum < "$HIST")
run_verdict deploy --config "$CFG" --version v11
assert_eq "0555: exit 1" "$RC" 1
assert_match "0555: message" "$(cat "$T/err")" "state directory .* is not writable \(mode 0555\); verdict does not change it"
assert_eq "0555: mode kept" "$(stat -c %a "$SD")" 555
assert_eq "0555: nothing written" "$(md5sum < "$HIST")" "$before"
run_verdict status --config "$CFG"
assert_eq "0555: status still reads it" "$RC" 0
chmod 0700 "$SD"
chmod 0755 "$SD"
run_verdict deploy --config "$CFG" --version v12
assert_eq "0755: fine, and kept as it is" "$RC $(stat -c %a "$SD")" "0 755"

# --- deploy --check finds hook programs ------------------------------------------------
run_verdict deploy --config "$CFG" --check
assert_eq "--check: ok" "$RC" 0
sed 's|"./hook.sh"|"./no-such-hook.sh"|' "$CFG" > "$T/app/nohook.json"
run_verdict deploy --config "$T/app/nohook.json" --check
assert_eq "--check, missing hook: exit 2" "$RC" 2
assert_match "--check, missing hook: the place" "$(cat "$T/err")" "nohook.json: hooks.deploy.argv\[0\]: program \"./no-such-hook.sh\" not found from $T/app"
sed 's|"argv": \["./hook.sh", "${VERSION}"\] }|"argv": ["./hook.sh", "${VERSION}"] }, "promote": { "argv": ["no-such-program-'$$'"] }|' "$CFG" > "$T/app/nopath.json"
run_verdict deploy --config "$T/app/nopath.json" --check
assert_eq "--check, program not in PATH: exit 2" "$RC" 2
assert_match "--check, not in PATH: the place" "$(cat "$T/err")" "nopath.json: hooks.promote.argv\[0\]: program \"no-such-program-$$\" not found in PATH"
chmod -x "$T/app/hook.sh"
run_verdict deploy --config "$CFG" --check
assert_eq "--check, hook not executable: exit 2" "$RC" 2
chmod +x "$T/app/hook.sh"

# --- refused input is echoed escaped -----------------------------------------------------
before=$(wc -l < "$HIST")
run_verdict deploy --config "$CFG" --version "$(printf 'v1\n::error::forged\033[31m')"
assert_eq "escaped: exit 2" "$RC" 2
assert_eq "escaped: one line" "$(wc -l < "$T/err")" 1
assert_eq "escaped: no line starts with ::error::" "$(grep -c '^::' "$T/err" || true)" 0
assert_match "escaped: shown escaped" "$(cat "$T/err")" 'invalid version "v1\\n::error::forged\\x1b\[31m"'
run_verdict deploy --config "$CFG" --version v1 "$(printf 'x\n::error::y')"
assert_eq "escaped: an extra argument, one line" "$RC $(grep -c '^::' "$T/err" || true)" "2 0"
run_verdict deploy --config "$CFG" "$(printf -- '--bogus\n::error::y')"
assert_eq "escaped: an unknown option, no forged line" "$RC $(grep -c '^::' "$T/err" || true)" "2 0"
assert_eq "escaped: nothing recorded" "$(wc -l < "$HIST")" "$before"

# --- a secret split across reads of hook output ---------------------------------------------
run_verdict deploy --config "$CFG" --version split13 --format json
assert_eq "split: exit 0" "$RC" 0
second=${HOOK_SECRET#*-SECONDHALF}
assert_eq "split: no part of the secret on stderr" "$(grep -c -e "SECONDHALF" -e "FIRSTHALF" "$T/err" || true)" 0
assert_eq "split: no part in the history" "$(grep -c -e "SECONDHALF" -e "FIRSTHALF" "$HIST" || true)" 0
assert_eq "split: no part in the report" "$(grep -c -e "SECONDHALF" -e "FIRSTHALF" "$T/out" || true)" 0
assert_match "split: masked where it was (long line)" "$(cat "$T/err")" "aaaa\*\*\*"
assert_match "split: masked where it was (short line)" "$(cat "$T/err")" "token=\*\*\* done"

finish
