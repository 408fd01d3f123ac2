#!/bin/sh
# Interop with Go: cprof report reads profiles written by Go's runtime/pprof
# and prints the same table as go tool pprof -top.
. "$SRCDIR/lib.sh"
require_go

# Built fresh in the suite, with the Go toolchain the setup step installs.
if ! go_build "$tmp/cpuprof" cpuprof.go 2>"$tmp/build.err"; then
	not_ok "build the Go program"
	diag "$tmp/build.err"
	done_testing
	exit 1
fi
ok "build the Go program"
"$tmp/cpuprof" "$tmp/cpu.pprof" "$tmp/heap.pprof"
check "the Go program writes its CPU and heap profiles" [ -s "$tmp/cpu.pprof" -a -s "$tmp/heap.pprof" ]

for kind in cpu heap; do
	f=$tmp/$kind.pprof
	"$CPROF" report "$f" >"$tmp/cprof.out" 2>"$tmp/err"
	check "cprof report reads Go's $kind profile" [ $? -eq 0 ]
	top_rows <"$tmp/cprof.out" >"$tmp/cprof.rows"
	pprof -top "$f" | top_rows >"$tmp/pprof.rows"
	if [ -s "$tmp/cprof.rows" ] && cmp -s "$tmp/cprof.rows" "$tmp/pprof.rows"; then
		ok "cprof report and go tool pprof -top agree row for row on Go's $kind profile"
	else
		not_ok "cprof report and go tool pprof -top disagree on Go's $kind profile"
		diff "$tmp/pprof.rows" "$tmp/cprof.rows" | diag
	fi
	"$CPROF" report --traces "$f" | sed -n '/^-----------+/,$p' >"$tmp/cprof.traces"
	pprof -traces "$f" | sed -n '/^-----------+/,$p' >"$tmp/pprof.traces"
	if [ -s "$tmp/cprof.traces" ] && cmp -s "$tmp/cprof.traces" "$tmp/pprof.traces"; then
		ok "cprof report --traces and go tool pprof -traces agree on Go's $kind profile"
	else
		not_ok "cprof report --traces and go tool pprof -traces disagree on Go's $kind profile"
		diff "$tmp/pprof.traces" "$tmp/cprof.traces" | head -20 | diag
	fi
done

"$CPROF" report "$tmp/cpu.pprof" >"$tmp/cpu.top"
a=$(flat_pct main.spin <"$tmp/cpu.top")
check "Go's spin dominates the CPU profile (${a}%)" within "$a" 80 100
"$CPROF" report -i alloc_space "$tmp/heap.pprof" >"$tmp/heap.top"
check "--sample-index by name picks alloc_space" grep -q "main.allocBig" "$tmp/heap.top"
"$CPROF" report -i 0 "$tmp/heap.pprof" >/dev/null
check "--sample-index by number" [ $? -eq 0 ]
"$CPROF" report -i no_such_type "$tmp/heap.pprof" 2>"$tmp/err"
check "an unknown sample type is an error" [ $? -eq 1 ]
check "that names the type" grep -q "has no sample type 'no_such_type'" "$tmp/err"

done_testing
