#!/bin/sh
# build.sh - `make deb`: verdict_VERSION_amd64.deb in the top folder,
# built with dpkg-deb from what `make install` installs under /usr, a
# systemd unit and a system group for `verdict serve`. Depends is
# computed by dpkg-shlibdeps from the binary. Builds in build/deb with
# Debian's hardening flags (dpkg-buildflags). Needs: dpkg-dev, the build
# packages of tests/deps.sh. Reproducible: times come from the last commit
# (SOURCE_DATE_EPOCH).
#   DEB_MAINTAINER='Name <address>'  the Maintainer field (default: the
#   author of the last commit)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/packaging/deb
cd "$top"

version=$(sed -n 's/^#define VD_VERSION "\(.*\)"$/\1/p' probe/probe.h)
[ -n "$version" ] || { echo "deb: no VD_VERSION in probe/probe.h" >&2; exit 1; }
arch=$(dpkg --print-architecture)
: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
export SOURCE_DATE_EPOCH
build=build/deb
stage=$build/root
out=verdict_${version}_${arch}.deb
# who built it: DEB_MAINTAINER, else the author of the last commit
maint=${DEB_MAINTAINER:-$(git log -1 --format='%an <%ae>' 2>/dev/null || true)}
[ -n "$maint" ] || { echo "deb: set DEB_MAINTAINER='Name <address>'" >&2; exit 1; }

# the binary, with Debian's hardening flags (all of them: PIE, bindnow)
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
make -s BUILD=$build OPT="" CFLAGS="$cflags" LDFLAGS="$ldflags" $build/verdict

rm -rf "$stage"
make -s install DESTDIR="$top/$stage" PREFIX=/usr VERDICT_BIN=$build/verdict \
	ZSHCOMPDIR=/usr/share/zsh/vendor-completions
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
	"$stage/usr/bin/verdict"

# Debian's places: compressed manuals and changelogs, the copyright file,
# the unit in /lib/systemd/system with the package's paths
doc=$stage/usr/share/doc/verdict
gzip -9n "$stage"/usr/share/man/man1/*.1 "$stage"/usr/share/man/man5/*.5
mv "$doc/CHANGELOG.md" "$doc/changelog"
gzip -9n "$doc/changelog"
date_rfc=$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" -R)
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$date_rfc/" -e "s|@MAINT@|$maint|" \
	"$here/changelog.Debian.in" > "$doc/changelog.Debian"
gzip -9n "$doc/changelog.Debian"
install -m 0644 "$here/copyright" "$doc/copyright"
install -d "$stage/lib/systemd/system" "$stage/usr/lib/sysusers.d"
sed -e 's|/usr/local/bin/verdict|/usr/bin/verdict|g' \
	-e 's|file:///usr/local/share/doc/verdict/serve.md|man:verdict-serve(1)|' \
	examples/verdict.service > "$stage/lib/systemd/system/verdict.service"
chmod 0644 "$stage/lib/systemd/system/verdict.service"
install -m 0644 "$here/sysusers.conf" "$stage/usr/lib/sysusers.d/verdict.conf"

# control: Depends from the binary's libraries
install -d "$stage/DEBIAN"
install -m 0755 "$here/postinst" "$stage/DEBIAN/postinst"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/debian"
printf 'Source: verdict\n\nPackage: verdict\nArchitecture: any\n' > "$tmp/debian/control"
shlibs=$(cd "$tmp" && dpkg-shlibdeps -O "$top/$stage/usr/bin/verdict" |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "deb: dpkg-shlibdeps found no libraries" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	-e "s/@DEPENDS@/$shlibs/" -e "s|@MAINT@|$maint|" "$here/control.in" > "$stage/DEBIAN/control"
(cd "$stage" && find . -type f ! -path './DEBIAN/*' | sed 's|^\./||' | LC_ALL=C sort |
	xargs md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" > /dev/null
echo "deb: $out"
dpkg-deb -f "$out" Package Version Architecture Depends
