# chroot_lib.sh - shared by the ship proofs (fresh.sh, deb.sh, image.sh):
# a cached Debian 12 minbase root made with debootstrap, copies of it to
# work in, and the mounts a chroot needs, undone on exit. Source it from
# sh; needs root. Depends on nothing in the tree but tests/deps.sh's
# policy (no services started).
#   SHIP_CACHE   where the pristine root is kept (default /var/tmp/verdict-ship)
#   SHIP_MIRROR  the Debian mirror (default http://deb.debian.org/debian)
#   SHIP_KEEP=1  keep the work roots for a look afterwards

SHIP_CACHE=${SHIP_CACHE:-/var/tmp/verdict-ship}
SHIP_MIRROR=${SHIP_MIRROR:-http://deb.debian.org/debian}
SHIP_ROOTS=""

ship_die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

ship_need_root() {
	[ "$(id -u)" = 0 ] || ship_die "needs root (debootstrap, chroot, mount)"
}

# ship_base: prints the path of the pristine bookworm minbase root,
# debootstrapping it once (a few minutes). Nothing ever runs inside it:
# work happens in copies (ship_root_copy).
ship_base() {
	base=$SHIP_CACHE/bookworm-minbase
	if [ ! -f "$base/.complete" ]; then
		if ! command -v debootstrap > /dev/null; then
			echo "$(basename "$0"): installing debootstrap" >&2
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				debootstrap > /dev/null || ship_die "apt-get install debootstrap failed"
		fi
		rm -rf "$base"
		mkdir -p "$SHIP_CACHE"
		echo "$(basename "$0"): debootstrap --variant=minbase bookworm $base" >&2
		debootstrap --variant=minbase bookworm "$base" "$SHIP_MIRROR" \
			> "$SHIP_CACHE/debootstrap.log" 2>&1 ||
			{
				tail -n 20 "$SHIP_CACHE/debootstrap.log" >&2
				ship_die "debootstrap failed (log: $SHIP_CACHE/debootstrap.log)"
			}
		touch "$base/.complete"
	fi
	echo "$base"
}

# ship_root_copy NAME: sets SHIP_ROOT to a fresh copy of the pristine
# root, with /proc, /dev, /dev/pts and /sys mounted and the host's
# resolv.conf. Unmounted and removed by ship_cleanup (the EXIT trap).
# Not in a $(...): the list of roots to clean up lives in this shell.
ship_root_copy() {
	b=$(ship_base) || exit 1
	r=$(mktemp -d "$SHIP_CACHE/$1.XXXXXX")
	SHIP_ROOTS="$r $SHIP_ROOTS"
	SHIP_ROOT=$r
	cp -a "$b/." "$r/"
	rm -f "$r/.complete"
	cp /etc/resolv.conf "$r/etc/resolv.conf"
	mount -t proc proc "$r/proc"
	mount --bind /dev "$r/dev"
	mount --bind /dev/pts "$r/dev/pts"
	mount -t sysfs sysfs "$r/sys"
}

# ship_in ROOT COMMAND: runs the shell COMMAND as root inside ROOT with a
# clean environment, as a login on a fresh machine would have it.
ship_in() {
	r=$1
	shift
	chroot "$r" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/sh -c "$*"
}

ship_umount() {
	for m in sys dev/pts dev proc; do
		if mountpoint -q "$1/$m"; then
			umount "$1/$m" 2> /dev/null || umount -l "$1/$m"
		fi
	done
}

# ship_cleanup: stops what runs in the roots, unmounts and removes them.
ship_cleanup() {
	for r in $SHIP_ROOTS; do
		# processes whose root is this copy (a server a test started)
		for p in /proc/[0-9]*; do
			if [ "$(readlink "$p/root" 2> /dev/null)" = "$r" ]; then
				kill "${p#/proc/}" 2> /dev/null || true
			fi
		done
		ship_umount "$r"
		if [ -n "${SHIP_KEEP:-}" ]; then
			echo "$(basename "$0"): kept $r" >&2
		elif ! grep -q " $r/" /proc/mounts; then
			rm -rf "$r"
		else
			echo "$(basename "$0"): $r still has mounts; not removed" >&2
		fi
	done
}
