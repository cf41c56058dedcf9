# shellcheck shell=bash disable=SC2034
# bench_lib.sh - shared by the bench scripts (bash). Source it first:
#   . "$(dirname "$0")/bench_lib.sh"
# Gives everything tests/integration/lib.sh gives (a temp dir $T removed on
# exit, servers stopped on exit, free_port, wait_port, nginx_conf,
# start_nginx) plus measuring helpers and bench_row, which records one row
# of the table tests/bench/run.sh prints. Figures are for people: nothing
# here asserts a speed.

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../integration/lib.sh"

# free_port, replaced: a port below the kernel's ephemeral range (the
# thousands of client connections of a benchmark, or of other tests
# running at the same time, take local ports from that range, and a
# listener cannot bind a port a connected socket holds) and used by no
# socket in any state.
free_port() {
	local p lo
	read -r lo _ < /proc/sys/net/ipv4/ip_local_port_range
	[ "$lo" -gt 12000 ] || lo=32768
	while :; do
		p=$(( (RANDOM << 1 ^ RANDOM) % (lo - 10000) + 10000 ))
		if ! ss -Htan "sport = :$p" | grep -q .; then
			echo "$p"
			return
		fi
	done
}

CLK_TCK=$(getconf CLK_TCK)

# 1,000 checks in flight need more than the usual 1,024 descriptors.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# "0m1.234s" (bash `times`) -> seconds
_tsec() { awk -v t="$1" 'BEGIN { split(t, a, "m"); sub("s", "", a[2]); printf "%.3f", a[1] * 60 + a[2] }'; }

# measure CMD [ARGS...]: runs CMD with stdout in $T/m.out and stderr in
# $T/m.err, and sets
#   M_RC    its exit code
#   M_WALL  wall time, seconds
#   M_CPU   user+sys CPU of CMD and every child it waited for, seconds
#           (getrusage via bash `times`, millisecond resolution)
#   M_RSS   peak resident set of CMD, or of its largest waited-for child,
#           KiB (/usr/bin/time -f %M)
measure() {
	local t0 t1 out rc_line kids
	t0=$EPOCHREALTIME
	# The subshell's `times` second line is the CPU of its children:
	# /usr/bin/time (about a millisecond) and, through it, CMD.
	out=$( { /usr/bin/time -f '%M' -o "$T/m.rss" "$@" >"$T/m.out" 2>"$T/m.err"
		echo "rc $?"; times; } )
	t1=$EPOCHREALTIME
	rc_line=$(printf '%s\n' "$out" | sed -n 1p)
	kids=$(printf '%s\n' "$out" | sed -n 3p)
	M_RC=${rc_line#rc }
	M_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	set -- $kids
	M_CPU=$(awk -v u="$(_tsec "$1")" -v s="$(_tsec "$2")" 'BEGIN { printf "%.3f", u + s }')
	M_RSS=$(tail -n 1 "$T/m.rss" 2>/dev/null | tr -dc '0-9')
	M_RSS=${M_RSS:-0}
}

# measure_median N CMD [ARGS...]: measure N times, keep the run with the
# median CPU (M_* as measure sets them; $T/m.out of that run).
measure_median() {
	local n=$1 i rows mid pick
	shift
	rows=""
	for ((i = 0; i < n; i++)); do
		measure "$@"
		cp "$T/m.out" "$T/m.out.$i"
		cp "$T/m.err" "$T/m.err.$i"
		rows+="$M_CPU $i $M_RC $M_WALL $M_RSS"$'\n'
	done
	mid=$(( (n + 1) / 2 ))
	pick=$(printf '%s' "$rows" | sort -n | sed -n "${mid}p")
	set -- $pick
	M_CPU=$1 M_RC=$3 M_WALL=$4 M_RSS=$5
	cp "$T/m.out.$2" "$T/m.out"
	cp "$T/m.err.$2" "$T/m.err"
}

# measure_alt N CMD_A [ARGS...] -- CMD_B [ARGS...]: runs A and B in turn,
# N times each, so that both see the same load on a busy machine, and
# keeps for each the run with the median CPU: A_RC A_WALL A_CPU A_RSS and
# $T/a.out, B_RC B_WALL B_CPU B_RSS and $T/b.out.
measure_alt() {
	local n=$1 i x mid pick ra="" rb=""
	local -a a=() b=()
	shift
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do a+=("$1"); shift; done
	shift
	b=("$@")
	for ((i = 0; i < n; i++)); do
		measure "${a[@]}"
		cp "$T/m.out" "$T/a.out.$i"
		ra+="$M_CPU $i $M_RC $M_WALL $M_RSS"$'\n'
		measure "${b[@]}"
		cp "$T/m.out" "$T/b.out.$i"
		rb+="$M_CPU $i $M_RC $M_WALL $M_RSS"$'\n'
	done
	mid=$(( (n + 1) / 2 ))
	for x in a b; do
		if [ $x = a ]; then pick=$ra; else pick=$rb; fi
		pick=$(printf '%s' "$pick" | sort -n | sed -n "${mid}p")
		set -- $pick
		cp "$T/$x.out.$2" "$T/$x.out"
		if [ $x = a ]; then
			A_CPU=$1 A_RC=$3 A_WALL=$4 A_RSS=$5
		else
			B_CPU=$1 B_RC=$3 B_WALL=$4 B_RSS=$5
		fi
	done
}

# proc_cpu_ticks PID: user+sys clock ticks of a running process so far
# (/proc/PID/stat fields 14 and 15, counted after the command name).
proc_cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat")
	stat=${stat##*) }
	set -- $stat
	echo $(( ${12} + ${13} ))
}

# proc_hwm_kb PID: peak resident set of a running process, KiB (VmHWM).
proc_hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# Arithmetic helpers printing a fixed number of decimals.
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }

# bench_row BENCH SUBJECT CHECKS WALL_S CPU_S RSS_KB NOTE
# Records one row; CPU_S or RSS_KB may be "-" when not measured. Derived
# columns: checks per second and CPU per check in microseconds.
bench_row() {
	local bench=$1 subj=$2 n=$3 wall=$4 cpu=$5 rss=$6 note=${7:-}
	local rate cpuc rssm
	rate=$(calc "$n / ($wall > 0 ? $wall : 0.001)" 0)
	if [ "$cpu" = "-" ]; then cpuc="-"; else cpuc=$(calc "$cpu * 1e6 / $n" 0); fi
	if [ "$rss" = "-" ]; then rssm="-"; else rssm=$(calc "$rss / 1024" 1); fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$bench" "$subj" "$n" \
		"$(calc "$wall" 3)" "$rate" "$cpuc" "$rssm" "$note" \
		>> "${BENCH_RESULTS:-/dev/stdout}"
	printf '  %-40s %5s checks  %8ss  %7s/s  %6s us/check  %6s MB  %s\n' \
		"$subj" "$n" "$(calc "$wall" 3)" "$rate" "$cpuc" "$rssm" "$note"
}

# bench_note TEXT: a line printed under the table.
bench_note() {
	printf 'note\t%s\n' "$*" >> "${BENCH_RESULTS:-/dev/stdout}"
	printf '  note: %s\n' "$*"
}

# make_tls_ca DIR rsa|ec: a private test CA (DIR/ca.pem) and a leaf for
# 127.0.0.1 and localhost signed by it (DIR/leaf.pem, DIR/leaf.key).
make_tls_ca() {
	local d=$1 alg=$2 newkey
	mkdir -p "$d"
	case $alg in
	rsa) newkey="-newkey rsa:2048" ;;
	ec) newkey="-newkey ec -pkeyopt ec_paramgen_curve:P-256" ;;
	esac
	openssl req -x509 $newkey -nodes -keyout "$d/ca.key" -out "$d/ca.pem" \
		-days 2 -subj "/CN=verdict bench CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign" 2>>"$d/log"
	openssl req $newkey -nodes -keyout "$d/leaf.key" -out "$d/leaf.csr" \
		-subj "/CN=localhost" 2>>"$d/log"
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
		> "$d/ext"
	openssl x509 -req -in "$d/leaf.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		-CAcreateserial -days 2 -extfile "$d/ext" -out "$d/leaf.pem" 2>>"$d/log"
}

# write_suite FILE N URL [EXTRA_JSON]: a suite of N http checks of URL;
# EXTRA_JSON (e.g. '"tls": {"ca_file": "/x"}') goes into each check.
write_suite() {
	local f=$1 n=$2 url=$3 extra=${4:-} i sep=""
	{
		printf '{ "name": "bench", "defaults": { "timeout": "60s" }, "checks": [\n'
		for ((i = 1; i <= n; i++)); do
			printf '%s{ "name": "c%d", "type": "http", "url": "%s"%s }\n' \
				"$sep" "$i" "$url" "${extra:+, $extra}"
			sep=","
		done
		printf '] }\n'
	} > "$f"
}

# write_curl_config FILE N URL: a curl -K file with N transfers of URL,
# bodies to /dev/null.
write_curl_config() {
	local f=$1 n=$2 url=$3 i
	for ((i = 1; i <= n; i++)); do
		printf 'url = "%s"\noutput = "/dev/null"\n' "$url"
	done > "$f"
}
