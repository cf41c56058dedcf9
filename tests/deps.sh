#!/bin/sh
# Installs the Debian packages verdict needs to build and test, when some
# are missing. Run by `make check`, `make demo` and `make bench`.
set -eu

PKGS="gcc make pkg-config libcurl4-openssl-dev libev-dev libssl-dev libpq-dev
libhiredis-dev libcjson-dev check zlib1g-dev
nginx-light openssl curl jq procps iproute2 postgresql redis-server
prometheus prometheus-blackbox-exporter
clang libclang-rt-14-dev libxml2-dev clang-format clang-tidy cppcheck
docker-compose python3-jsonschema
time
docker-registry skopeo apache2-utils
libxml2-utils
zsh fish man-db groff-base python3-yaml tmux
libcrypt-dev wrk libpcre2-dev dnsmasq-base
python3-django python3-djangorestframework python3-django-cors-headers
gunicorn python3-celery python3-redis python3-psycopg2"

missing=""
for p in $PKGS; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root; install these Debian packages first:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The Debian packages start their own servers; the tests start theirs on
# random ports, so the system ones are stopped (policy-rc.d keeps them off).
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends $missing >/dev/null
