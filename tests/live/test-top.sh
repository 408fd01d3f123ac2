#!/bin/sh
# cprof top in a real terminal: tmux runs it, keys go in with send-keys and
# the screen comes out with capture-pane. The workload's hot function on
# top, the grouping and the filter applied, s saving a profile go tool pprof
# reads, and the terminal restored (cooked mode, main screen) after q, after
# SIGTERM and after Ctrl-C. Every wait is for something on the screen or in
# a file, bounded.
. "$SRCDIR/lib.sh"
require_perf
require_go
command -v tmux >/dev/null || skip_all "tmux is not installed"

sock="cprof-test-$$"
tm() { tmux -L "$sock" "$@"; }
trap 'tm kill-server 2>/dev/null; kill "${hot_pid:-}" 2>/dev/null; rm -rf "$tmp"' EXIT
start_hot

# until_screen PATTERN: wait (up to 20 s) until the pane shows an extended regex.
until_screen() {
	i=0
	while [ $i -lt 200 ]; do
		tm capture-pane -p -t "$sess" >"$tmp/screen" 2>/dev/null
		grep -Eq -- "$1" "$tmp/screen" && return 0
		i=$((i + 1))
		sleep 0.1
	done
	diag "$tmp/screen"
	return 1
}

# until_file FILE: wait (up to 20 s) for FILE to exist.
until_file() {
	i=0
	while [ $i -lt 200 ] && [ ! -s "$1" ]; do
		i=$((i + 1))
		sleep 0.1
	done
	[ -s "$1" ]
}

# run_top NAME ARGS...: cprof top ARGS in a new tmux session, its pane a shell
# that records the exit status and the terminal's settings once top returns.
run_top() {
	name=$1
	shift
	sess=$name
	rm -f "$tmp/$name.exit" "$tmp/$name.stty"
	# A session each, the earlier ones left to their sleep: killing the last
	# one would take the server down while the next one connects. The shell
	# ignores Ctrl-C's SIGINT (top handles its own), so it lives to tell.
	tm new-session -d -x 150 -y 40 -s "$sess" \
		"sh -c 'trap \"\" INT; \"$CPROF\" top $* 2>\"$tmp/$name.err\"; echo \$? >\"$tmp/$name.exit\";
		stty -a >\"$tmp/$name.stty\"; exec sleep 120'"
}

# top_pid: the pid of cprof top in the pane (the pane's shell's child).
top_pid() {
	pgrep -P "$(tm display -p -t "$sess" '#{pane_pid}')" -x cprof
}

# restored NAME: top exited as expected and left the terminal as it found it.
restored() {
	until_file "$tmp/$1.exit" && until_file "$tmp/$1.stty" &&
		grep -Eq '(^| )icanon( |$)' "$tmp/$1.stty" && grep -Eq '(^| )echo( |$)' "$tmp/$1.stty" &&
		[ "$(tm display -p -t "$sess" '#{alternate_on}')" = 0 ]
}

run_top q -p "$hot_pid" -d 0.3 -o "$tmp/top.pb.gz"
check "the header counts samples and shows cprof's own CPU" until_screen "samples [1-9][0-9]* +lost 0 .*cprof [0-9.]+% CPU"
# The first row, once a refresh has seen enough samples to order them.
check "the hot function tops the table (hot_a, ~70 %)" until_screen "^ *[4-9][0-9]\.[0-9]+% +[0-9.]+% +hot_a$"
check "it is the first row" sh -c "awk '/^ *[0-9.]+% +[0-9.]+% / { print \$3; exit }' '$tmp/screen' | grep -qx hot_a"
check "main's cum is all of it" grep -Eq "^ +0\.00% +(99\.[5-9][0-9]|100\.00)% +main$" "$tmp/screen"

tm send-keys -t "$sess" g
check "g: per process, the workload named with its pid" until_screen "hot\[$hot_pid\] +hot_a$"
tm send-keys -t "$sess" g
check "g again: per thread" until_screen "thread +function"
tm send-keys -t "$sess" g / "hot_b" Enter
check "/hot_b: the filter is shown" until_screen "^filter: hot_b"
until_screen "^ *[0-9.]+% +[0-9.]+% +hot_b$" >/dev/null
check "and only hot_b's row is left" awk '/^ *[0-9.]+% +[0-9.]+% / { n++; if ($NF != "hot_b") bad++ }
	END { exit !(n > 0 && !bad) }' "$tmp/screen"
tm send-keys -t "$sess" / Enter c
check "an empty filter clears it; c: cumulative" until_screen "cumulative, function"
check "hot_a is back" until_screen "% +hot_a$"
tm send-keys -t "$sess" s
check "s: saved, and said so" until_screen "saved everything since the start \(.*top\.pb\.gz"
pprof -top "$tmp/top.pb.gz" >"$tmp/top.txt"
check "go tool pprof reads the saved profile: hot_a leads" \
	sh -c "awk '/ flat%/ { getline; print \$NF; exit }' '$tmp/top.txt' | grep -qx hot_a"
check "and it is a cprof top profile of the workload" grep -q "cprof top -p $hot_pid" "$tmp/top.txt"
tm send-keys -t "$sess" q
check "q: the terminal restored (cooked, echo, main screen)" restored q
check "q: exit 0 ($(cat "$tmp/q.exit"))" [ "$(cat "$tmp/q.exit")" = 0 ]

# Every 16 windows the symbolizer lets go of libdw's caches and opens the
# files again (symbolize_trim): 3 s at -d 0.1 is 30 windows, two trims.
run_top trim -p "$hot_pid" -d 0.1 -o "$tmp/trim.pb.gz"
check "30 refreshes of 0.1 s (3,000 samples of one busy thread)" \
	until_screen "samples [3-9][0-9][0-9][0-9] "
check "past two trims, hot_a still tops the table by name" \
	until_screen "^ *[4-9][0-9]\.[0-9]+% +[0-9.]+% +hot_a$"
tm send-keys -t "$sess" s
until_screen "saved everything since the start" >/dev/null
pprof -top "$tmp/trim.pb.gz" >"$tmp/trim.txt"
check "the saved profile, every window merged, names hot_a, hot_b, work and main" \
	sh -c "for f in hot_a hot_b work main; do grep -Eq \" \$f\\\$\" '$tmp/trim.txt' || exit 1; done"
tm send-keys -t "$sess" q
restored trim >/dev/null
check "and top ran through them to q: exit 0 ($(cat "$tmp/trim.exit" 2>/dev/null))" \
	[ "$(cat "$tmp/trim.exit" 2>/dev/null)" = 0 ]

# SIGTERM, as a service manager or kill(1) would end it, and Ctrl-C.
run_top term -a -d 0.5
check "-a by default shows the whole host" until_screen "cprof top: -a, decaying"
kill -TERM "$(top_pid)"
check "SIGTERM: the terminal restored" restored term
check "SIGTERM: exit 143, 128 + 15 ($(cat "$tmp/term.exit"))" [ "$(cat "$tmp/term.exit")" = 143 ]
run_top int -p "$hot_pid" -d 0.5
until_screen "hot_a" >/dev/null
tm send-keys -t "$sess" C-c
check "Ctrl-C: the terminal restored" restored int
check "Ctrl-C: exit 130 ($(cat "$tmp/int.exit"))" [ "$(cat "$tmp/int.exit")" = 130 ]

# Not a terminal: one line saying so, and a non-zero exit.
"$CPROF" top -p "$hot_pid" </dev/null >"$tmp/notty.out" 2>"$tmp/notty.err"
code=$?
check "without a terminal: exit 1 ($code) and one line saying what to use" \
	sh -c "[ $code -eq 1 ] && [ \$(wc -l <'$tmp/notty.err') -eq 1 ] && grep -q 'needs a terminal.*cprof record' '$tmp/notty.err'"
"$CPROF" top -- true 2>"$tmp/cmd.err"
code=$?
check "a command is refused with a usage error ($code)" sh -c "[ $code -eq 2 ] && grep -q 'takes no command' '$tmp/cmd.err'"
done_testing
