#!/bin/sh
# DWARF unwinding, the default: whole stacks through code built without
# frame pointers (the workload and Debian's libc and libz), threads,
# dlopen/dlclose, fork, exec, and stacks deeper than the stack copy; the
# fast walk checked against libdwfl's on each of those, a shell, CPython and
# node's JIT code.
. "$SRCDIR/lib.sh"
require_perf
require_go

# record NAME ARGS...: record nofp ARGS into NAME.pb.gz; the summary goes to NAME.err.
record() {
	name=$1
	shift
	"$CPROF" record -o "$tmp/$name.pb.gz" -- "$NOFP" "$@" 2>"$tmp/$name.err"
	check "record nofp $* exits 0" [ $? -eq 0 ]
	pprof -top "$tmp/$name.pb.gz" >"$tmp/$name.top"
	pprof -traces "$tmp/$name.pb.gz" >"$tmp/$name.traces"
}

# 1. Hot code under libc's qsort (a callback) and under zlib's deflate, no frame pointers.
record sortzip sortzip 3
m=$(cum_pct main <"$tmp/sortzip.top")
check "at least 99 % of samples reach main (${m}%)" within "$m" 99 100
s=$(cum_pct sort_phase <"$tmp/sortzip.top")
z=$(cum_pct zip_phase <"$tmp/sortzip.top")
check "sort_phase ${s}% and zip_phase ${z}% match 60/40 within 5 points" \
	both_within "$s" 55 65 "$z" 35 45
c=$(cum_pct cmp_hot <"$tmp/sortzip.top")
check "the qsort callback is found under qsort (cmp_hot ${c}%)" within "$c" 40 65
check "stacks pass through libc's qsort" grep -q "qsort" "$tmp/sortzip.traces"
check "and through libz's deflate" grep -q " deflate$" "$tmp/sortzip.traces"
check "the summary reports complete stacks" grep -q "100.0% of stacks complete\|9[9]\.[0-9]% of stacks complete" "$tmp/sortzip.err"
check "and cprof's own CPU time" grep -q "cprof used [0-9.]* s of CPU" "$tmp/sortzip.err"

# 2. Threads: every sample of a worker reaches its start routine.
record threads threads 2 1
pprof -traces -tagfocus=comm=worker "$tmp/threads.pb.gz" >"$tmp/workers.traces"
check "worker threads were sampled" grep -q "comm:  worker" "$tmp/workers.traces"
# A thread is also sampled after its start routine returned (exiting in
# start_thread): those few stacks have no worker_main, but all reach
# start_thread, which clone3 (named __clone3 without libc's debug info) called.
n=$(traces_without worker_main <"$tmp/workers.traces")
total=$(grep -c '^-----------+' "$tmp/workers.traces")
check "worker stacks reach worker_main (all but $n of $((total - 1)); at most 1 %)" \
	[ "$n" -le $(((total + 99) / 100)) ]
n=$(traces_without start_thread <"$tmp/workers.traces")
check "and every one reaches start_thread ($n do not)" [ "$n" -eq 0 ]
check "below which is clone3, the thread's first frame" grep -Eq " (__)?clone3$" "$tmp/workers.traces"

# 3. dlopen, dlclose, dlopen: the second library lands where the first was.
record dl dlopen 2 "$PLUG_A" "$PLUG_B"
a=$(flat_pct plug_a_hot <"$tmp/dl.top")
b=$(flat_pct plug_b_hot <"$tmp/dl.top")
check "plug_a_hot ${a}% and plug_b_hot ${b}%: each library's own function, no stale mapping" \
	both_within "$a" 40 60 "$b" 40 60
m=$(cum_pct main <"$tmp/dl.top")
check "stacks through the plugins reach main (${m}%)" within "$m" 99 100

# 4. fork: parent and child, each symbolized in its own address space.
record fork fork 1
p=$(cum_pct parent_hot <"$tmp/fork.top")
c=$(cum_pct child_hot <"$tmp/fork.top")
check "parent_hot ${p}% and child_hot ${c}% are both there, about half each" \
	both_within "$p" 40 60 "$c" 40 60
check "the child's samples carry the child's pid" \
	sh -c "[ \$(grep -c 'pid:' '$tmp/fork.traces') -ge 2 ] && [ \$(grep 'pid:' '$tmp/fork.traces' | sort -u | wc -l) -eq 2 ]"

# 5. exec: the functions before and after exec, each from the right binary.
record exec exec 1 "$HOT" 1
e=$(cum_pct pre_exec_hot <"$tmp/exec.top")
h=$(cum_pct work <"$tmp/exec.top")
check "pre_exec_hot ${e}% before exec and hot's work ${h}% after" \
	both_within "$e" 40 60 "$h" 40 60

# 6. 500 frames of recursion: deeper than the 16 KiB stack copy.
record deep deep 500 1
check "deep stacks end in a [truncated] frame" grep -q " \[truncated\]$" "$tmp/deep.traces"
check "and are counted as incomplete" grep -q "[0-9.]*% of stacks complete" "$tmp/deep.err"
pct=$(sed -n 's/.* \([0-9.]*\)% of stacks complete.*/\1/p' "$tmp/deep.err")
check "the summary says most stacks were cut short (${pct}% complete)" within "$pct" 0 50
check "the stack still runs from the hot function down many recursions" \
	sh -c "[ \$(grep -c ' recurse$' '$tmp/deep.traces') -ge 100 ]"

# 7. The fast walk (cached .eh_frame rules) gives libdwfl's frames, sample by
# sample: --verify-unwind walks every stack both ways and counts differences.
# verify NAME COMMAND...: record with the check, -v, into NAME.err.
verify() {
	name=$1
	shift
	# In $tmp, where node's isolate-*.log goes.
	(cd "$tmp" && "$CPROF" -v record --verify-unwind -o "$tmp/$name.pb.gz" -- "$@") \
		2>"$tmp/$name.err"
	check "record --verify-unwind of $name exits 0" [ $? -eq 0 ]
	n=$(sed -n 's/.*verify-unwind: \([0-9]*\) of \([0-9]*\) fast walks.*/\1 \2/p' "$tmp/$name.err")
	check "$name: fast walks compared with libdwfl's, none differ ($n)" \
		sh -c "set -- $n; [ \"\$1\" = 0 ] && [ \"\$2\" -gt 100 ]"
	n=$(sed -n 's/.* \([0-9]*\) stacks walked by cached CFI rules, \([0-9]*\) by libdwfl.*/\1 \2/p' \
		"$tmp/$name.err")
	check "$name: nearly all stacks take the fast walk (fast, libdwfl: $n)" \
		sh -c "set -- $n; [ \"\$1\" -ge \$((95 * (\$1 + \$2) / 100)) ]"
}
verify sortzip "$NOFP" sortzip 1
verify threads "$NOFP" threads 2 1
verify dlopen "$NOFP" dlopen 2 "$PLUG_A" "$PLUG_B"
verify truncated "$NOFP" deep 500 1
verify fp-binary "$HOT" 1
# The shell (stripped, its own CFI only) at work, then many short-lived ls processes.
verify shell sh -c 'i=0; while [ $i -lt 600000 ]; do i=$((i + 1)); done
	i=0; while [ $i -lt 40 ]; do ls -l /usr/bin >/dev/null; i=$((i + 1)); done'
verify cpython python3 -c 'import json, zlib
for _ in range(300): zlib.compress(json.dumps(list(range(4000))).encode())'
if command -v node >/dev/null; then
	# JIT code has no file and no CFI: libdwfl steps over it by frame pointer.
	verify node node --perf-basic-prof -e \
		'function f(n) { return n < 2 ? n : f(n - 1) + f(n - 2); } f(37);'
elif [ "${CI:-}" = true ]; then
	not_ok "the JIT unwinding check needs node (no skips under CI)"
else
	ok "# SKIP the JIT unwinding check needs node"
fi

# 8. Frame pointers on request still work, for code built with them.
"$CPROF" record --call-graph=fp -o "$tmp/fp.pb.gz" -- "$HOT" 1 2>"$tmp/fp.err"
check "record --call-graph=fp exits 0" [ $? -eq 0 ]
pprof -top "$tmp/fp.pb.gz" >"$tmp/fp.top"
a=$(flat_pct hot_a <"$tmp/fp.top")
check "frame-pointer stacks give hot_a ~70 % (${a}%)" within "$a" 60 80
check "frame-pointer mode reports no unwinding" sh -c "! grep -q 'stacks complete' '$tmp/fp.err'"

done_testing
