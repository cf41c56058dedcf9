#!/bin/bash
# install.sh - the action's first step (action.yml): puts verdict on PATH.
#   INSTALL=deb     the release's .deb (ACTION_REPO, VERSION, SERVER)
#   INSTALL=source  make and make install from the action's checkout
#   INSTALL=none    verdict must be on PATH already
set -euo pipefail
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
case ${INSTALL:-deb} in
deb)
	[[ ${VERSION:-} =~ ^[0-9][0-9A-Za-z.+~-]*$ ]] || { echo "::error title=verdict::bad version '${VERSION:-}'"; exit 2; }
	deb=verdict_${VERSION}_amd64.deb
	url=${SERVER:-https://github.com}/${ACTION_REPO}/releases/download/v${VERSION}/$deb
	tmp=$(mktemp -d)
	curl -fsSL --retry 3 -o "$tmp/$deb" "$url" || { echo "::error title=verdict::could not download $url"; exit 1; }
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$tmp/$deb" > /dev/null ||
		{ echo "::error title=verdict::$deb does not install here (built for Debian 12); use install: source"; exit 1; }
	rm -rf "$tmp"
	;;
source)
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		gcc make pkg-config libcurl4-openssl-dev libev-dev libssl-dev libpq-dev \
		libhiredis-dev libcjson-dev libcrypt-dev libpcre2-dev \
		zlib1g-dev > /dev/null
	make -C "$GITHUB_ACTION_PATH" -j"$(nproc)" verdict
	$sudo make -C "$GITHUB_ACTION_PATH" install PREFIX=/usr/local > /dev/null
	;;
none) ;;
*)
	echo "::error title=verdict::install must be deb, source or none, not '$INSTALL'"
	exit 2
	;;
esac
verdict --version
