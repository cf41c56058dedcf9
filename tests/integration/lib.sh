# lib.sh - shared by the integration tests (bash). Source it first:
#   . "$(dirname "$0")/lib.sh"
# Gives: a temp dir ($T) removed on exit, servers stopped on exit,
# free_port, start_nginx, wait_port, run_verdict and assertions.
# Shared by several tests: ports, start_faultd, serve_start/serve_stop,
# run_suite, expect, ended_before, no_secret, bad_conf, statuses.
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

# A free TCP port on 127.0.0.1: below the kernel's ephemeral range
# (32768-60999 on Debian), so an outgoing connection never holds it, and
# in no socket state at all (TIME-WAIT included), so a server can bind it.
free_port() {
	local p
	while :; do
		p=$(( (RANDOM << 1 ^ RANDOM) % 22000 + 10000 ))
		if ! (echo > "/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			if ! ss -Htan "sport = :$p" | grep -q .; then
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

# assert_le NAME GOT MAX (numbers, floats allowed; anything else, an empty
# value from a missing field included, fails)
assert_le() {
	if awk -v a="$2" -v b="$3" 'BEGIN { n = "^[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?$";
		exit !(a ~ n && b ~ n && a + 0 <= b + 0) }'; then echo "ok: $1"; else fail "$1: $2 > $3 (or not numbers)"; fi
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

# --- PostgreSQL and Redis (real servers, random loopback ports) ---------
PG_BIN=/usr/lib/postgresql/15/bin
PG_PIDS=""
REDIS_PIDS=""
PG_ROOT=""

# Stops every PostgreSQL started by start_postgres (immediate shutdown:
# the data is thrown away) and every Redis; waits until they are gone.
stop_db_servers() {
	local p n
	for p in $PG_PIDS; do
		kill -QUIT "$p" 2>/dev/null || true
	done
	for p in $REDIS_PIDS; do
		kill -9 "$p" 2>/dev/null || true
	done
	for p in $PG_PIDS $REDIS_PIDS; do
		n=100
		while kill -0 "$p" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
		kill -9 "$p" 2>/dev/null || true
	done
	case "$PG_ROOT" in /dev/shm/verdict-pg.*) rm -rf "$PG_ROOT" ;; esac
}

# An initdb'd cluster, made once per test in $PG_ROOT/pg-template and
# copied by start_postgres: superuser "postgres" (trust on the unix socket
# only), role $PG_USER with password $PG_PASSWORD (scram-sha-256 over TCP)
# owning database $PG_DB. Data directories go to a tmpfs (/dev/shm) when it
# has room (thousands of small files: much faster), else into $T.
PG_USER=verdict
PG_DB=verdictdb
PG_PASSWORD="pg-Secret-$RANDOM$RANDOM"
_pg_template() {
	local tpl port
	if [ -z "$PG_ROOT" ]; then
		case " $CLEANUPS " in *" stop_db_servers "*) ;; *) CLEANUPS="stop_db_servers $CLEANUPS" ;; esac
		PG_ROOT=$T
		if [ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')" -gt 1048576 ] 2>/dev/null; then
			PG_ROOT=$(mktemp -d /dev/shm/verdict-pg.XXXXXX)
		fi
		chmod 0711 "$T" "$PG_ROOT"
	fi
	tpl=$PG_ROOT/pg-template
	[ -d "$tpl/data" ] && return 0
	mkdir -p "$tpl"
	chown postgres: "$tpl"
	setpriv --reuid=postgres --regid=postgres --init-groups \
		"$PG_BIN/initdb" -D "$tpl/data" -U postgres -E UTF8 --locale=C \
		--auth-local=trust --auth-host=scram-sha-256 --no-sync --wal-segsize=1 \
		> "$tpl/initdb.log" 2>&1 || { cat "$tpl/initdb.log" >&2; return 1; }
	port=$(free_port)
	setpriv --reuid=postgres --regid=postgres --init-groups \
		"$PG_BIN/pg_ctl" -D "$tpl/data" -l "$tpl/log" -w -s \
		-o "-c listen_addresses= -c unix_socket_directories=$tpl -c port=$port -c fsync=off" \
		start >&2
	psql -X -q -h "$tpl" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
		-c "CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASSWORD'" \
		-c "CREATE DATABASE $PG_DB OWNER $PG_USER" >&2
	setpriv --reuid=postgres --regid=postgres --init-groups \
		"$PG_BIN/pg_ctl" -D "$tpl/data" -w -s -m fast stop >&2
}

# start_postgres NAME [postgres options...]: PostgreSQL 15 on a random
# port, listen_addresses=127.0.0.1, unix socket and log ($T/NAME/log) in
# $T/NAME, data in $PG_ROOT/NAME/data, run as the postgres user. Options
# go to the postgres binary ("-c max_connections=6"). With PG_STANDBY=1 in the environment the copy starts as a standby
# (standby.signal, no WAL source). Waits until it answers (accepting, or
# for a standby rejecting). Sets PG_PORT, PG_SOCK (socket dir), PG_DATA,
# PG_PID and exports PGHOST=127.0.0.1 PGPORT PGUSER PGDATABASE for psql
# (never PGPASSWORD: pass PGPASSWORD="$PG_PASSWORD" per command).
start_postgres() {
	local name=$1 dir n rc tries
	shift
	dir=$T/$name
	_pg_template || return 1
	mkdir -p "$dir" "$PG_ROOT/$name"
	cp -a "$PG_ROOT/pg-template/data" "$PG_ROOT/$name/data"
	chown postgres: "$dir" "$PG_ROOT/$name"
	if [ "${PG_STANDBY:-0}" = 1 ]; then
		touch "$PG_ROOT/$name/data/standby.signal"
		chown postgres: "$PG_ROOT/$name/data/standby.signal"
	fi
	PG_SOCK=$dir
	PG_DATA=$PG_ROOT/$name/data
	case " $CLEANUPS " in *" stop_db_servers "*) ;; *) CLEANUPS="stop_db_servers $CLEANUPS" ;; esac
	tries=3
	while :; do
		PG_PORT=$(free_port)
		setpriv --reuid=postgres --regid=postgres --init-groups \
			"$PG_BIN/postgres" -D "$PG_DATA" -c port="$PG_PORT" \
			-c listen_addresses=127.0.0.1 -c unix_socket_directories="$dir" \
			-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
			-c logging_collector=off "$@" > "$dir/log" 2>&1 &
		PG_PID=$!
		PG_PIDS="$PG_PIDS $PG_PID"
		disown "$PG_PID" 2>/dev/null || true # no "Killed" notes at cleanup
		n=200
		while :; do
			rc=0
			pg_isready -q -h "$dir" -p "$PG_PORT" -t 1 || rc=$?
			if [ $rc = 0 ] || { [ $rc = 1 ] && [ "${PG_STANDBY:-0}" = 1 ]; }; then break 2; fi
			n=$((n - 1))
			if [ $n = 0 ] || ! kill -0 "$PG_PID" 2>/dev/null; then break; fi
			sleep 0.05
		done
		tries=$((tries - 1))
		# another process took the port between free_port and bind
		if [ $tries = 0 ] || ! grep -q 'could not create any TCP/IP sockets' "$dir/log"; then
			cat "$dir/log" >&2
			echo "postgres $name did not start" >&2
			return 1
		fi
	done
	export PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=$PG_USER PGDATABASE=$PG_DB
}

# pg_super PSQL-ARGS...: psql as the superuser over the unix socket of the
# last started PostgreSQL (PG_SOCK, PG_PORT), unaligned: pg_super -c "SQL".
pg_super() {
	psql -X -q -At -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres "$@"
}

# start_redis NAME [redis-server options...]: Redis 7 in $T/NAME on a
# random port, bind 127.0.0.1, requirepass $REDIS_PASSWORD, DEBUG allowed
# from loopback, no persistence. Sets REDIS_PORT and REDIS_PID.
REDIS_PASSWORD="rd-Secret-$RANDOM$RANDOM"
start_redis() {
	local name=$1 dir=$T/$1 n tries
	shift
	mkdir -p "$dir"
	case " $CLEANUPS " in *" stop_db_servers "*) ;; *) CLEANUPS="stop_db_servers $CLEANUPS" ;; esac
	tries=3
	while :; do
		REDIS_PORT=$(free_port)
		redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --requirepass "$REDIS_PASSWORD" \
			--enable-debug-command local --save '' --appendonly no --dir "$dir" \
			--daemonize no --logfile "$dir/log" "$@" > /dev/null 2>&1 &
		REDIS_PID=$!
		REDIS_PIDS="$REDIS_PIDS $REDIS_PID"
		disown "$REDIS_PID" 2>/dev/null || true # no "Killed" notes at cleanup
		n=200
		while ! (echo > "/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; do
			kill -0 "$REDIS_PID" 2>/dev/null || break
			n=$((n - 1))
			[ $n -gt 0 ] || break
			sleep 0.05
		done
		# alive and listening: ours (not another process on the port)
		if kill -0 "$REDIS_PID" 2>/dev/null && [ $n -gt 0 ]; then return 0; fi
		tries=$((tries - 1))
		if [ $tries = 0 ]; then
			cat "$dir/log" >&2
			echo "redis $name did not start" >&2
			return 1
		fi
	done
}

# --- helpers shared by several tests ---------------------------------------

# ports N: N distinct free loopback ports (each as free_port gives it),
# separated by spaces: read -r A B C <<< "$(ports 3)".
ports() {
	local p seen=" "
	while [ "$(echo "$seen" | wc -w)" -lt "$1" ]; do
		p=$(free_port)
		case "$seen" in *" $p "*) ;; *) seen="$seen$p " ;; esac
	done
	echo "$seen"
}

# start_faultd [PORT]: the hostile HTTP server tests/tools/faultd.c on PORT
# (default: a free port); sets FP and F (its base URL), waits for it.
start_faultd() {
	FP=${1:-$(free_port)}
	"$TOOLS/faultd" "$FP" > "$T/faultd.out" 2>&1 &
	PIDS="$PIDS $!"
	wait_port "$FP"
	F=http://127.0.0.1:$FP
}

# serve_start CONFIG: verdict serve on a fresh port (VP, VPID, V its base
# URL; output in $T/serve.out, $T/serve.err); waits for the port.
serve_start() {
	VP=$(free_port)
	"$VERDICT" serve --listen "127.0.0.1:$VP" "$1" > "$T/serve.out" 2> "$T/serve.err" &
	VPID=$!
	PIDS="$PIDS $VPID"
	wait_port "$VP" 10
	V=http://127.0.0.1:$VP
}

# serve_stop: SIGTERM to VPID; asserts exit 0 within 3 seconds (a deadline
# held within generous bounds, not a benchmark) and a clean stderr.
serve_stop() {
	local t0 t1 rc=0
	t0=$(date +%s.%N)
	kill -TERM "$VPID"
	wait "$VPID" || rc=$?
	t1=$(date +%s.%N)
	assert_eq "SIGTERM: exit code" "$rc" 0
	assert_le "SIGTERM: seconds to exit" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" 3
	cp "$T/serve.err" "$T/err"
	assert_clean_stderr "serve"
}

# run_suite FILE MAX_SECONDS [verdict run options]: verdict run --format
# json (report in $T/out, exit code in $RC); asserts a clean stderr and
# that the whole run ended within MAX_SECONDS, a deadline held within
# generous bounds (timeouts work), not a benchmark. Variables for
# verdict's environment go before the call: TOKEN=x run_suite FILE 5.
run_suite() {
	local file=$1 max=$2 t0 t1
	shift 2
	t0=$(date +%s.%N)
	run_verdict run --format json "$@" "$file"
	t1=$(date +%s.%N)
	echo "$(basename "$file"): took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')s"
	assert_clean_stderr "$(basename "$file")"
	assert_le "$(basename "$file"): wall time" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" "$max"
}

# expect NAME STATUS [REASON_KIND] REASON_REGEX: the check's status, its
# reason_kind (when given) and its reason in the last JSON report
# ($T/out). The report is read with one jq per report, not per check
# (jq is slow to start): again only when $T/out changed.
declare -A RES_ST RES_KIND RES_RS
load_results() {
	local n s k r
	RES_ST=() RES_KIND=() RES_RS=()
	while IFS=$'\t' read -r n s k r; do
		RES_ST[$n]=$s RES_KIND[$n]=$k RES_RS[$n]=$r
	done < <(jq -r '.checks[] | [.name, .status, (.reason_kind // "null"), .reason] | @tsv' < "$T/out")
	cp "$T/out" "$T/results.loaded"
}
expect() {
	local n=$1
	cmp -s "$T/out" "$T/results.loaded" || load_results
	assert_eq "$n: status" "${RES_ST[$n]:-missing}" "$2"
	shift 2
	if [ $# -ge 2 ]; then
		assert_eq "$n: reason_kind" "${RES_KIND[$n]:-missing}" "$1"
		shift
	fi
	assert_match "$n: reason" "${RES_RS[$n]:-missing}" "$1"
}

# no_secret LABEL FILE...: no word of $SECRETS (the test's passwords,
# separated by spaces) appears in the files.
no_secret() {
	local label=$1 s pats=()
	shift
	for s in $SECRETS; do pats+=(-e "$s"); done
	if grep -qF "${pats[@]}" "$@"; then
		grep -F "${pats[@]}" "$@" | head -5 >&2
		fail "$label: a password appears in the output"
	else
		echo "ok: $label: no password in the output"
	fi
}

# ended_before CHECK OTHER: in the last JSON report CHECK ended (started +
# duration_seconds) before OTHER did: an ordering, not a timing.
ended_before() {
	local d
	d=$(jq -r --arg a "$1" --arg b "$2" \
		'def fin(n): .checks[] | select(.name == n) | .started + .duration_seconds;
		 fin($b) - fin($a)' < "$T/out")
	case "$d" in
	'' | null) fail "$1 ended before $2: a check is missing from the report" ;;
	*) assert_le "$1 ended before $2 ($d s earlier)" 0 "$d" ;;
	esac
}

# bad_conf NAME JSON-OF-ONE-CHECK REGEX: verdict validate refuses a suite
# of that one check with exit 2 and a message (stderr) matching REGEX.
bad_conf() {
	printf '{ "checks": [ %s ] }\n' "$2" > "$T/bad.json"
	run_verdict validate "$T/bad.json"
	assert_eq "$1: exit code" "$RC" 2
	assert_match "$1: message" "$(cat "$T/err")" "$3"
}

# statuses NAME...: "name=status " of each named check, sorted, in one jq.
statuses() {
	jq -r '.checks[] | "\(.name)=\(.status)"' < "$T/out" | grep -E "^($(echo "$@" | tr ' ' '|'))=" | sort | tr '\n' ' '
}

finish() {
	if [ "$FAILS" -gt 0 ]; then
		echo "$TEST_NAME: $FAILS assertion(s) failed" >&2
		exit 1
	fi
	echo "$TEST_NAME: all assertions passed"
}

# --- a terminal: tmux ---------------------------------------------------------
# tmux_start CMD: runs CMD (a shell command line) in a detached 120x40
# tmux session of this test's own; stopped at the end of the test.
tmux_stop() { tmux -S "$T/tmux.sock" kill-server 2> /dev/null || true; }
tmux_start() {
	CLEANUPS="tmux_stop $CLEANUPS"
	tmux -S "$T/tmux.sock" new-session -d -x 120 -y 40 "$1"
}
# tmux_wait GLOB TRIES: the screen (stdout) once it matches the shell
# pattern GLOB, or as it is after TRIES readings 0.1 s apart.
tmux_wait() {
	local screen i
	for ((i = 0; i < $2; i++)); do
		screen=$(tmux -S "$T/tmux.sock" capture-pane -p)
		# shellcheck disable=SC2254
		case $screen in $1) break ;; esac
		sleep 0.1
	done
	printf '%s\n' "$screen"
}
# tmux_keys KEYS...: types into the session
tmux_keys() { tmux -S "$T/tmux.sock" send-keys "$@"; }
