# test_deploy_registry.sh - the image-exists pre-flight of `verdict
# deploy` against Debian's docker-registry on loopback, with an image
# pushed by skopeo from an OCI layout made here by hand: one registry with
# basic auth (htpasswd, bcrypt), one with token auth (a JWT signed with a
# key whose certificate the registry trusts, handed out by the recording
# server as the token realm, as GHCR and Docker Hub do). A present image
# lets the deploy proceed; a missing one, refused credentials or an
# unreachable registry refuse it (exit 7) before the deploy hook runs.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

for tool in docker-registry skopeo htpasswd; do
	command -v "$tool" > /dev/null || { echo "missing $tool (tests/deps.sh)" >&2; exit 1; }
done

# Ports below the kernel's ephemeral range: a listener there never
# collides with the local end of someone's outgoing connection.
low_port() {
	local p
	while :; do
		p=$(free_port)
		[ "$p" -lt 32768 ] && { echo "$p"; return; }
	done
}
PA=$(low_port)
PB=$(low_port)
RPORT=$(low_port)
export REG_PASSWORD="pull-Secret-$RANDOM$RANDOM"
W="$T/reg"
mkdir -p "$W/layout/blobs/sha256" "$W/layer" "$W/data" "$T/app"

# --- an OCI image layout by hand: config, one layer, manifest, index -----------
echo "hello from v1" > "$W/layer/hello.txt"
tar -C "$W/layer" -cf - hello.txt | gzip -n > "$W/layer.tar.gz"
blob() { local d; d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$W/layout/blobs/sha256/$d"; echo "$d"; }
L=$(blob "$W/layer.tar.gz")
DIFF=$(gunzip -c "$W/layer.tar.gz" | sha256sum | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$DIFF" > "$W/config.json"
C=$(blob "$W/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
	"$C" "$(stat -c %s "$W/config.json")" "$L" "$(stat -c %s "$W/layer.tar.gz")" > "$W/manifest.json"
M=$(blob "$W/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
	"$M" "$(stat -c %s "$W/manifest.json")" > "$W/layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$W/layout/oci-layout"

# --- credentials: htpasswd (bcrypt) and a signed token ----------------------------
htpasswd -Bbn pusher push-pw > "$W/htpasswd" 2> /dev/null
htpasswd -Bbn puller "$REG_PASSWORD" >> "$W/htpasswd" 2> /dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/token.key" -out "$W/token.pem" \
	-days 2 -subj /CN=verdict-test-token 2> /dev/null
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
NOW=$(date +%s)
JH=$(printf '{"alg":"RS256","typ":"JWT","x5c":["%s"]}' "$(openssl x509 -in "$W/token.pem" -outform DER | openssl base64 -A)" | b64url)
JP=$(printf '{"iss":"verdict-test","sub":"puller","aud":"verdict-registry","exp":%d,"nbf":%d,"iat":%d,"jti":"t1","access":[{"type":"repository","name":"test/app","actions":["pull"]}]}' \
	$((NOW + 3600)) $((NOW - 60)) $((NOW - 60)) | b64url)
JS=$(printf '%s.%s' "$JH" "$JP" | openssl dgst -sha256 -sign "$W/token.key" -binary | b64url)
TOKEN="$JH.$JP.$JS"

"$TOOLS/recorder" -p "$RPORT" -o "$T/token-requests.jsonl" \
	-r "GET /token=200:{\"token\":\"$TOKEN\",\"expires_in\":300}" 2> "$T/recorder.err" &
PIDS="$PIDS $!"

start_registry() { # NAME PORT AUTH-YAML
	cat > "$W/$1.yml" <<EOF
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $W/data } }
http: { addr: "127.0.0.1:$2", secret: verdict-test-secret }
auth: $3
EOF
	docker-registry serve "$W/$1.yml" > "$W/$1.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_port "$2" 15
}
start_registry basic "$PA" "{ htpasswd: { realm: verdict-test, path: $W/htpasswd } }"
start_registry token "$PB" "{ token: { realm: \"http://127.0.0.1:$RPORT/token\", service: verdict-registry, issuer: verdict-test, rootcertbundle: $W/token.pem } }"
wait_port "$RPORT" 10

if skopeo --insecure-policy copy --quiet --dest-tls-verify=false --dest-creds pusher:push-pw \
	"oci:$W/layout:v1" "docker://127.0.0.1:$PA/test/app:v1" > "$W/skopeo.log" 2>&1; then
	echo "ok: skopeo pushed test/app:v1"
else
	cat "$W/skopeo.log" "$W/basic.log" >&2
	fail "skopeo could not push the image"
fi

cfg() { # FILE REGISTRY-URL [EXTRA-REGISTRY-KEYS]
	cat > "$1" <<EOF
{ "environment": "staging",
  "registry": { "url": "$2", "images": ["test/app"], "timeout": "5s" ${3:-} },
  "hooks": { "deploy": { "argv": ["sh", "-c", "echo \$0 >> deployed.txt", "\${VERSION}"] } },
  "health": { "checks": [ { "name": "ok", "type": "exec", "argv": ["true"] } ] } }
EOF
}
CREDS=', "username": "puller", "password_env": "REG_PASSWORD"'
cfg "$T/app/basic.json" "http://127.0.0.1:$PA" "$CREDS"
cfg "$T/app/token.json" "http://127.0.0.1:$PB/" "$CREDS"
cfg "$T/app/anon.json" "http://127.0.0.1:$PA"
deployed() { cat "$T/app/deployed.txt" 2> /dev/null | tr '\n' ' '; }

# --- basic auth -----------------------------------------------------------------
run_verdict deploy --config "$T/app/basic.json" --version v1 --format json
assert_eq "basic, present: exit 0" "$RC" 0
assert_clean_stderr "basic, present"
assert_eq "basic: pre-flight said exists" "$(jq_out '.preflight[0].result + " " + .preflight[0].auth')" "exists basic"
assert_match "basic: digest recorded" "$(jq_out '.preflight[0].digest')" "^sha256:[0-9a-f]{64}$"
assert_eq "basic: step order" "$(jq_out '[.steps[].step] | join(",")')" "preflight,deploy,health,promote"
assert_eq "basic: hook ran" "$(deployed)" "v1 "

run_verdict deploy --config "$T/app/basic.json" --version v2 --format json
assert_eq "basic, missing: exit 7 (refused)" "$RC" 7
assert_eq "basic, missing: reason" "$(jq_out .reason)" "image test/app:v2 not found in the registry"
assert_eq "basic, missing: hook never ran" "$(deployed)" "v1 "
assert_eq "basic, missing: steps" "$(jq_out '[.steps[].step] | join(",")')" "preflight"
assert_eq "basic, missing: known-good stays" "$(jq_out .known_good_version)" v1
assert_eq "basic, missing: recorded refused" "$(jq -r 'select(.event == "result") | .result' "$T/app/.verdict/staging.history.jsonl" | tail -1)" refused

REG_PASSWORD=wrong-password run_verdict deploy --config "$T/app/basic.json" --version v1
assert_eq "basic, wrong password: exit 7" "$RC" 7
assert_match "basic, wrong password: why" "$(cat "$T/out")" "HTTP 401 \(credentials refused\)"
run_verdict deploy --config "$T/app/anon.json" --version v1
assert_eq "basic, no credentials: exit 7" "$RC" 7
assert_match "basic, no credentials: why" "$(cat "$T/out")" "the registry wants credentials"
assert_eq "refused deploys ran no hook" "$(deployed)" "v1 "

# --- token auth (the realm is the recorder) --------------------------------------------
run_verdict deploy --config "$T/app/token.json" --version v1 --format json
assert_eq "token, present: exit 0" "$RC" 0
assert_eq "token: bearer" "$(jq_out '.preflight[0].result + " " + .preflight[0].auth')" "exists bearer"
assert_eq "token: realm asked once" "$(wc -l < "$T/token-requests.jsonl")" 1
assert_eq "token: service and scope" "$(jq -r .query "$T/token-requests.jsonl")" \
	"service=verdict-registry&scope=repository%3Atest%2Fapp%3Apull"
assert_eq "token: credentials to the realm" "$(jq -r .headers.authorization "$T/token-requests.jsonl")" \
	"Basic $(printf 'puller:%s' "$REG_PASSWORD" | base64 -w0)"
assert_eq "token: hook ran" "$(deployed)" "v1 v1 "
run_verdict deploy --config "$T/app/token.json" --version v9
assert_eq "token, missing: exit 7" "$RC" 7
assert_match "token, missing: why" "$(cat "$T/out")" "image test/app:v9 not found"
assert_eq "token, missing: hook never ran" "$(deployed)" "v1 v1 "

# --- secrets: neither the password nor the token anywhere of ours ------------------
for f in "$T/out" "$T/err" "$T/app/.verdict/staging.history.jsonl" "$T/app/.verdict/staging.state.json"; do
	assert_eq "no password in $(basename "$f")" "$(grep -c -- "$REG_PASSWORD" "$f" || true)" 0
	assert_eq "no token in $(basename "$f")" "$(grep -c -- "$JS" "$f" || true)" 0
done

# --- a registry that does not answer: refused, never deployed on a guess ----------
DEAD=$(low_port)
cfg "$T/app/dead.json" "http://127.0.0.1:$DEAD" "$CREDS"
run_verdict deploy --config "$T/app/dead.json" --version v1
assert_eq "unreachable registry: exit 7" "$RC" 7
assert_match "unreachable registry: why" "$(cat "$T/out")" "registry unreachable"
assert_eq "unreachable: hook never ran" "$(deployed)" "v1 v1 "

# --- config: bad repository names are refused ---------------------------------------
cfg "$T/app/badname.json" "http://127.0.0.1:$PA"
sed -i 's|"test/app"|"../etc"|' "$T/app/badname.json"
run_verdict deploy --config "$T/app/badname.json" --version v1
assert_eq "bad repository name: exit 2" "$RC" 2
assert_match "bad repository name: place" "$(cat "$T/err")" "badname.json: registry.images: invalid repository name"

finish
