# test_schema.sh - the editors' JSON Schema (suites/suite.schema.json)
# agrees with `verdict validate`: every suite file of one corpus
# (tests/corpus/suites: ok-*.json are valid, bad-*.json are not; every
# check type, targets given through "defaults", serve keys) gets the same
# answer from both, and the answer its name says. The schema is read by a
# real validator (python3-jsonschema, Draft 7). The schema's keys per type
# are held to the check-type table by the unit test check_schema.c.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

SCHEMA="$here/../../suites/suite.schema.json"
# validate also requires the variables a suite names (*_env keys, ${VAR}):
# the corpus names this one
export API_TOKEN=corpus-token
CORPUS="$here/../corpus/suites"
# one python for the whole corpus: "file<TAB>ok" or "file<TAB>bad<TAB>why"
python3 - "$SCHEMA" "$CORPUS"/*.json > "$T/schema.tsv" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
for f in sys.argv[2:]:
    errs = sorted(v.iter_errors(json.load(open(f))), key=lambda e: list(e.path))
    name = f.rsplit("/", 1)[1]
    if errs:
        print(f"{name}\tbad\t{errs[0].message[:100]}")
    else:
        print(f"{name}\tok")
PY

n=0
while IFS=$'\t' read -r name sch why; do
	n=$((n + 1))
	run_verdict validate "$CORPUS/$name"
	case "$RC" in
	0) val=ok ;;
	2) val=bad ;;
	*) val="exit $RC" ;;
	esac
	want=${name%%-*}
	if [ "$val" = "$sch" ] && [ "$val" = "$want" ]; then
		echo "ok: $name: $val"
	else
		fail "$name: validate says $val ($(head -c 160 "$T/err")), the schema says $sch${why:+ ($why)}, the name says $want"
	fi
done < "$T/schema.tsv"
assert_le "corpus: at least 40 files" 40 "$n"
assert_le "corpus: at least 15 valid files" 15 "$(ls "$CORPUS"/ok-*.json | wc -l)"
assert_le "corpus: at least 15 invalid files" 15 "$(ls "$CORPUS"/bad-*.json | wc -l)"
# every registered check type appears in a valid file of the corpus
# (grep on the files: a pipe into grep -q can end in SIGPIPE under pipefail)
for t in $("$VERDICT" types); do
	if grep -qF "\"type\": \"$t\"" "$CORPUS"/ok-*.json; then
		echo "ok: corpus: a valid $t check"
	else
		fail "corpus: no valid $t check in $CORPUS/ok-*.json"
	fi
done
# the shipped suites agree too
for f in "$here/../../suites/staging.json" "$here/../../suites/demo.json"; do
	python3 - "$SCHEMA" "$f" <<'PY' > "$T/one" 2>&1 || true
import json, re, sys, jsonschema
text = open(sys.argv[2]).read()
# verdict allows // and /* */ comments; JSON does not
text = re.sub(r'(?m)^\s*//.*$', '', text)
errs = list(jsonschema.Draft7Validator(json.load(open(sys.argv[1]))).iter_errors(json.loads(text)))
print("ok" if not errs else errs[0].message)
PY
	assert_eq "schema: $(basename "$f")" "$(cat "$T/one")" ok
done

finish
