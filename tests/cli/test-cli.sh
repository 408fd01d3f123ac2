#!/bin/sh
# The command line: help for every command, exit 2 for every bad usage, and
# one clear line with exit 1 for the errors that need no perf_event_open.
. "$SRCDIR/lib.sh"

# expect CODE DESCRIPTION COMMAND...: COMMAND exits CODE.
expect() {
	want=$1
	desc=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ]; then
		ok "$desc (exit $want)"
	else
		not_ok "$desc: exit $got, wanted $want"
		diag "$tmp/err"
	fi
}

# one_line PATTERN DESCRIPTION: the last command wrote exactly one stderr line, matching.
one_line() {
	if [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^cprof: .*$1" "$tmp/err"; then
		ok "$2"
	else
		not_ok "$2"
		diag "$tmp/err"
	fi
}

expect 0 "cprof --help" "$CPROF" --help
check "--help lists the commands" grep -q "^  record" "$tmp/out"
expect 0 "cprof -h" "$CPROF" -h
expect 0 "cprof --version" "$CPROF" --version
check "--version prints the version" grep -q "^cprof [0-9]" "$tmp/out"

for cmd in doctor record report serve snapshot top; do
	expect 0 "cprof $cmd --help" "$CPROF" "$cmd" --help
	check "$cmd --help starts with its synopsis" grep -q "^usage: cprof $cmd" "$tmp/out"
	check "$cmd --help has examples" grep -q "^Examples:" "$tmp/out"
	expect 0 "cprof $cmd -h" "$CPROF" "$cmd" -h
	expect 2 "cprof $cmd --bogus" "$CPROF" "$cmd" --bogus
	check "$cmd --bogus names the option" grep -q "unknown option '--bogus'" "$tmp/err"
	check "$cmd --bogus shows the synopsis" grep -q "^usage: cprof $cmd" "$tmp/err"
done

expect 2 "top with -a and -p" "$CPROF" top -a -p 1
expect 2 "top with two kinds" "$CPROF" top --kind cpu,offcpu
expect 2 "top -d 0.01 (under a tenth of a second)" "$CPROF" top -d 0.01
expect 2 "snapshot with neither -p nor -a" "$CPROF" snapshot
check "snapshot says what it needs" grep -q "^cprof: give -p PID or -a$" "$tmp/err"
expect 2 "snapshot with both -p and -a" "$CPROF" snapshot -a -p 1
expect 2 "snapshot --format bogus" "$CPROF" snapshot -p 1 --format bogus
check "and names the formats" grep -q "^cprof: unknown format 'bogus' (pprof, text, threads, perf-script or folded)$" "$tmp/err"
expect 2 "snapshot --repeat 0" "$CPROF" snapshot -p 1 --repeat 0
# shellcheck disable=SC2016
expect 2 "snapshot of cprof itself" sh -c 'exec "$0" snapshot -p $$' "$CPROF"
check "says it cannot" grep -q "^cprof: cannot snapshot cprof itself" "$tmp/err"

expect 2 "no command" "$CPROF"
expect 2 "unknown global option" "$CPROF" --bogus
expect 2 "unknown command" "$CPROF" frobnicate
one_line "'frobnicate' is not a cprof command" "unknown command says so"
expect 2 "record without a target" "$CPROF" record
expect 2 "record with two targets" "$CPROF" record -a -p 1
expect 2 "record -F 12abc" "$CPROF" record -F 12abc -a
check "the bad frequency is quoted" grep -q "invalid frequency '12abc'" "$tmp/err"
expect 2 "record -F 0" "$CPROF" record -F 0 -a
expect 2 "record -d with junk" "$CPROF" record -d 1x -a
expect 2 "record -p with junk" "$CPROF" record -p 12,abc
expect 2 "record -C past the last CPU" "$CPROF" record -C 0-99999 -a
expect 2 "record --call-graph with a bad mode" "$CPROF" record --call-graph=lbr -a
expect 2 "record --call-graph=dwarf,7 (not a multiple of 8)" "$CPROF" record --call-graph=dwarf,7 -a
expect 2 "record -g --verify-unwind (nothing to verify)" "$CPROF" record -g --verify-unwind -a
check "it says why" grep -q "verify-unwind checks DWARF unwinding" "$tmp/err"
expect 2 "record --call-graph=dwarf,65536 (over 65528)" "$CPROF" record --call-graph=dwarf,65536 -a
expect 2 "record --call-graph=dwarf,abc" "$CPROF" record --call-graph=dwarf,abc -a
expect 2 "record --call-graph=dwarfish" "$CPROF" record --call-graph=dwarfish -a
expect 2 "record -e with an unknown event" "$CPROF" record -e no-such-event -a
expect 2 "record --kind with an unknown kind" "$CPROF" record --kind no-such-kind -a
check "the unknown kind is named" grep -q "unknown kind 'no-such-kind'" "$tmp/err"
expect 2 "record -o without a value" "$CPROF" record -a -o
expect 2 "report -n 0" "$CPROF" report -n 0
expect 2 "report with two files" "$CPROF" report a.pb.gz b.pb.gz
expect 2 "report --nodefraction 2" "$CPROF" report --nodefraction 2
expect 2 "report --nodefraction nan" "$CPROF" report --nodefraction nan
expect 2 "report --max-memory 12x" "$CPROF" report --max-memory 12x
check "the bad size is quoted" grep -q "invalid memory size '12x'" "$tmp/err"
expect 2 "report --max-memory below 1M" "$CPROF" report --max-memory 1000
expect 2 "record with -p and -t" "$CPROF" record -p 1 -t 1
expect 2 "record -t with junk" "$CPROF" record -t 1,x
tid=$(unused_pid)
expect 1 "record -t of a thread that does not exist" "$CPROF" record -t "$tid" -d 1
one_line "cannot profile tid $tid: No such process" "missing tid: one clear line"

# Errors a user can cause that need no perf_event_open.
pid=$(unused_pid)
expect 1 "record -p of a pid that does not exist" "$CPROF" record -p "$pid" -d 1
one_line "cannot profile pid $pid: No such process" "missing pid: one clear line"

expect 1 "record into a directory that does not exist" \
	"$CPROF" record -o /nonexistent/dir/out.pb.gz -- true
one_line "cannot write '/nonexistent/dir/out.pb.gz': No such file or directory" \
	"unwritable output: one clear line, before recording"
mkdir "$tmp/adir"
expect 1 "record onto a directory" "$CPROF" record -o "$tmp/adir" -- true
one_line "cannot write '$tmp/adir': Is a directory" "output is a directory: one clear line"
check "no temporary file is left behind" sh -c "! ls '$tmp' | grep -q 'tmp\.'"

expect 1 "report of a missing file" "$CPROF" report "$tmp/missing.pb.gz"
one_line "cannot read '$tmp/missing.pb.gz': No such file or directory" "missing file: one line"
printf 'hello, I am not a profile\n' >"$tmp/text"
expect 1 "report of a text file" "$CPROF" report "$tmp/text"
one_line "it is not a valid pprof profile" "text file: one line"
head -c 4096 /dev/urandom >"$tmp/random"
expect 1 "report of random bytes" "$CPROF" report "$tmp/random"
printf 'not a profile, but gzip' | gzip >"$tmp/notprofile.gz"
expect 1 "report of gzip that holds no profile" "$CPROF" report "$tmp/notprofile.gz"
one_line "it is not a valid pprof profile" "gzip of junk: one line"
head -c 400 /dev/urandom | gzip | head -c 100 >"$tmp/cut.gz"
expect 1 "report of truncated gzip" "$CPROF" report "$tmp/cut.gz"
one_line "its gzip data is corrupt or truncated" "truncated gzip: one line"
: >"$tmp/empty"
expect 1 "report of an empty file" "$CPROF" report "$tmp/empty"
expect 1 "report of a directory" "$CPROF" report "$tmp/adir"

done_testing
