# test_manpages.sh - the manuals verdict(1), verdict-serve(1),
# verdict-deploy(1) and verdict-suite(5): groff and man render them
# without a warning; every long option a command's --help lists is in
# its page, every check type of `verdict types` is in verdict-suite(5);
# `make install` puts the pages, the completions, the docs and the schema
# under PREFIX (as the package does) and `make uninstall` takes them away.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
top=$(cd "$here/../.." && pwd)
export LC_ALL=C.UTF-8 MANWIDTH=80

for p in verdict.1 verdict-serve.1 verdict-deploy.1 verdict-suite.5; do
	f=$top/docs/$p
	w=$(groff -ww -z -man -t "$f" 2>&1)
	assert_eq "$p: groff -ww -z -man warns about nothing" "$w" ""
	w=$(man --warnings -l "$f" 2>&1 > "$T/$p.txt")
	assert_eq "$p: man -l warns about nothing" "$w" ""
	assert_match "$p: renders a NAME section" "$(head -c 400 "$T/$p.txt")" "NAME"
done

# page_has NAME PAGE REGEX: the rendered PAGE has a line matching REGEX
page_has() {
	if grep -Eq -- "$3" "$T/$2.txt"; then echo "ok: $1"; else fail "$1: no line of $2 matches /$3/"; fi
}

# options from --help, in the page of their command
page_of() {
	case $1 in
	run | init) echo verdict.1 ;;
	serve) echo verdict-serve.1 ;;
	*) echo verdict-deploy.1 ;;
	esac
}
for c in run serve init deploy rollback history status; do
	p=$(page_of $c)
	for o in $("$VERDICT" $c --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		[ "$o" = --help ] && [ $c = run ] && continue
		page_has "$p names '$c $o'" $p "(^|[^a-z-])$o([^a-z-]|$)"
	done
done
for t in $("$VERDICT" types); do
	page_has "verdict-suite.5 names the type $t" verdict-suite.5 "^ {7}$t( |\$)"
done
# the commands of `verdict --help` in verdict(1)
for c in $("$VERDICT" --help | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p'); do
	page_has "verdict.1 names the command $c" verdict.1 "(^|[^a-z])$c([^a-z]|\$)"
done

# make install / uninstall under a DESTDIR
make -s -C "$top" install DESTDIR="$T/inst" PREFIX=/usr VERDICT_BIN="$VERDICT" > "$T/install.log" 2>&1 ||
	fail "make install: $(tail -5 "$T/install.log")"
for f in usr/bin/verdict usr/share/man/man1/verdict.1 usr/share/man/man1/verdict-serve.1 \
	usr/share/man/man1/verdict-deploy.1 usr/share/man/man5/verdict-suite.5 \
	usr/share/bash-completion/completions/verdict usr/share/zsh/site-functions/_verdict \
	usr/share/fish/vendor_completions.d/verdict.fish usr/share/doc/verdict/serve.md \
	usr/share/doc/verdict/deploy.md usr/share/doc/verdict/examples/serve.json \
	usr/share/verdict/suite.schema.json; do
	if [ -f "$T/inst/$f" ]; then echo "ok: installed $f"; else fail "make install did not install $f"; fi
done
# man finds the installed pages by name
w=$(MANPATH="$T/inst/usr/share/man" man --warnings verdict-suite 2>&1 > "$T/man.txt")
assert_eq "man verdict-suite: no warning" "$w" ""
assert_match "man verdict-suite: the page" "$(head -5 "$T/man.txt")" "VERDICT-SUITE\(5\)"
make -s -C "$top" uninstall DESTDIR="$T/inst" PREFIX=/usr > /dev/null 2>&1
left=$(find "$T/inst" -type f | sed "s|^$T/inst/||")
assert_eq "make uninstall leaves no file" "$left" ""
finish
