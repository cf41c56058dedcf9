# lib.sh - shared by the integration tests (bash). Source it first:
#   . "$(dirname "$0")/lib.sh"
# Gives: a temp dir ($T) removed on exit, servers stopped on exit,
# free_port, start_nginx, wait_port, run_verdict and assertions.
# Every server listens on 127.0.0.1 only.
set -euo pipefail

T=$(mktemp -d /tmp/verdict-test.XXXXXX)
PIDS=""
CLEANUPS=""
TEST_NAME=$(basename "$0" .sh)
FAILS=0

cleanup() {
	local p
	for c in $CLEANUPS; do "$c" || true; done
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
	done
	sleep 0.1
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT

# A free TCP port on 127.0.0.1 (asks the kernel, then releases it).
free_port() {
	local p
	while :; do
		p=$(( (RANDOM << 1 ^ RANDOM) % 28000 + 20000 ))
		if ! (echo > "/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			if ! ss -Htln "sport = :$p" | grep -q .; then
				echo "$p"
				return
			fi
		fi
	done
}

# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_port() {
	local port=$1 n=$(( ${2:-10} * 20 ))
	while [ $n -gt 0 ]; do
		if (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
		sleep 0.05
		n=$((n - 1))
	done
	echo "server on port $port did not start" >&2
	return 1
}

# start_nginx DIR: runs nginx with DIR/nginx.conf (write it first; use
# "pid DIR/nginx.pid;" and "error_log DIR/error.log;"), waits for PORT
# arguments given after DIR.
start_nginx() {
	local dir=$1; shift
	mkdir -p "$dir/tmp"
	nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off; master_process off;' \
		> "$dir/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	for port in "$@"; do wait_port "$port" 10; done
}

# nginx_conf DIR 'server { ... }': writes a minimal nginx.conf around the
# given server blocks, with temp paths inside DIR.
nginx_conf() {
	local dir=$1 servers=$2
	mkdir -p "$dir/tmp"
	cat > "$dir/nginx.conf" <<NGX
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	default_type application/octet-stream;
	types { text/html html; application/json json; text/css css; application/javascript js; }
	$servers
}
NGX
}

# run_verdict ARGS...: runs verdict, stdout to $T/out, stderr to $T/err,
# exit code in $RC. Never fails the test by itself.
run_verdict() {
	set +e
	"$VERDICT" "$@" > "$T/out" 2> "$T/err"
	RC=$?
	set -e
	return 0
}

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

assert_eq() { # name got want
	if [ "$2" != "$3" ]; then fail "$1: got '$2', want '$3'"; else echo "ok: $1"; fi
}

assert_match() { # name text regex
	if ! printf '%s' "$2" | grep -Eq -- "$3"; then fail "$1: '$2' does not match /$3/"; else echo "ok: $1"; fi
}

assert_no_match() { # name text regex
	if printf '%s' "$2" | grep -Eq -- "$3"; then fail "$1: '$2' matches /$3/"; else echo "ok: $1"; fi
}

# jq_out FILTER: applies a jq filter to the last run's stdout.
jq_out() { jq -r "$1" < "$T/out"; }

# check_field CHECK FIELD: a field of one check in the JSON report.
check_field() { jq -r --arg n "$1" ".checks[] | select(.name == \$n) | $2" < "$T/out"; }

# assert_le NAME GOT MAX (numbers, floats allowed)
assert_le() {
	if awk -v a="$2" -v b="$3" 'BEGIN { exit !(a <= b) }'; then echo "ok: $1"; else fail "$1: $2 > $3"; fi
}

# No ASan/UBSan report in stderr of the last run.
assert_clean_stderr() {
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/err"; then
		cat "$T/err" >&2
		fail "$1: sanitizer report"
	else
		echo "ok: $1 (no sanitizer report)"
	fi
}

finish() {
	if [ "$FAILS" -gt 0 ]; then
		echo "$TEST_NAME: $FAILS assertion(s) failed" >&2
		exit 1
	fi
	echo "$TEST_NAME: all assertions passed"
}
