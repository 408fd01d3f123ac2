#!/bin/sh
# The bash completion (completions/cprof.bash) against cprof itself: for
# every subcommand, the options it completes are exactly those its --help
# lists; --kind completes the kinds record --help names; -p completes
# running pids; files where a file is wanted.
. "$SRCDIR/lib.sh"
command -v bash >/dev/null || skip_all "bash is not installed"
comp="$SRCDIR/../completions/cprof.bash"

# complete WORDS...: what the completion offers for the last word, one a line, sorted.
complete_words() {
	bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _cprof
		printf "%s\n" "${COMPREPLY[@]}"' "$comp" "$@" | sort -u
}

complete_words cprof "" >"$tmp/cmds"
"$CPROF" --help | awk '/^Commands:/ { on = 1; next } on && !NF { exit } on { print $1 }' | sort -u >"$tmp/help.cmds"
check "subcommands: the ones cprof --help lists" sh -c "grep -vx -- '-.*' '$tmp/cmds' | cmp -s - '$tmp/help.cmds'"
for cmd in $(cat "$tmp/help.cmds"); do
	complete_words cprof "$cmd" - >"$tmp/$cmd.comp"
	help_options "$cmd" >"$tmp/$cmd.help"
	if cmp -s "$tmp/$cmd.comp" "$tmp/$cmd.help"; then
		ok "$cmd: completes exactly the options of its --help ($(wc -l <"$tmp/$cmd.help"))"
	else
		not_ok "$cmd: completion and --help differ"
		diff "$tmp/$cmd.help" "$tmp/$cmd.comp" | sed 's/^/# /'
	fi
done
complete_words cprof record --kind "" >"$tmp/kinds"
# The kinds are the lines of --kind's entry indented past its text (mawk has no {n}).
"$CPROF" record --help | awk '/--kind/ { on = 1; next }
	on && /^                             [a-z]/ { print $1 } on && /^ +-/ { exit }' |
	sort -u >"$tmp/help.kinds"
check "--kind: the kinds record --help names ($(tr '\n' ' ' <"$tmp/kinds"))" \
	sh -c "[ -s '$tmp/kinds' ] && cmp -s '$tmp/kinds' '$tmp/help.kinds'"
complete_words cprof record --kind cpu,of >"$tmp/comma"
check "--kind after a comma completes the next kind ($(cat "$tmp/comma"))" grep -qx "cpu,offcpu" "$tmp/comma"
complete_words cprof record -p "$$" >"$tmp/pids"
check "-p completes running pids (this shell's, $$)" grep -qx "$$" "$tmp/pids"
touch "$tmp/profile-x.pb.gz"
complete_words cprof report "$tmp/profile-x" >"$tmp/files"
check "report completes its input file" grep -qx "$tmp/profile-x.pb.gz" "$tmp/files"
complete_words cprof snapshot --format t >"$tmp/formats"
check "snapshot --format completes its formats" sh -c "[ \"\$(tr '\n' ' ' <'$tmp/formats')\" = 'text threads ' ]"

# zsh's (completions/_cprof), through a real interactive zsh.
if ! command -v zsh >/dev/null; then
	[ "${CI:-}" = true ] && not_ok "zsh is not installed (setup.sh test installs it)"
	done_testing
	exit
fi
zcomplete() {
	timeout 20 zsh "$SRCDIR/tools/zsh-complete.zsh" "$SRCDIR/../completions" "$@"
}
check "zsh: _cprof parses" zsh -n "$SRCDIR/../completions/_cprof"
zcomplete cprof "" >"$tmp/z.cmds"
check "zsh: subcommands: the ones cprof --help lists" \
	sh -c "grep -vx -- '-.*' '$tmp/z.cmds' | cmp -s - '$tmp/help.cmds'"
for cmd in $(cat "$tmp/help.cmds"); do
	zcomplete cprof "$cmd" - >"$tmp/z.$cmd.comp"
	help_options "$cmd" >"$tmp/$cmd.help"
	if cmp -s "$tmp/z.$cmd.comp" "$tmp/$cmd.help"; then
		ok "zsh: $cmd completes exactly the options of its --help"
	else
		not_ok "zsh: $cmd: completion and --help differ"
		diff "$tmp/$cmd.help" "$tmp/z.$cmd.comp" | diag
	fi
done
zcomplete cprof record --kind cpu,of >"$tmp/z.kind"
check "zsh: --kind after a comma completes the next kind ($(cat "$tmp/z.kind"))" grep -qx offcpu "$tmp/z.kind"
zcomplete cprof top -p "$$" >"$tmp/z.pids"
check "zsh: -p completes running pids (this shell's, $$)" grep -qx "$$" "$tmp/z.pids"
zcomplete cprof snapshot --format t >"$tmp/z.formats"
check "zsh: snapshot --format completes its formats" sh -c "[ \"\$(tr '\n' ' ' <'$tmp/z.formats')\" = 'text threads ' ]"
done_testing
