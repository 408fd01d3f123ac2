#!/bin/sh
# Busy machines: processes that come and go by the hundred (a shell loop of
# /bin/true and sh -c, a parallel build) under -a and under -p of the
# shell that forks them. Nothing lost at this rate, every sample named,
# the short-lived children's stacks whole and symbolized, and a second
# recording reading the names and debug files the first kept.
. "$SRCDIR/lib.sh"
require_perf
require_go
command -v cc >/dev/null || skip_all "the build churn needs a C compiler (cc)"
chmod 0755 "$tmp"
churn=$SRCDIR/workloads/churn.sh

# summary FILE: "samples lost unnamed complete" from record's summary line.
summary() {
	awk '/^cprof: [0-9]+ samples/ {
		lost = $4; sub(/^\(/, "", lost); unnamed = 0; complete = 0
		if (match($0, /, [0-9]+ of processes that could not be named/))
			unnamed = substr($0, RSTART + 2) + 0
		if (match($0, /[0-9.]+% of stacks complete/))
			complete = substr($0, RSTART, RLENGTH) + 0
		print $2, lost + 0, unnamed, complete }' "$1"
}

# 1. -a while a shell loop and make -j2 churn out processes. 4 s: the
# processes that cannot be named are those alive at the very start (below),
# and 2 s made them count double against the bench's 10 (4 of 3,979 once).
sh "$churn" 6 build "$tmp/build" &
churner=$!
"$CPROF" record -a -d 4 -o "$tmp/all.pb.gz" 2>"$tmp/all.err"
check "record -a during the churn exits 0" [ $? -eq 0 ]
wait "$churner"
set -- $(summary "$tmp/all.err")
check "no record lost (${2:-?} of ${1:-?})" [ "${2:-1}" -eq 0 ]
# What truly cannot be known: a process born just before the events ran and
# gone before /proc was read. Fewer than 1 in 1,000 samples.
check "nearly every sample's process named (${3:-?} of ${1:-?} unnamed)" \
	sh -c "[ '${3:-1}' -lt \$(( ${1:-0} / 1000 + 1 )) ]"
# What is cut, under 2 % here: sh and cc sampled inside execve past the point
# of no return (the registers are the old image's, the stack the new one's: no
# walk can go on, nor can perf's) and cc1's stacks deeper than the 16 KiB copy.
# (vfork, whose return address waits in a register, was the third: 97.0-98.1 %
# over 11 runs of each build before it was unwound, 98.2-98.5 % after.) The bar
# leaves two points for a slow CI.
check "96 % or more of stacks complete (${4:-?} %)" within "${4:-0}" 96 100
pprof -tags "$tmp/all.pb.gz" >"$tmp/tags"

check "the compiler's short-lived processes are there (cc1)" grep -q " cc1$" "$tmp/tags"
pprof -traces -tagfocus=comm=cc1 "$tmp/all.pb.gz" >"$tmp/cc1.traces"
check "and their stacks are named down to main" grep -q " main$" "$tmp/cc1.traces"
pprof -traces -tagfocus=comm=true "$tmp/all.pb.gz" >"$tmp/true.traces"
check "/bin/true's brief life is named, ld.so's start-up included" \
	sh -c "grep -q '_dl_start\$' '$tmp/true.traces' || grep -q '__libc_start_main' '$tmp/true.traces'"
# (cc1's own stacks may be deeper than the 16 KiB stack copy; true's are not.) Not
# counted: a fault on the stack's own page as it grows leaves the kernel no stack to
# copy, and the stack is its pc, then [truncated]. Counted, and allowed below 1 %: the
# odd sample where the walk cannot step, as in the crt code gcc builds without CFI
# (_init, frame_dummy, __do_global_dtors_aux), where libdwfl and perf cannot either;
# `cprof -v -v` names each cut by file and offset. About 1 run in 10 had one such
# sample among its ~250 of /bin/true (once in ld.so, under _dl_relocate_object).
set -- $(awk '/^-----------\+/ { fault = 0; n++; next }
	/asm_exc_page_fault$/ { fault = 1 }
	/\[truncated\]$/ && !fault { cut++ } END { print cut + 0, n + 0 }' "$tmp/true.traces")
check "stacks of /bin/true cut short, but where the kernel could copy none: $1 of $2 (< 1 %)" \
	sh -c "[ $2 -gt 0 ] && [ \$(( $1 * 100 )) -lt $2 ]"

# 2. -p of a shell script that forks: its children are followed and named.
# Each round execs /bin/true, a 5 ms hot loop and a shell. /bin/true lives
# too briefly to be sampled for sure (a few of its 200 lives in a run; perf
# catches as few): the exec'd child checked by name is hot.
sh -c "while [ ! -e '$tmp/go' ]; do :; done
	i=0; while [ \$i -lt 200 ]; do /bin/true; '$HOT' 0.005
		sh -c 'j=0; while [ \$j -lt 200 ]; do j=\$((j+1)); done'; i=\$((i+1)); done" &
script=$!
start_record "$tmp/p.err" -- record -p "$script" -o "$tmp/p.pb.gz"
touch "$tmp/go"
wait "$rec"
check "record -p of a forking script ends with it, exit 0" [ $? -eq 0 ]
wait "$script"
set -- $(summary "$tmp/p.err")
check "nothing lost (${2:-?})" [ "${2:-1}" -eq 0 ]
pprof -tags "$tmp/p.pb.gz" >"$tmp/p.tags"
check "the children are followed: hot and sh both sampled" \
	sh -c "grep -q ' hot$' '$tmp/p.tags' && grep -q ' sh$' '$tmp/p.tags'"
check "and named, none [unknown]" sh -c "! grep -q '\[unknown\]' '$tmp/p.tags'"

# 3. What the first recordings kept in the cache: names by build id, and
# debug files inflated once. Only files that have compressed debug info get
# the latter (Debian's libc6-dbg, when installed).
check "names were kept by build id" sh -c "ls '$CPROF_CACHE_DIR' | grep -q '^names-'"
for f in "$CPROF_CACHE_DIR"/names-* "$CPROF_CACHE_DIR"/debug-*; do
	[ -e "$f" ] || continue
	[ "$(stat -c %a "$f")" = 600 ] || not_ok "$f is not private (mode $(stat -c %a "$f"))"
done
sh "$churn" 3 &
churner=$!
"$CPROF" record -a -d 1 -o "$tmp/warm.pb.gz" 2>"$tmp/warm.err"
wait "$churner"
pprof -traces -tagfocus=comm=sh "$tmp/warm.pb.gz" >"$tmp/warm.traces"
check "a second recording names the same code (from the cache)" \
	sh -c "grep -q '__libc_start_main\\|__libc_start_call_main\\|main\$' '$tmp/warm.traces'"
done_testing
