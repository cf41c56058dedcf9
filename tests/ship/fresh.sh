#!/bin/sh
# fresh.sh - `make check-fresh`: the README's first commands, exactly as
# written, on a fresh Debian 12 (a debootstrap --variant=minbase bookworm
# chroot) from a git clone of this repository; then `make` and
# `./verdict --version`. Needs root and Debian's mirror; takes 10-20
# minutes (the build packages are downloaded). Not part of `make check`.
# Depends on tests/ship/chroot_lib.sh and the README's "The two commands".
#   FRESH_REF=REF   what to clone (default: HEAD of this checkout)
#   FRESH_FULL=1    also run the README's `make check` and `make bench` (long)
#   FRESH_BENCH=1   also run `make bench`, before `make demo` (so that it
#                   is the one that installs the packages)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/chroot_lib.sh"
ship_need_root
trap ship_cleanup EXIT
trap 'exit 130' INT TERM

ref=${FRESH_REF:-$(git -C "$repo" rev-parse HEAD)}

# The commands of the README's first sh block, as a user copies them.
cmds=$(awk '/^## The two commands/ { s = 1 } s && /^```sh/ { b = 1; next }
	b && /^```/ { exit } b { print }' "$repo/README.md")
[ -n "$cmds" ] || ship_die "no sh block under '## The two commands' in README.md"

ship_root_copy fresh
root=$SHIP_ROOT
echo "fresh: root $root; cloning $ref"
git clone -q "$repo" "$root/root/verdict"
git -C "$root/root/verdict" checkout -q "$ref"

fails=0
step() { # step NAME COMMAND: runs COMMAND in the clone, inside the root
	name=$1
	shift
	echo "fresh: # $*"
	log=$SHIP_CACHE/fresh-$(echo "$name" | tr -c 'a-z0-9\n' '-').log
	if ship_in "$root" "cd /root/verdict && $*" < /dev/null > "$log" 2>&1; then
		echo "fresh: ok: $name (log: $log)"
		return 0
	fi
	echo "fresh: FAILED: $name; the end of its log ($log):" >&2
	tail -n 25 "$log" >&2
	fails=$((fails + 1))
	return 1
}

printf '%s\n' "$cmds" > "$SHIP_CACHE/fresh-cmds"
while IFS= read -r line; do
	cmd=${line%%#*}
	cmd=$(echo "$cmd" | sed 's/[[:space:]]*$//')
	[ -n "$cmd" ] || continue
	# make bench installs what is missing too: when asked for, it runs
	# first of the make commands, on the machine as fresh as demo sees it
	case $cmd in
	make*)
		if [ -n "${FRESH_BENCH:-}${FRESH_FULL:-}" ] && [ -z "${bench_done:-}" ]; then
			bench_done=1
			step "make bench" "make bench" || true
		fi
		;;
	esac
	if [ "$cmd" = "make check" ] && [ -z "${FRESH_FULL:-}" ]; then
		echo "fresh: skipped: $cmd (FRESH_FULL=1 runs it)"
		continue
	fi
	step "$cmd" "$line" || true
done < "$SHIP_CACHE/fresh-cmds"
rm -f "$SHIP_CACHE/fresh-cmds"

# make demo must have run the demo suite to its end, with exit code 0
if ! grep -q '^demo: exit code 0' "$SHIP_CACHE/fresh-make-demo.log" 2> /dev/null; then
	echo "fresh: FAILED: make demo did not end with 'demo: exit code 0'" >&2
	fails=$((fails + 1))
fi
step "make clean && make" "make clean && make" || true
step "verdict --version" "./verdict --version && ./verdict --version | grep -q '^verdict [0-9]'" &&
	sed 's/^/fresh:   /' "$SHIP_CACHE/fresh-verdict---version.log"

if [ $fails -ne 0 ]; then
	echo "fresh: $fails step(s) failed" >&2
	exit 1
fi
echo "fresh: ok: the README's commands work on a fresh Debian 12"
