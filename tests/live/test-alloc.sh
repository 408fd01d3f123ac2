#!/bin/sh
# --kind alloc, launched (cprof's preload library) and attached (uprobes on
# the allocator, or the preload library's hooks in a process started with
# it), on a workload that allocates known amounts from known sites
# (tests/workloads/allocs.c prints them), on sort(1) and a C++ program
# building maps with threads; read back by go tool pprof. The sampling rate
# is 32 KiB rather than 512 KiB so that every site gets hundreds of samples
# and the bounds (±20 % allocated, ±25 % in use) are several standard
# errors wide.
. "$SRCDIR/lib.sh"
require_perf
require_go
[ -e /sys/bus/event_source/devices/uprobe ] || skip_all "no uprobe PMU on this kernel"

RATE=32768
# The workload's stacks are under 1 KiB deep; at this rate its sampled
# allocations (and, attached, every allocator call) come in bursts whose
# default 16 KiB stack copies overflow cprof's queue on two CPUs under
# ASan (a quarter lost). 4 KiB copies keep the whole stack, and the test
# about the estimates.
ALLOC_OPTS="--alloc-rate 32K --call-graph dwarf,4096"
PRELOAD=$(dirname "$CPROF")/../preload/libcprof-alloc.so

# measured NAME FILE: what the workload printed for NAME.
measured() {
	awk -v n="$1" '$1 == n { print $2 }' "$2"
}

# cum NAME FILE INDEX [FLAGS...]: function NAME's cum for sample type INDEX (bytes or a count).
cum() {
	name=$1
	file=$2
	index=$3
	shift 3
	pprof -top -unit=B -sample_index="$index" "$@" "$file" |
		awk -v n="$name" '$6 == n && NF == 6 { v = $4; sub(/B$/, "", v); print v + 0; exit }'
}

# ratio A B: A / B, to 3 places.
ratio() {
	awk -v a="${1:-0}" -v b="$2" 'BEGIN { if (b + 0 == 0) print "nan"; else printf "%.3f", a / b }'
}

# sites WHAT PROFILE OUT [SCALE]: each site's allocated bytes within 20 % of
# the workload's (times SCALE, for copies that also ran it), what site_kept
# kept in use within 25 %, and the freed sites' in-use near nothing.
sites() {
	what=$1
	prof=$2
	out=$3
	scale=${4:-1}
	for site in big kept zeroed; do
		want=$(($(measured "$site" "$out") * scale))
		r=$(ratio "$(cum "site_$site" "$prof" alloc_space)" "$want")
		check "$what: site_$site allocated its $want bytes ±20 % (${r}×)" within "$r" 0.8 1.2
	done
	want=$(($(measured kept "$out") / 1024 * scale))
	r=$(ratio "$(cum site_kept "$prof" alloc_objects)" "$want")
	check "$what: site_kept made its $want allocations ±20 % (${r}×)" within "$r" 0.8 1.2
	want=$(($(measured kept_inuse "$out") * scale))
	r=$(ratio "$(cum site_kept "$prof" inuse_space)" "$want")
	check "$what: site_kept holds its $want bytes in use ±25 % (${r}×)" within "$r" 0.75 1.25
	a=$(cum site_big "$prof" inuse_space)
	b=$(cum site_zeroed "$prof" inuse_space)
	freed=$((${a:-0} + ${b:-0}))
	check "$what: the freed sites hold nothing in use ($freed bytes)" \
		[ "$freed" -le $(($(measured big "$out") / 100)) ]
}

# leaf FUNC SITE PROFILE: every allocation stack through SITE starts at FUNC.
leaf() {
	pprof -traces -sample_index=alloc_space "$3" | awk -v f="$1" -v s="$2" '
		/^-----------\+/ { if (site) { n++; if (first != f) bad++ } first = ""; site = 0; next }
		/^ +[0-9.]+[kMG]?B +/ { first = $2; next }
		$1 == s { site = 1 }
		END { if (site) { n++; if (first != f) bad++ } exit !(n > 0 && bad == 0) }'
}

# 1. Launched: the preload library samples, cprof unwinds what it sampled.
"$CPROF" record --kind alloc $ALLOC_OPTS -o "$tmp/launch.pb.gz" -- "$ALLOCS" \
	>"$tmp/launch.out" 2>"$tmp/launch.err"
check "record --kind alloc -- COMMAND exits 0" [ $? -eq 0 ]
pprof -raw "$tmp/launch.pb.gz" >"$tmp/raw"
check "Go's four heap sample types" \
	grep -q "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes" "$tmp/raw"
check "period type space/bytes, the rate as period" \
	sh -c "grep -q '^PeriodType: space bytes' '$tmp/raw' && grep -q '^Period: $RATE\$' '$tmp/raw'"
pprof -top "$tmp/launch.pb.gz" >"$tmp/top"
check "go tool pprof shows inuse_space by default" grep -q "^Type: inuse_space" "$tmp/top"
sites launched "$tmp/launch.pb.gz" "$tmp/launch.out"
check "stacks start at malloc under site_big" leaf malloc site_big "$tmp/launch.pb.gz"
check "and at calloc under site_zeroed" leaf calloc site_zeroed "$tmp/launch.pb.gz"
"$CPROF" report --sample-index alloc_objects "$tmp/launch.pb.gz" >"$tmp/report" 2>&1
check "cprof report --sample-index alloc_objects" \
	awk '$6 == "site_kept" { found = 1 } END { exit !found }' "$tmp/report"

# 2. Threads: four at once, each a quarter of every site.
"$CPROF" -q record --kind alloc $ALLOC_OPTS -o "$tmp/threads.pb.gz" -- "$ALLOCS" threads \
	>"$tmp/threads.out"
check "threads: record exits 0" [ $? -eq 0 ]
sites threads "$tmp/threads.pb.gz" "$tmp/threads.out"
n=$(pprof -tags -sample_index=alloc_space "$tmp/threads.pb.gz" |
	awk '/^ *tid:/ { t = 1; next } t && /^ *[a-z]+:/ { t = 0 } t && NF { n++ } END { print n + 0 }')
check "threads: samples from the 4 threads ($n tids)" [ "$n" -ge 4 ]

# 3. Fork: the child runs site_kept too, and exits holding it.
"$CPROF" -q record --kind alloc $ALLOC_OPTS -o "$tmp/fork.pb.gz" -- "$ALLOCS" fork \
	>"$tmp/fork.out"
check "fork: record exits 0" [ $? -eq 0 ]
r=$(ratio "$(cum site_kept "$tmp/fork.pb.gz" alloc_space)" $((2 * $(measured kept "$tmp/fork.out"))))
check "fork: site_kept allocated twice its bytes, parent and child, ±20 % (${r}×)" within "$r" 0.8 1.2
r=$(ratio "$(cum site_kept "$tmp/fork.pb.gz" inuse_space)" $((2 * $(measured kept_inuse "$tmp/fork.out"))))
check "fork: and both held theirs when they exited, ±25 % (${r}×)" within "$r" 0.75 1.25
n=$(pprof -tags "$tmp/fork.pb.gz" | awk '/^ *pid:/ { t = 1; next } t && /^ *[a-z]+:/ { t = 0 } t && NF { n++ } END { print n + 0 }')
check "fork: two processes ($n pids)" [ "$n" -eq 2 ]

# attach NAME [ENV...]: start the workload waiting on a FIFO (with ENV), attach
# cprof to it, let it go, and wait for both.
attach() {
	name=$1
	shift
	rm -f "$tmp/go"
	mkfifo "$tmp/go"
	env "$@" "$ALLOCS" x "$tmp/go" >"$tmp/$name.out" &
	pid=$!
	start_record "$tmp/$name.err" -- record --kind alloc $ALLOC_OPTS -p "$pid" \
		-o "$tmp/$name.pb.gz"
	echo go >"$tmp/go"
	wait "$pid"
	wait "$rec"
	check "$name: record -p exits 0 when the process does" [ $? -eq 0 ]
}

# 4. Attached: uprobes on libc's malloc family, every call trapped.
attach attach
sites attached "$tmp/attach.pb.gz" "$tmp/attach.out"
libc_leaf() {
	leaf __libc_malloc site_big "$1" || leaf malloc site_big "$1"
}
check "attached: stacks start at libc's malloc under site_big" libc_leaf "$tmp/attach.pb.gz"
check "attached: the summary says what the traps cost" grep -q "allocator calls trapped" "$tmp/attach.err"

# 5. Attached to a process started with the library preloaded: its hooks, its rate.
attach service LD_PRELOAD="$PRELOAD" CPROF_ALLOC_RATE=$RATE
sites "preloaded, attached" "$tmp/service.pb.gz" "$tmp/service.out"
check "preloaded, attached: its own malloc's hooks, not traps" \
	sh -c "! grep -q 'allocator calls trapped' '$tmp/service.err'"
check "preloaded, attached: stacks start at malloc" leaf malloc site_big "$tmp/service.pb.gz"

# 6. sort(1) with threads, launched: its output unchanged, its allocations profiled.
awk 'BEGIN { srand(7); for (i = 0; i < 200000; i++) printf "%d %x\n", int(rand() * 1e9), i }' \
	>"$tmp/lines"
sort --parallel=2 -S 4M "$tmp/lines" >"$tmp/sorted.want"
"$CPROF" -q record --kind alloc --alloc-rate 4K -o "$tmp/sort.pb.gz" -- \
	sort --parallel=2 -S 4M -o "$tmp/sorted" "$tmp/lines"
check "sort under --kind alloc exits 0" [ $? -eq 0 ]
check "and sorts as without it" cmp -s "$tmp/sorted" "$tmp/sorted.want"
total=$(pprof -top -unit=B -sample_index=alloc_space "$tmp/sort.pb.gz" |
	awk '/^Showing nodes/ { v = $(NF - 1); sub(/B$/, "", v); print v + 0; exit }')
check "its allocations are profiled (${total:-0} bytes)" [ "${total:-0}" -gt 1000000 ]

# 7. C++ (tests/workloads/maps.cc): operator new and delete through malloc and
# free, from two threads, while main keeps 16 MiB.
if [ -x "$MAPS" ]; then
	"$CPROF" -q record --kind alloc --alloc-rate 64K -o "$tmp/maps.pb.gz" -- "$MAPS" \
		>"$tmp/maps.out"
	check "C++ maps in two threads: record exits 0" [ $? -eq 0 ]
	pprof -traces -sample_index=alloc_space "$tmp/maps.pb.gz" >"$tmp/maps.traces"
	check "operator new's allocations come through malloc, under build_map" \
		awk '/^ +[0-9.]+[kMG]?B +malloc$/ { m = 1; next } m && /operator new/ { o = 1 }
			o && /build_map/ { ok = 1 } /^-----/ { m = 0; o = 0 } END { exit !ok }' \
		"$tmp/maps.traces"
	check "what build_map built was freed: nothing in use" \
		[ "$(cum build_map "$tmp/maps.pb.gz" inuse_space)" = "" ]
	r=$(ratio "$(cum keep_blobs "$tmp/maps.pb.gz" inuse_space)" "$(measured kept "$tmp/maps.out")")
	check "keep_blobs holds its 16 MiB, ±25 % (${r}×)" within "$r" 0.75 1.25

	# Attached to it once its threads run: every thread's allocator calls.
	rm -f "$tmp/go"
	mkfifo "$tmp/go"
	"$MAPS" 1 "$tmp/go" >"$tmp/mapsp.out" &
	pid=$!
	start_record "$tmp/mapsp.err" -- record --kind alloc --alloc-rate 64K -p "$pid" \
		-o "$tmp/mapsp.pb.gz"
	echo go >"$tmp/go"
	wait "$pid"
	wait "$rec"
	check "attached to the C++ program: exits 0" [ $? -eq 0 ]
	n=$(pprof -tags -tagfocus=comm=maps "$tmp/mapsp.pb.gz" | awk '/^ *tid:/ { t = 1; next }
		t && /^ *[a-z]+:/ { t = 0 } t && NF { n++ } END { print n + 0 }')
	check "attached: allocations of its 3 threads ($n)" [ "$n" -eq 3 ]
	r=$(ratio "$(cum keep_blobs "$tmp/mapsp.pb.gz" inuse_space)" "$(measured kept "$tmp/mapsp.out")")
	check "attached: keep_blobs holds its 16 MiB, ±25 % (${r}×)" within "$r" 0.75 1.25
else
	ok "# SKIP no C++ compiler"
fi

# 8. Linux reads a uprobe PMU event's path from the memory of the task that
# inherits it: were it inherited, the target's every clone would fail (EFAULT).
"$CPROF" -q record -e "uprobe:$ALLOCS:site_kept" -o "$tmp/u.pb.gz" -- "$ALLOCS" threads \
	>/dev/null 2>"$tmp/err"
check "-e uprobe: the target still creates its threads" [ $? -eq 0 ]
"$CPROF" -q record -e "uprobe:$ALLOCS:site_kept" -o "$tmp/u.pb.gz" -- "$ALLOCS" fork \
	>/dev/null 2>"$tmp/err"
check "-e uprobe: and forks" [ $? -eq 0 ]

# 9. What cannot be done says so in one line.
"$CPROF" record --kind alloc -a -d 1 -o "$tmp/x.pb.gz" >/dev/null 2>"$tmp/err"
check "--kind alloc -a is a usage error (exit 2)" [ $? -eq 2 ]
check "naming what to give instead" grep -q "give -p PID or a command" "$tmp/err"
"$CPROF" record --kind alloc --alloc-rate lots -o "$tmp/x.pb.gz" -- true 2>"$tmp/err"
check "a bad --alloc-rate is a usage error" [ $? -eq 2 ]
CPROF_ALLOC_LIBRARY=$tmp/none.so "$CPROF" record --kind alloc -o "$tmp/x.pb.gz" -- true \
	2>"$tmp/err"
check "no preload library: exit 1" [ $? -eq 1 ]
check "one line saying so" sh -c "[ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q libcprof-alloc '$tmp/err'"
"$CPROF" record --kind alloc -p "$(unused_pid)" -o "$tmp/x.pb.gz" 2>"$tmp/err"
check "a process that is not there: exit 1" [ $? -eq 1 ]

done_testing
