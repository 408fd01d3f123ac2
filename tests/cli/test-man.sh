#!/bin/sh
# The man pages (man/*.scd) against cprof itself: a page for cprof and for
# every subcommand its --help lists; each page defines exactly the options
# its command's --help lists, no more and no fewer; meson install puts the
# pages where man finds them (and the binary and the bash completion where
# Debian expects them), and man shows them.
. "$SRCDIR/lib.sh"
command -v man >/dev/null || skip_all "man (man-db) is not installed"
[ -f "$BUILDDIR/man/cprof.1" ] || skip_all "the man pages were not built (scdoc is not installed)"
man_dir="$SRCDIR/../man"

# page_options PAGE: the options a page defines (its lines that start with *-), sorted.
page_options() {
	grep -E '^\*-' "$man_dir/$1.1.scd" | grep -oE '\*--?[a-zA-Z][a-zA-Z-]*\*' | tr -d '*' | sort -u
}

"$CPROF" --help | awk '/^Commands:/ { on = 1; next } on && !NF { exit } on { print $1 }' >"$tmp/cmds"
for page in cprof $(sed 's/^/cprof-/' "$tmp/cmds"); do
	cmd=${page#cprof}
	cmd=${cmd#-}
	if [ ! -f "$man_dir/$page.1.scd" ]; then
		not_ok "$page(1): no page"
		continue
	fi
	help_options "$cmd" >"$tmp/$page.help"
	page_options "$page" >"$tmp/$page.man"
	if cmp -s "$tmp/$page.help" "$tmp/$page.man"; then
		ok "$page(1) defines exactly the options of its --help ($(wc -l <"$tmp/$page.help"))"
	else
		not_ok "$page(1) and ${cmd:-cprof} --help differ (< help, > man)"
		diff "$tmp/$page.help" "$tmp/$page.man" | diag
	fi
	for section in NAME SYNOPSIS DESCRIPTION 'EXIT STATUS' EXAMPLES 'SEE ALSO'; do
		grep -qx "# $section" "$man_dir/$page.1.scd" || not_ok "$page(1) has no $section"
	done
done
check "cprof(1) documents the environment and the cache" sh -c \
	"grep -q '^\*CPROF_CACHE_DIR\*' '$man_dir/cprof.1.scd' && grep -q '^\*DEBUGINFOD_URLS\*' '$man_dir/cprof.1.scd' && grep -q '^# FILES' '$man_dir/cprof.1.scd'"
check "cprof-record(1) names every kind record --help names" sh -c \
	"for k in \$(\"$CPROF\" record --help | awk '/--kind/ { on = 1; next } on && /^                             [a-z]/ { print \$1 } on && /^ +-/ { exit }'); do grep -q \"^\*\$k\*\$\" '$man_dir/cprof-record.1.scd' || exit 1; done"

# Installed as Debian expects, and shown by man.
meson install -C "$BUILDDIR" --no-rebuild --destdir "$tmp/inst" >"$tmp/install.log" 2>&1
check "meson install succeeds" [ $? -eq 0 ]
prefix=$(find "$tmp/inst" -type f -path '*/bin/cprof' | sed 's,/bin/cprof$,,')
check "the binary in bin/ ($prefix)" [ -x "$prefix/bin/cprof" ]
check "the pages in share/man/man1" [ -f "$prefix/share/man/man1/cprof-record.1" ]
check "the bash completion in share/bash-completion/completions" \
	[ -f "$prefix/share/bash-completion/completions/cprof" ]
check "the zsh completion in share/zsh/vendor-completions" \
	[ -f "$prefix/share/zsh/vendor-completions/_cprof" ]
MANWIDTH=100 man -M "$prefix/share/man" cprof-record >"$tmp/man.out" 2>"$tmp/man.err"
check "man cprof-record shows the page" grep -q "cprof-record - sample stacks" "$tmp/man.out"
check "with its options" grep -q -- "--every SECONDS" "$tmp/man.out"
for cmd in $(cat "$tmp/cmds"); do
	MANWIDTH=100 man -M "$prefix/share/man" "cprof-$cmd" >"$tmp/$cmd.out" 2>&1
	grep -q "^NAME" "$tmp/$cmd.out" || not_ok "man cprof-$cmd shows nothing"
done
ok "man shows a page for every subcommand"
done_testing
